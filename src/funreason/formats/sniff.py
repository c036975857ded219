"""`--from auto`: tell a source's format from its first rows, or refuse to guess.

Each row is matched by the keys its format is known by (`native`: id, messages, answer; `xlam`:
query, answers, tools; `bfcl`: id, question; `glaive`: a `chat` text; `tooln1`: `raw_system`,
`reward_model`, or `system_prompt` with `output`). A conversation row (`conversations`, or
`messages`) is `hermes` when it holds Hermes tags (`<tool_call>`, `<tools>`, `<tool_response>`),
`llamafactory` when its content is a list of typed parts, `sharegpt` when it has `function_call`
or `observation` turns, `openai` when a message has `tool_calls`; a plain conversation says only
that it is one of its family (ShareGPT-shaped or messages-shaped). The rows must agree on one
format; otherwise, or when no row says anything, `sniff` raises `ValueError` asking for `--from`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from funreason.formats.sources import Source, open_source
from funreason.records import Rejects

ROWS = 50
_HERMES_TAGS = ("<tool_call>", "<tools>", "<tool_response>")
# A plain conversation fits any format of its family; the first is the one it is read as.
_FAMILIES = {"conversations": ("sharegpt", "hermes"), "messages": ("openai", "hermes", "llamafactory")}


def sniff(source: str | Path | Source, rows: int = ROWS) -> tuple[str, str]:
    """`(format, why)` for the source's first `rows` rows; `ValueError` when they do not tell."""
    source = open_source(source)
    specific: dict[str, str] = {}  # format -> where a row said so
    families: dict[str, str] = {}
    seen = 0
    for where, row in source.rows(Rejects()):
        if seen == rows:
            break
        seen += 1
        fmt, family = _row_format(row)
        if fmt:
            specific.setdefault(fmt, where)
        elif family:
            families.setdefault(family, where)
    if len(specific) > 1:
        found = ", ".join(f"{fmt} ({where})" for fmt, where in specific.items())
        raise ValueError(f"{source.name}: rows look like different formats: {found}; name one with --from")
    if specific:
        (fmt, where), = specific.items()
        odd = [family for family in families if fmt not in _FAMILIES[family]]
        if odd:
            raise ValueError(f"{source.name}: {fmt} rows ({where}) mixed with {odd[0]} rows ({families[odd[0]]}); name the format with --from")
        return fmt, f"{fmt}: {_REASONS[fmt]} (first {seen} rows)"
    if len(families) == 1:
        (family, _), = families.items()
        fmt = _FAMILIES[family][0]
        return fmt, f"{fmt}: plain {family} rows without calls (first {seen} rows)"
    raise ValueError(f"{source.name}: cannot tell the format from the first {seen} rows; name it with --from")


_REASONS = {
    "native": "rows with id, messages and answer",
    "xlam": "rows with query, answers and tools",
    "bfcl": "rows with id and question",
    "glaive": "rows with a chat text",
    "tooln1": "rows with Tool-N1's keys",
    "hermes": "conversations with Hermes tags",
    "llamafactory": "messages whose content is a list of typed parts",
    "sharegpt": "conversations with function_call or observation turns",
    "openai": "messages with tool_calls",
}


def _row_format(row: Any) -> tuple[str, str]:
    """`(format, "")` when the row tells its format, `("", family)` for a plain conversation, else `("", "")`."""
    if not isinstance(row, dict):
        return "", ""
    keys = set(row)
    if {"id", "messages", "answer"} <= keys:
        return "native", ""
    if {"query", "answers", "tools"} <= keys:
        return "xlam", ""
    if {"id", "question"} <= keys:
        return "bfcl", ""
    if isinstance(row.get("chat"), str):
        return "glaive", ""
    if keys & {"raw_system", "reward_model"} or {"system_prompt", "output"} <= keys:
        return "tooln1", ""
    for family in _FAMILIES:
        if isinstance(row.get(family), list):
            return _conversation_format(row, family), family
    return "", ""


def _conversation_format(row: dict[str, Any], family: str) -> str:
    turns = [turn for turn in row[family] if isinstance(turn, dict)]
    text = json.dumps(row, ensure_ascii=False, default=str)
    if any(tag in text for tag in _HERMES_TAGS):
        return "hermes"
    if family == "conversations":
        return "sharegpt" if any(turn.get("from") in ("function_call", "observation") for turn in turns) else ""
    if any(isinstance(turn.get("content"), list) and any(isinstance(p, dict) and "value" in p for p in turn["content"]) for turn in turns):
        return "llamafactory"
    return "openai" if any(turn.get("tool_calls") for turn in turns) else ""
