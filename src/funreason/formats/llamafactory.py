"""LLaMA-Factory v1 messages, whose content is a list of typed parts: read only.

A row is `{"messages": [{"role", "content": [{"type", "value"}, ...]}], "tools": <JSON string or
list>}`, as LLaMA-Factory's `reason_tool_use_demo_50.jsonl`. Part types: `text`; `reasoning` (an
assistant's chain of thought); `tool_call`, whose value is one call as JSON `{"name",
"arguments"}` (one part per call, so parallel calls are several parts). A content given as a plain
string is one text part. An assistant message's reasoning part becomes the reasoning, its
tool_call parts the calls, its text the statement, or beside calls the text kept in
`meta["assistant_content"]` (history: the message content). Two text or two reasoning parts in one
message, or a part of another type (image, ...), make the message unreadable: there is no one way
to join them. Every assistant message is a target, one sample per message (`turns`). Other
top-level keys are kept in `meta["unread"]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from funreason.formats.rows import LostTurns, Note, calls_from_json, check_messages, need, read_rows, unread
from funreason.formats.turns import Turn, assistant_turn, bad_turn, builder, message_turn, split
from funreason.records import Rejects, Sample
from funreason.schema import normalize_tools

SOURCE = "llamafactory"
_ROLES = ("system", "user", "assistant", "tool")


def read(path: str | Path, rejects: Rejects) -> Iterator[Sample]:
    """Stream `Sample`s (one per assistant message) from a LLaMA-Factory v1 source; bad rows go to `rejects`."""
    return read_rows(path, rejects, from_row)


def from_row(row: dict[str, Any], default_id: str) -> list[Sample | Note | Exception]:
    """The samples of one conversation, one per assistant message, and the messages it lost."""
    messages = check_messages(need(row, "messages", list), "messages")
    units = max(1, sum(message["role"] == "assistant" for message in messages))
    try:
        tools = normalize_tools(row.get("tools"))
    except ValueError as exc:
        raise LostTurns(str(exc), units) from None
    turns = [_turn(message, f"messages[{i}]") for i, message in enumerate(messages)]
    meta = unread(row, {"id", "messages", "tools", "targets"})
    return split(turns, str(row.get("id") or default_id), builder(SOURCE, tools, meta=meta), row.get("targets"))


def _turn(message: dict[str, Any], label: str) -> Turn:
    role = message["role"]
    assistant = role == "assistant"
    if role not in _ROLES:
        return bad_turn(label, f"{label}.role: unknown role {role!r}", assistant=False)
    try:
        parts = _parts(message.get("content"), f"{label}.content")
        if not assistant:
            if parts["reasoning"] or parts["tool_call"]:
                raise ValueError(f"{label}.content: a {role} message with reasoning or tool_call parts")
            return message_turn(label, role, parts["text"])
        calls = [call for value in parts["tool_call"] for call in calls_from_json(value, f"{label}.content: tool_call")]
    except ValueError as exc:
        return bad_turn(label, str(exc), assistant=assistant)
    if calls:
        return assistant_turn(label, parts["reasoning"], calls, parts["text"])
    return assistant_turn(label, parts["reasoning"], parts["text"])


def _parts(content: Any, label: str) -> dict[str, Any]:
    """`{"text": str, "reasoning": str, "tool_call": [values]}` from a content string or part list."""
    found: dict[str, Any] = {"text": "", "reasoning": "", "tool_call": []}
    if isinstance(content, str):
        found["text"] = content.strip()
        return found
    if not isinstance(content, list):
        raise ValueError(f"{label}: expected a list of parts or a string, got {type(content).__name__}")
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        value = part.get("value") if isinstance(part, dict) else None
        if kind not in found or not isinstance(value, str):
            raise ValueError(f"{label}[{i}]: expected a text, reasoning or tool_call part with a string value")
        if kind == "tool_call":
            found[kind].append(value)
        elif found[kind]:
            raise ValueError(f"{label}[{i}]: a second {kind} part; there is no one way to join them")
        else:
            found[kind] = value.strip()
    return found
