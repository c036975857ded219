"""Hermes function calling (NousResearch hermes-function-calling-v1, Qwen's template): read only.

A row is a conversation, `{"conversations": [{"from", "value"}]}` (ShareGPT turns `system`,
`human`, `gpt`, `tool`) or `{"messages": [{"role", "content"}]}`, with Hermes tags:
- tools in a `<tools>...</tools>` block of the system prompt (or in a `tools` key): a list, one
  tool, or one tool per line, as JSON or as a Python literal (`{'name': 'f', ...}`, read with
  `ast.literal_eval`, which evaluates nothing);
- calls in `<tool_call>...</tool_call>` blocks of an assistant turn, each one call object (or a
  list), JSON or Python literal, `{"name", "arguments"}`; text outside the blocks (after any
  `<think>` reasoning) is kept: in `meta["assistant_content"]` for a target, as the message
  content for history; an assistant turn without blocks is a statement;
- tool results in `<tool_response>...</tool_response>` blocks of a `tool` turn, one tool message
  per block (a turn without blocks is one result as it is).
Every assistant turn is a target, one sample per turn (`turns` explains units and ids). The system
text is kept as it is, tool list included; other top-level keys (hermes-function-calling-v1's
`category`, `task`, ...) in `meta["unread"]`.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from funreason.calls import CallParseError, parse_calls, split_think
from funreason.formats.rows import LostTurns, Note, read_rows, unread
from funreason.formats.turns import Turn, assistant_turn, bad_turn, builder, message_turn, split
from funreason.records import Rejects, Sample
from funreason.schema import normalize_tools

SOURCE = "hermes"
_ROLES = {"system": "system", "human": "user", "user": "user", "tool": "tool", "observation": "tool"}
_ASSISTANT = {"gpt", "assistant"}
_TOOLS = re.compile(r"<tools>(.*?)</tools>", re.DOTALL)
_CALL = re.compile(r"<tool_call>.*?(?:</tool_call>|\Z)", re.DOTALL)
_RESPONSE = re.compile(r"<tool_response>(.*?)</tool_response>", re.DOTALL)


def read(path: str | Path, rejects: Rejects) -> Iterator[Sample]:
    """Stream `Sample`s (one per assistant turn) from a Hermes source; bad rows and turns go to `rejects`."""
    return read_rows(path, rejects, from_row)


def from_row(row: dict[str, Any], default_id: str) -> list[Sample | Note | Exception]:
    """The samples of one conversation, one per assistant turn, and the turns it lost."""
    key, role_key, text_key = ("conversations", "from", "value") if "conversations" in row else ("messages", "role", "content")
    raw = row.get(key)
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{key}: expected a non-empty list of turns (a 'conversations' or 'messages' list)")
    units = max(1, sum(isinstance(t, dict) and t.get(role_key) in _ASSISTANT for t in raw))
    try:
        pairs = [_fields(turn, f"{key}[{i}]", role_key, text_key) for i, turn in enumerate(raw)]
        system = row.get("system") if isinstance(row.get("system"), str) else ""
        system = system or next((text for role, text, _ in pairs if role == "system"), "")
        tools = normalize_tools(row["tools"]) if "tools" in row else tools_block(system, "system")
    except ValueError as exc:
        raise LostTurns(str(exc), units) from None
    turns = [turn for role, text, label in pairs for turn in _turns(role, text, label)]
    head = [{"role": "system", "content": row["system"]}] if isinstance(row.get("system"), str) and row["system"] else []
    meta = unread(row, {"id", key, "system", "tools", "targets"})
    return split(turns, str(row.get("id") or default_id), builder(SOURCE, tools, head, meta), row.get("targets"))


def tools_block(text: str, label: str) -> list[dict[str, Any]]:
    """The (normalised) tools of the filled `<tools>` block in `text`; `[]` if there is none."""
    # The prompt may name the tags first ("within <tools></tools> XML tags"): take the filled block.
    blocks = [b.strip() for b in _TOOLS.findall(text) if b.strip()]
    if not blocks:
        return []
    where = f"{label}: <tools> block"
    value = literal(blocks[-1])
    if value is None:
        lines = [literal(line) for line in blocks[-1].splitlines() if line.strip()]
        if any(item is None for item in lines):
            raise ValueError(f"{where}: neither JSON nor a Python literal (a list, one tool, or one tool per line)")
        value = lines
    return normalize_tools(value if isinstance(value, list) else [value])


def literal(text: str) -> Any:
    """`text` read as JSON, else as a Python literal (`ast.literal_eval`, never evaluated); None if neither."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        pass
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _fields(turn: Any, label: str, role_key: str, text_key: str) -> tuple[str, str, str]:
    if not isinstance(turn, dict):
        raise ValueError(f"{label}: expected a turn object, got {type(turn).__name__}")
    role, text = turn.get(role_key), turn.get(text_key)
    if not isinstance(role, str) or (role not in _ROLES and role not in _ASSISTANT):
        raise ValueError(f"{label}.{role_key}: unknown role {role!r}")
    if not isinstance(text, str):
        raise ValueError(f"{label}.{text_key}: expected a string, got {type(text).__name__}")
    return role, text, label


def _turns(role: str, text: str, label: str) -> list[Turn]:
    if role in _ASSISTANT:
        return [_assistant(text, label)]
    if _ROLES[role] == "tool":
        results = _RESPONSE.findall(text)
        return [message_turn(label, "tool", result.strip()) for result in results] or [message_turn(label, "tool", text)]
    return [message_turn(label, _ROLES[role], text)]


def _assistant(text: str, label: str) -> Turn:
    reasoning, rest = split_think(text)
    if "<tool_call>" not in rest:
        return assistant_turn(label, reasoning, rest)
    try:
        calls = parse_calls(rest, "hermes")
    except CallParseError as exc:
        return bad_turn(label, f"{label}: {exc}", assistant=True)
    return assistant_turn(label, reasoning, calls, _CALL.sub("", rest).strip())
