"""TRL's conversational prompt-completion form: write only.

One row per sample: `{"prompt": [messages], "completion": [{"role": "assistant", "content": turn}],
"tools": [OpenAI-style tools]}`, where `turn` is `calls.format_turn(reasoning, answer)`, the text
FunReason trains on (`<think>\\n...\\n</think>\\n\\n[f(a=1)]`, calls in BFCL python syntax, or in
JSON for calls python cannot write, such as an argument named `from`: `calls.writable_syntax`).
TRL's `SFTTrainer` applies the chat template to prompt and completion (passing `tools` on) and, by
default, trains the completion only. Only these three keys are written (no id). Earlier assistant
turns' tool-call arguments are written as objects, not JSON strings: Hugging Face chat templates
print them with `tojson`, so a string would come out quoted twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from funreason.calls import Syntax, format_turn
from funreason.formats.rows import calls_from_json
from funreason.records import Sample, write_jsonl
from funreason.schema import to_openai_tools


def write(samples: Iterable[Sample], path: str | Path, syntax: Syntax = "python") -> int:
    """Write samples as TRL prompt-completion JSONL; returns how many were written."""
    return write_jsonl(path, (to_row(sample, syntax) for sample in samples))


def to_row(sample: Sample, syntax: Syntax = "python") -> dict[str, Any]:
    """One TRL row; `ValueError` naming the sample for calls no syntax can write (a NaN value)."""
    try:
        turn = format_turn(sample.reasoning, sample.answer, syntax)
    except ValueError as exc:
        raise ValueError(f"sample {sample.id!r}: {exc}") from None
    return {
        "prompt": [_template_message(message) for message in sample.messages],
        "completion": [{"role": "assistant", "content": turn}],
        "tools": to_openai_tools(sample.tools),
    }


def _template_message(message: dict[str, Any]) -> dict[str, Any]:
    if not message.get("tool_calls"):
        return message
    calls = []
    for i, call in enumerate(message["tool_calls"]):
        parsed = calls_from_json(call, f"tool_calls[{i}]")[0]
        function = {"name": parsed.name, "arguments": parsed.arguments}
        calls.append({**call, "function": function} if "function" in call else {"type": "function", "function": function})
    return {**message, "tool_calls": calls}
