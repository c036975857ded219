"""OpenAI chat format, `{"messages": [...], "tools": [...]}`: read and write.

The last message is the target assistant turn. Its `tool_calls` (arguments as a JSON string, or an
object) become the answer; without them its content is a statement answer. The reasoning comes from
`reasoning_content` (or `reasoning`, as some servers name it), else from a `<think>...</think>`
block at the start of the content. Text beside `tool_calls` that is not reasoning has no place in a
`Sample`; it is kept in `meta["assistant_content"]`. Earlier turns stay in `messages` as they are;
other top-level keys of the row (`parallel_tool_calls`, ...) in `meta["unread"]`.

`arguments` is a JSON string, as the API specifies (an object is accepted too). A string whose
JSON content is again a string holding a JSON object (encoded twice, as OpenAI's own cookbook file
`drone_training.jsonl` has it) is decoded twice, in the target and in earlier turns, and the row
is counted in `Rejects.notes` (`TWICE_ENCODED`); earlier turns then hold the arguments encoded once.

The writer emits the same shape: tool-call ids `call_0, call_1, ...`, `reasoning_content` when there
is reasoning, `tools` in OpenAI's `{"type": "function", "function": ...}` form, and the sample's
`id` and `source` as extra top-level keys, so `read(write(samples))` gives the samples back
(`verdicts`, `history` and `meta` are not carried).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from funreason.calls import split_think
from funreason.formats.rows import Note, calls_from_json, check_messages, need, read_rows, unread
from funreason.records import Rejects, Sample, ToolCall, write_jsonl
from funreason.schema import to_openai_tools

SOURCE = "openai"
TWICE_ENCODED = "rows whose tool-call arguments were JSON-encoded twice (decoded twice)"


def read(path: str | Path, rejects: Rejects) -> Iterator[Sample]:
    """Stream `Sample`s from an OpenAI-messages JSONL file; malformed rows go to `rejects`."""
    return read_rows(path, rejects, from_row)


def from_row(row: dict[str, Any], default_id: str) -> Sample | list[Sample | Note]:
    messages = check_messages(need(row, "messages", list), "messages")
    if not messages or messages[-1]["role"] != "assistant":
        found = messages[-1]["role"] if messages else "no messages"
        raise ValueError(f"messages: the last turn must be the assistant's target turn (found {found!r})")
    messages = [_encoded_once(message) for message in messages]
    *context, target = messages
    reasoning, answer, extra = assistant_target(target, f"messages[{len(messages) - 1}]")
    sample = Sample(
        id=str(row.get("id") or default_id),
        source=row["source"] if isinstance(row.get("source"), str) else SOURCE,
        messages=context,
        tools=row.get("tools"),  # `Sample` normalises any tool dialect (OpenAI's included)
        reasoning=reasoning,
        answer=answer,
        meta={**unread(row, {"id", "source", "messages", "tools"}), **({"assistant_content": extra} if extra else {})},
    )
    twice = any(new is not old for new, old in zip(messages, row["messages"], strict=True))
    return [sample, Note(TWICE_ENCODED)] if twice else sample


def _encoded_once(message: dict[str, Any]) -> dict[str, Any]:
    """`message` with twice-encoded tool-call arguments decoded once (the same object if there are none)."""
    calls = message.get("tool_calls")
    if not isinstance(calls, list):
        return message
    fixed = [_call_encoded_once(call) for call in calls]
    if all(new is old for new, old in zip(fixed, calls, strict=True)):
        return message
    return {**message, "tool_calls": fixed}


def _call_encoded_once(call: Any) -> Any:
    function = call.get("function") if isinstance(call, dict) else None
    arguments = function.get("arguments") if isinstance(function, dict) else None
    if not isinstance(arguments, str):
        return call
    try:
        inner = json.loads(arguments)
        if not isinstance(inner, str) or not isinstance(json.loads(inner), dict):
            return call
    except json.JSONDecodeError:
        return call  # not twice-encoded; parsing the call reports what is wrong
    return {**call, "function": {**function, "arguments": inner}}


def assistant_target(message: dict[str, Any], label: str) -> tuple[str, list[ToolCall] | str, str]:
    """`(reasoning, answer, leftover content)` from an OpenAI assistant message."""
    content = message.get("content") or ""
    if not isinstance(content, str):
        raise ValueError(f"{label}.content: expected a string, got {type(content).__name__}")
    explicit = message.get("reasoning_content", message.get("reasoning"))
    if explicit is not None:
        reasoning, text = str(explicit).strip(), content.strip()
    else:
        reasoning, text = split_think(content)
    raw_calls = message.get("tool_calls")
    if raw_calls:
        return reasoning, calls_from_json(raw_calls, f"{label}.tool_calls"), text
    if not text:
        raise ValueError(f"{label}: the target turn has neither tool_calls nor content")
    return reasoning, text, ""


def write(samples: Iterable[Sample], path: str | Path) -> int:
    """Write samples as OpenAI chat JSONL; returns how many were written."""
    return write_jsonl(path, (to_row(sample) for sample in samples))


def to_row(sample: Sample) -> dict[str, Any]:
    return {
        "id": sample.id,
        "source": sample.source,
        "messages": [*sample.messages, assistant_message(sample.reasoning, sample.answer)],
        "tools": to_openai_tools(sample.tools),
    }


def assistant_message(reasoning: str, answer: list[ToolCall] | str) -> dict[str, Any]:
    """The target turn as an OpenAI assistant message (content `""` beside tool calls)."""
    message: dict[str, Any] = {"role": "assistant", "content": answer if isinstance(answer, str) else ""}
    if isinstance(answer, list):
        message["tool_calls"] = [
            {
                "id": f"call_{i}",
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
            }
            for i, call in enumerate(answer)
        ]
    if reasoning:
        message["reasoning_content"] = reasoning
    return message

