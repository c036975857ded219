"""Prompt text files and how a sample fills them (the LLM judge's and the teacher's prompts).

Prompts are plain text files shipped in the package, with `${conversation}`, `${tools}`,
`${reasoning}` and `${answer}` placeholders (`string.Template`; a literal dollar is `$$`). A prompt's
version is a hash of its text, so editing a file changes the version of whatever uses it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from string import Template
from typing import Any

from funreason.calls import render_calls, writable_syntax
from funreason.records import Sample, ToolCall


def load_prompt(package: str, name: str) -> str:
    """The text of `<package>/prompts/<name>.txt` (e.g. `load_prompt("funreason.refine", "format")`)."""
    return resources.files(package).joinpath("prompts", f"{name}.txt").read_text(encoding="utf-8")


def prompt_version(*texts: str) -> str:
    """A short hash of prompt texts: changes whenever one of them does."""
    digest = hashlib.sha256()
    for text in texts:
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def fill_prompt(template: str, sample: Sample, *, answer: str | None = None) -> str:
    """The prompt with the sample's conversation, tools, reasoning and answer filled in.

    `answer` replaces the rendered answer (e.g. the raw text the model wrote).
    """
    return Template(template).substitute(
        conversation=conversation_text(sample.messages),
        tools=json.dumps(sample.tools, ensure_ascii=False),  # no indent: that would take the slow pure-Python encoder
        reasoning=sample.reasoning.strip() or "(none)",
        answer=answer_text(sample.answer) if answer is None else answer,
    )


def answer_text(answer: Sequence[ToolCall] | str) -> str:
    """A statement as is; calls in BFCL python syntax, or JSON where python cannot carry them
    (`calls.writable_syntax`: a name like `get-weather` or `from`), never failing (NaN is shown)."""
    if isinstance(answer, str):
        return answer
    try:
        return render_calls(answer, writable_syntax(answer))
    except ValueError:  # a value no syntax carries: shown anyway, for the judge to see
        return json.dumps([call.model_dump() for call in answer], ensure_ascii=False, default=str)


def conversation_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """The turns before the answer: a lone user turn as its text, else one `[role] text` per turn."""
    if len(messages) == 1 and messages[0].get("role") == "user":
        return _content(messages[0].get("content"))
    lines = []
    for message in messages:
        role = str(message.get("role") or "user")
        if message.get("tool_calls"):
            lines.append(f"[{role}] " + "; ".join(_tool_call_text(call) for call in message["tool_calls"]))
            continue
        name = f" {message['name']}" if message.get("name") else ""
        lines.append(f"[{role}{name}] {_content(message.get('content'))}")
    return "\n".join(lines)


def _content(content: Any) -> str:
    """Message content as text: a string, or the text parts of an OpenAI content list."""
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return "" if content is None else str(content)


def _tool_call_text(call: Mapping[str, Any]) -> str:
    function = call.get("function") if isinstance(call.get("function"), Mapping) else call
    arguments = function.get("arguments", {})
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False, default=str)
    return f"{function.get('name', '?')}({arguments})"
