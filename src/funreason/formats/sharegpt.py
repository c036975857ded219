"""ShareGPT in LLaMA-Factory's function-calling form, and ToolACE's: read and write.

A row is `{"conversations": [{"from", "value"}], "system": str, "tools": <JSON string or list>}`
with turns `human`, `gpt`, `function_call`, `observation` (`user`, `assistant`, `tool` and
`system` turns are read too). A `function_call` value is JSON: one `{"name", "arguments"}` object
or a list of them (parallel calls).

Every assistant turn (`gpt`, `function_call`, `assistant`) is a target: the row gives one sample
per assistant turn, whose history is every turn before it, tool results included (`turns`
explains units, ids and what an unreadable turn costs). A row may name its targets in `"targets"`
(turn indices), as this module's writer does. Other top-level keys are kept in `meta["unread"]`.

Tools come from `tools`. A row without a `tools` key may write them in its system prompt as a JSON
list (ToolACE: "Here is a list of functions in JSON format that you can invoke:\\n[{...}]"). A
text turn that is a python call list naming offered tools, `[f(a=1), g(b='x')]`, is a call turn
(ToolACE writes its calls so, also with tool names python cannot read, `[Weather API(city="Oslo")]`:
an offered name is matched literally where a call's name stands); any other text turn is a statement. Hermes tags (`<tools>`, `<tool_call>`) are
refused, pointing to `--from hermes`.

Reasoning travels as a `<think>\\n...\\n</think>\\n\\n` prefix of the `gpt`/`function_call` value:
LLaMA-Factory strips that block from a function-call turn before parsing its JSON and puts it back
in front of the rendered call (its `thought_words`), so the reasoning is trained, as FunReason wants.

Not carried by the writer: tool-call ids (each turn's calls are numbered `call_0, ...` again on
reading), text beside an earlier turn's tool calls. LLaMA-Factory wants user/observation and
assistant turns to alternate, so the writer joins consecutive tool results into one observation
(a JSON list of their contents). The sample's `id` and `source` ride as extra top-level keys, and
`"targets"` names the last turn, so reading the row back gives the sample back.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from funreason.calls import CallParseError, format_turn, parse_calls, split_think
from funreason.formats.rows import LostTurns, Note, calls_from_json, need, read_rows, unread
from funreason.formats.turns import Turn, assistant_turn, bad_turn, builder, message_turn, split
from funreason.records import Rejects, Sample, ToolCall, write_jsonl
from funreason.schema import normalize_tools

SOURCE = "sharegpt"
_ROLES = {"human": "user", "user": "user", "observation": "tool", "tool": "tool", "system": "system"}
_ASSISTANT = {"gpt", "assistant", "function_call"}
_TAGS = {"user": "human", "system": "system"}  # other non-assistant roles are written as they are
_TOOL_LIST = re.compile(r"\[\s*\{")
_NAMED_LIST = re.compile(r"\[\s*\{\s*[\"']name[\"']")
_PYTHON_CALLS = re.compile(r"\[\s*([^\s(\[][^(]*?)\s*\(")
HERMES_HINT = "Hermes function calling: read this file with --from hermes"


def read(path: str | Path, rejects: Rejects) -> Iterator[Sample]:
    """Stream `Sample`s (one per assistant turn) from a ShareGPT source; bad rows and turns go to `rejects`."""
    return read_rows(path, rejects, from_row)


def from_row(row: dict[str, Any], default_id: str) -> list[Sample | Note | Exception]:
    """The samples of one conversation, one per target turn, and the targets it lost."""
    raw_turns = need(row, "conversations", list)
    if not raw_turns:
        raise ValueError("conversations: empty")
    units = max(1, sum(isinstance(t, dict) and t.get("from") in _ASSISTANT for t in raw_turns))
    system = row.get("system")
    if system is not None and not isinstance(system, str):
        raise LostTurns(f"system: expected a string, got {type(system).__name__}", units)
    try:
        tools = _tools(row, system or _system_turn(raw_turns))
    except ValueError as exc:
        raise LostTurns(str(exc), units) from None
    names = {tool["name"] for tool in tools}
    try:
        turns = [_turn(turn, f"conversations[{i}]", names) for i, turn in enumerate(raw_turns)]
    except ValueError as exc:
        raise LostTurns(str(exc), units) from None
    source = row["source"] if isinstance(row.get("source"), str) else SOURCE
    head = [{"role": "system", "content": system}] if system else []
    meta = unread(row, {"id", "source", "conversations", "system", "tools", "targets"})
    return split(turns, str(row.get("id") or default_id), builder(source, tools, head, meta), row.get("targets"))


def turn_to_message(turn: Any, label: str) -> dict[str, Any]:
    """One ShareGPT turn as an OpenAI-style message (raises `ValueError` naming the field)."""
    parsed = _turn(turn, label, set())
    if parsed.error:
        raise ValueError(parsed.error)
    assert parsed.message is not None
    return parsed.message


def tools_in_text(text: str, label: str) -> list[Any]:
    """A JSON list of tools written inside a prompt (ToolACE's way); `[]` if there is none."""
    decoder = json.JSONDecoder()
    for match in _TOOL_LIST.finditer(text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except json.JSONDecodeError as exc:
            if _NAMED_LIST.match(text, match.start()):
                raise ValueError(f"{label}: the tool list in it is not JSON ({exc.msg})") from None
            continue
        if isinstance(value, list) and all(isinstance(t, dict) and isinstance(t.get("name"), str) for t in value):
            return value
    return []


def _tools(row: dict[str, Any], system: str) -> list[dict[str, Any]]:
    if "tools" in row:
        return normalize_tools(row["tools"])
    if "<tools>" in system:
        raise ValueError(f"system: a <tools> block is {HERMES_HINT}")
    return normalize_tools(tools_in_text(system, "system"))


def _system_turn(raw_turns: list[Any]) -> str:
    first = raw_turns[0]
    if isinstance(first, dict) and first.get("from") == "system" and isinstance(first.get("value"), str):
        return first["value"]
    return ""


def _turn(turn: Any, label: str, names: set[str]) -> Turn:
    if not isinstance(turn, dict):
        raise ValueError(f"{label}: expected a turn object, got {type(turn).__name__}")
    kind, value = need(turn, "from", str, f"{label}."), need(turn, "value", str, f"{label}.")
    if kind not in _ASSISTANT:
        if kind not in _ROLES:
            raise ValueError(f"{label}.from: unknown role {kind!r}")
        return message_turn(label, _ROLES[kind], value)
    reasoning, rest = split_think(value)
    try:
        if kind == "function_call":
            return assistant_turn(label, reasoning, calls_from_json(rest, f"{label}.value"))
        if "<tool_call>" in rest:
            raise ValueError(f"{label}.value: a <tool_call> block is {HERMES_HINT}")
        return assistant_turn(label, reasoning, _python_calls(rest, names, f"{label}.value") or rest)
    except ValueError as exc:
        return bad_turn(label, str(exc), assistant=True)


def _python_calls(text: str, names: set[str], label: str) -> list[ToolCall]:
    """ToolACE's call turn: the whole text a python call list naming offered tools; [] for other text."""
    match = _PYTHON_CALLS.match(text)
    if not (match and match[1] in names and text.endswith("]")):
        return []
    odd = sorted((name for name in names if not _python_name(name)), key=len, reverse=True)
    source, aliases = _aliased(text, odd) if odd else (text, {})
    try:
        calls = parse_calls(source, "python")
    except CallParseError as exc:
        raise ValueError(f"{label}: {exc}") from None
    return [ToolCall(name=aliases.get(call.name, call.name), arguments=call.arguments) for call in calls]


def _python_name(name: str) -> bool:
    return all(part.isidentifier() and not keyword.iskeyword(part) for part in name.split("."))


def _aliased(text: str, odd: list[str]) -> tuple[str, dict[str, str]]:
    """`text` with each tool name python cannot read ("Weather API") replaced where a call's name stands.

    A call's name stands right after the list's `[` or a `,` between its items; quoted text is
    skipped, so an argument that holds a tool name is left as it is. Returns the text and
    `{alias: name}`.
    """
    aliases = {f"_funreason_tool_{i}": name for i, name in enumerate(odd)}
    out: list[str] = []
    depth, quote, at_name, i = 0, "", False, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                out.append(text[i : i + 2])
                i += 2
                continue
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote, at_name = ch, False
        elif ch in "([{":
            depth += 1
            at_name = depth == 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 1:
            at_name = True
        elif at_name and not ch.isspace():
            at_name = False
            alias = next((a for a, n in aliases.items() if text.startswith(n, i) and text[i + len(n) :].lstrip().startswith("(")), None)
            if alias is not None:
                out.append(alias)
                i += len(aliases[alias])
                continue
        out.append(ch)
        i += 1
    return "".join(out), aliases


def write(samples: Iterable[Sample], path: str | Path) -> int:
    """Write samples as LLaMA-Factory ShareGPT JSONL; returns how many were written."""
    return write_jsonl(path, (to_row(sample) for sample in samples))


def to_row(sample: Sample) -> dict[str, Any]:
    messages = list(sample.messages)
    system = ""
    if messages and messages[0].get("role") == "system":
        system = str(messages.pop(0).get("content") or "")
    turns = _message_turns(messages)
    turns.append(_assistant_turn(sample.reasoning, sample.answer))
    row: dict[str, Any] = {"id": sample.id, "source": sample.source, "conversations": turns}
    if system:
        row["system"] = system
    row["tools"] = json.dumps(sample.tools, ensure_ascii=False)
    row["targets"] = [len(turns) - 1]
    return row


def _message_turns(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    turns: list[dict[str, str]] = []
    pending_tools: list[str] = []
    for message in messages:
        role, content = message.get("role"), str(message.get("content") or "")
        if role == "tool":
            pending_tools.append(content)
            continue
        if pending_tools:
            turns.append(_observation(pending_tools))
            pending_tools = []
        if role == "assistant":
            raw_calls = message.get("tool_calls") or []
            calls = [calls_from_json(call, f"tool_calls[{i}]")[0] for i, call in enumerate(raw_calls)]
            turns.append(_assistant_turn(str(message.get("reasoning_content") or ""), calls or content))
        else:
            turns.append({"from": _TAGS.get(str(role), str(role)), "value": content})
    if pending_tools:
        turns.append(_observation(pending_tools))
    return turns


def _observation(contents: list[str]) -> dict[str, str]:
    value = contents[0] if len(contents) == 1 else json.dumps(contents, ensure_ascii=False)
    return {"from": "observation", "value": value}


def _assistant_turn(reasoning: str, answer: list[ToolCall] | str) -> dict[str, str]:
    if isinstance(answer, str):
        return {"from": "gpt", "value": format_turn(reasoning, answer)}
    return {"from": "function_call", "value": format_turn(reasoning, answer, syntax="json")}
