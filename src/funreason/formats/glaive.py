"""glaive-function-calling-v2 (glaiveai) in its raw text form: read only.

A row is `{"system": "SYSTEM: You are a helpful assistant with access to the following functions.
Use them if required -\\n{tool JSON}\\n\\n{tool JSON}", "chat": "USER: ...\\n\\n\\nASSISTANT:
<functioncall> {...} <|endoftext|>\\n\\n\\nFUNCTION RESPONSE: ...\\n\\n\\nASSISTANT: ... <|endoftext|>"}`.

The chat is cut into turns where a line starts with `USER:`, `ASSISTANT:` or `FUNCTION RESPONSE:`;
`<|endoftext|>` (glaive's end-of-turn token) is dropped. An assistant turn holding
`<functioncall> {"name": "f", "arguments": '{"a": 1}'}` calls; text before the marker is kept
(`meta["assistant_content"]` for a target, message content in history). Glaive writes `arguments`
as a single-quoted string holding JSON: that is read as a Python literal (`ast`, nothing
evaluated) whose string is then JSON. Where the quoted JSON itself holds an apostrophe (`'{"text":
"I'm late"}'`) no literal reader can take it; the text between the quotes is then accepted only
if it is a JSON object, and the row is counted in notes (`APOSTROPHES`). Anything else is a reject.
Every assistant turn is a target, one sample per turn (`turns` explains units and ids).

Tools are the JSON objects written one after another in the system text; a system prompt without
any ("with no access to external functions") offers none. The system text, without its `SYSTEM:`
marker, is kept as the system message, tool list included. Other top-level keys are kept in
`meta["unread"]`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from funreason.calls import CallParseError, parse_calls
from funreason.formats.rows import LostTurns, Note, need, read_rows, unread
from funreason.formats.turns import Turn, assistant_turn, bad_turn, builder, message_turn, split
from funreason.records import Rejects, Sample, ToolCall
from funreason.schema import normalize_tools

SOURCE = "glaive"
APOSTROPHES = "glaive calls whose quoted arguments hold an apostrophe (read as the JSON between the quotes)"
_MARKER = re.compile(r"(?:^|\n)[ \t]*(USER|ASSISTANT|FUNCTION RESPONSE):[ \t]*")
_ROLES = {"USER": "user", "FUNCTION RESPONSE": "tool"}
_END = "<|endoftext|>"
_CALL = "<functioncall>"
_QUOTED = re.compile(r"\{\s*\"name\"\s*:\s*\"([^\"\\]+)\"\s*,\s*\"arguments\"\s*:\s*'(.*)'\s*\}", re.DOTALL)


def read(path: str | Path, rejects: Rejects) -> Iterator[Sample]:
    """Stream `Sample`s (one per assistant turn) from a glaive source; bad rows and turns go to `rejects`."""
    return read_rows(path, rejects, from_row)


def from_row(row: dict[str, Any], default_id: str) -> list[Sample | Note | Exception]:
    """The samples of one glaive chat, one per assistant turn, and the turns it lost."""
    chat = need(row, "chat", str)
    pieces = _MARKER.split(chat)
    if pieces[0].strip():
        raise ValueError(f"chat: text before the first USER:/ASSISTANT: marker: {pieces[0].strip()[:60]!r}")
    roles, texts = pieces[1::2], pieces[2::2]
    units = max(1, roles.count("ASSISTANT"))
    system = row.get("system") or ""
    if not isinstance(system, str):
        raise LostTurns(f"system: expected a string, got {type(system).__name__}", units)
    system = system.strip().removeprefix("SYSTEM:").strip()
    try:
        tools = normalize_tools(tools_in_system(system))
    except ValueError as exc:
        raise LostTurns(str(exc), units) from None
    notes: list[Sample | Note | Exception] = []
    turns = []
    for i, (role, text) in enumerate(zip(roles, texts, strict=True)):
        label = f"chat turn {i} ({role})"
        text = text.replace(_END, "").strip()
        if role != "ASSISTANT":
            turns.append(message_turn(label, _ROLES[role], text))
            continue
        turn, tolerated = _assistant(text, label)
        turns.append(turn)
        if tolerated:
            notes.append(Note(APOSTROPHES))
    head = [{"role": "system", "content": system}] if system else []
    meta = unread(row, {"id", "system", "chat"})
    return [*split(turns, str(row.get("id") or default_id), builder(SOURCE, tools, head, meta)), *notes]


def tools_in_system(system: str) -> list[Any]:
    """The JSON objects written one after another from the first `{` of the system text."""
    decoder, tools = json.JSONDecoder(), []
    at = system.find("{")
    while at != -1:
        try:
            tool, end = decoder.raw_decode(system, at)
        except json.JSONDecodeError as exc:
            raise ValueError(f"system: tool {len(tools)} is not JSON ({exc.msg}, column {exc.colno})") from None
        tools.append(tool)
        rest = system[end:].lstrip()
        at = end + (len(system) - end - len(rest)) if rest.startswith("{") else -1
    return tools


def _assistant(text: str, label: str) -> tuple[Turn, bool]:
    """The turn, and whether its call needed the apostrophe tolerance."""
    if _CALL not in text:
        return assistant_turn(label, "", text), False
    beside, _, call = text.partition(_CALL)
    call = call.replace("</functioncall>", "").strip()
    try:
        return assistant_turn(label, "", parse_calls(call, "json"), beside.strip()), False
    except CallParseError as exc:
        quoted = _QUOTED.fullmatch(call)
        arguments = _json_object(quoted[2]) if quoted else None
        if arguments is None:
            return bad_turn(label, f"{label}: {_CALL}: {exc}", assistant=True), False
        return assistant_turn(label, "", [ToolCall(name=quoted[1], arguments=arguments)], beside.strip()), True


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
