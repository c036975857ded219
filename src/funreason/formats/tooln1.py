"""Tool-N1 (NVlabs/Tool-N1) data: read only.

Tool-N1's assistant turn is `<think>...</think><tool_call>[{"name", "arguments"}, ...]</tool_call>`:
one `<tool_call>` block holding a JSON list of calls. Its repository keeps data in three shapes, all
read here (a JSON array or JSONL of rows):

- raw (`data_process.py`): `{"raw_system", "tools": [...], "conversations": [{"from", "value"}],
  "answer": [{"name", "arguments"}], "id": "xlam" | "toolace_single_turn" | ...}`; the
  conversation is the context in ShareGPT turns, `answer` the target (no reasoning).
- SFT (`distill_data.py`): `{"system_prompt", "query", "output": "<think>...</think><tool_call>[...]</tool_call>"}`.
- RL (`toolcall_preprocess.py`, exported from parquet): `{"prompt": [messages],
  "reward_model": {"ground_truth": "<JSON answer>"}}`.

Also accepted: `"messages"` or `"prompt"` (a message list, or a string for one user turn) with the
reply in `"response"`, `"completion"` (a string or a list of messages) or as a final assistant
message. Tools come from `"tools"` (a list or its JSON string); without it, from the `<tools>`
block of the system prompt (a list or one tool per line, JSON or a Python literal, as
`hermes.tools_block` reads it), which Tool-N1 prompts embed — the system text
itself is kept as it is. An empty answer list (Tool-N1's "no call" target) becomes
`NO_CALL_STATEMENT`. Tool-N1's `id` names the subset, not the row; it is kept in
`meta["tooln1_id"]` and the sample id is `<file stem>-<index>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from funreason.calls import CallParseError, parse_calls, split_think
from funreason.formats.hermes import tools_block
from funreason.formats.rows import NO_CALL_STATEMENT, calls_from_json, check_messages, need, read_rows
from funreason.formats.sharegpt import turn_to_message
from funreason.records import Rejects, Sample, ToolCall

SOURCE = "tooln1"
_REPLY_KEYS = ("output", "response", "completion")


def read(path: str | Path, rejects: Rejects) -> Iterator[Sample]:
    """Stream `Sample`s from a Tool-N1 file; malformed rows go to `rejects`."""
    return read_rows(path, rejects, from_row)


def from_row(row: dict[str, Any], default_id: str) -> Sample:
    messages = _context(row)
    reasoning, answer = _target(row, messages)
    tools = row.get("tools") or _tools_in_system(messages)
    meta = {"tooln1_id": row["id"]} if row.get("id") is not None else {}
    return Sample(
        id=default_id,
        source=SOURCE,
        messages=messages,
        tools=tools,
        reasoning=reasoning,
        answer=answer or NO_CALL_STATEMENT,
        meta=meta,
    )


def parse_reply(text: str, label: str) -> tuple[str, list[ToolCall] | str]:
    """`(reasoning, answer)` from a Tool-N1 reply; without a `<tool_call>` block the rest is a statement."""
    reasoning, rest = split_think(text)
    if "<tool_call>" not in rest:
        if not rest:
            raise ValueError(f"{label}: no <tool_call> block and no statement after the reasoning")
        return reasoning, rest
    try:
        return reasoning, parse_calls(rest, "hermes")
    except CallParseError as exc:
        raise ValueError(f"{label}: {exc}") from None


def _context(row: dict[str, Any]) -> list[dict[str, Any]]:
    if "conversations" in row:
        system = row.get("raw_system") or row.get("system")
        messages = [{"role": "system", "content": system}] if system else []
        turns = need(row, "conversations", list)
        return messages + [turn_to_message(turn, f"conversations[{i}]") for i, turn in enumerate(turns)]
    for key in ("messages", "prompt"):
        if key in row:
            if isinstance(row[key], str):
                return [{"role": "user", "content": row[key]}]
            return list(check_messages(row[key], key))
    if "query" in row:
        system = row.get("system_prompt")
        messages = [{"role": "system", "content": system}] if system else []
        return [*messages, {"role": "user", "content": need(row, "query", str)}]
    raise ValueError("prompt: missing (expected 'conversations', 'messages', 'prompt' or 'query')")


def _target(row: dict[str, Any], messages: list[dict[str, Any]]) -> tuple[str, list[ToolCall] | str]:
    """The answer from `answer`, a reply field, `reward_model.ground_truth`, or a final assistant turn.

    A final assistant turn is taken off `messages` (which is then the context only).
    """
    if row.get("answer") is not None:
        return "", calls_from_json(row["answer"], "answer")
    for key in _REPLY_KEYS:
        if row.get(key) is not None:
            return parse_reply(_reply_text(row[key], key), key)
    reward = row.get("reward_model")
    if isinstance(reward, dict) and reward.get("ground_truth") is not None:
        return "", calls_from_json(reward["ground_truth"], "reward_model.ground_truth")
    if messages and messages[-1]["role"] == "assistant":
        label = f"messages[{len(messages) - 1}].content"
        return parse_reply(_reply_text(messages.pop(), label), label)
    raise ValueError("answer: missing (expected 'answer', 'output', 'response', 'completion' or reward_model)")


def _reply_text(value: Any, label: str) -> str:
    """A reply given as text, as an assistant message, or as a list of messages (TRL's completion)."""
    if isinstance(value, list) and value:
        value = value[-1]
    if isinstance(value, dict):
        value = value.get("content")
    if not isinstance(value, str):
        raise ValueError(f"{label}: expected the reply text, got {type(value).__name__}")
    return value


def _tools_in_system(messages: list[dict[str, Any]]) -> list[Any]:
    """Tools from the filled `<tools>` block of the first system prompt that has one."""
    for index, message in enumerate(messages):
        content = message.get("content")
        if message["role"] == "system" and isinstance(content, str):
            tools = tools_block(content, f"messages[{index}].content")
            if tools:
                return tools
    return []
