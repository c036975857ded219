"""What every reader shares: the row loop that reports bad rows, and field access that names the field.

A format module supplies `from_row(row, default_id)`, which returns a `Sample`, or for a format
whose row holds several targets (a conversation) a list of `Sample`s, `Note`s and exceptions (the
targets it lost, see `LostTurns`); it raises `ValueError` (or pydantic's `ValidationError`) naming
the bad field when the whole row is unusable. `read_rows` streams a source through it and sends
each failure to `Rejects` as `file:line: <field>: <problem>`, so one bad row never stops a run.
Only structural problems are rejects here; whether an answer makes sense is FCDR's job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from funreason.calls import CallParseError, parse_calls
from funreason.formats.sources import Source, open_source
from funreason.records import Rejects, Sample, ToolCall, describe_validation_error


@dataclass(frozen=True)
class Note:
    """A row read through a documented tolerance; counted in `Rejects.notes` under `what`."""

    what: str


class LostTurns(ValueError):
    """Why some target turns of a row give no sample, and how many (`units`) are lost."""

    def __init__(self, message: str, units: int):
        super().__init__(message)
        self.units = units


RowResult = Sample | Sequence[Sample | Note | Exception]
FromRow = Callable[[dict[str, Any], str], RowResult]

# The answer given to "no call" samples whose source marks irrelevance without any text of its own
# (BFCL's irrelevance categories, xLAM's or Tool-N1's empty answer lists).
NO_CALL_STATEMENT = "None of the available functions can be used to answer this request."


def read_rows(source: str | Path | Source, rejects: Rejects, from_row: FromRow) -> Iterator[Sample]:
    """Stream `Sample`s from a source (see `sources.open_source`) through `from_row`.

    `from_row` gets the row and a fallback id, `<source stem>-<record index>`, for formats that
    carry none. A row or target it rejects goes to `rejects` located as `file:line` (or
    `file[index]`), counting the units it lost.
    """
    source = open_source(source)
    for index, (where, row) in enumerate(source.rows(rejects)):
        try:
            if not isinstance(row, dict):
                raise ValueError(f"expected a JSON object, got {type(row).__name__}")
            result = from_row(row, f"{source.stem}-{index}")
        except (ValueError, TypeError, KeyError) as exc:
            _reject(rejects, where, exc, row)
            continue
        for item in [result] if isinstance(result, Sample) else result:
            if isinstance(item, Sample):
                yield item
            elif isinstance(item, Note):
                rejects.note(item.what)
            else:
                _reject(rejects, where, item, row)


def _reject(rejects: Rejects, where: str, error: Exception, row: Any) -> None:
    if isinstance(error, ValidationError):
        message = describe_validation_error(error)
    else:
        message = str(error) or type(error).__name__
    rejects.add(where, message, row, units=getattr(error, "units", 1))


def need(row: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str = "") -> Any:
    """`row[name]`, checked to be of `kind`; the error names the field (`where` prefixes the name)."""
    label = f"{where}{name}"
    if name not in row or row[name] is None:
        raise ValueError(f"{label}: missing")
    value = row[name]
    if not isinstance(value, kind):
        raise ValueError(f"{label}: expected {_kind_name(kind)}, got {type(value).__name__}")
    return value


def calls_from_json(value: Any, label: str) -> list[ToolCall]:
    """Calls given as JSON text or as decoded JSON: `[{"name", "arguments"}]` or one such object.

    `calls.parse_calls` does the reading (arguments may be a JSON string; OpenAI's `function`
    wrapper is unwrapped); its error is prefixed with `label`, the field the calls came from.
    """
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    try:
        return parse_calls(text, "json")
    except CallParseError as exc:
        raise ValueError(f"{label}: {exc}") from None


UNREAD = "unread"  # meta key: the row's top-level keys its format does not read, kept as they were


def unread(row: dict[str, Any], known: set[str]) -> dict[str, Any]:
    """`{"unread": {key: value}}` for the keys of `row` outside `known` (`{}` if none), for `Sample.meta`."""
    rest = {key: value for key, value in row.items() if key not in known}
    return {UNREAD: rest} if rest else {}


def check_messages(messages: Any, label: str) -> list[dict[str, Any]]:
    """A list of chat turns, each an object with a string `role`."""
    if not isinstance(messages, list):
        raise ValueError(f"{label}: expected a list of messages, got {type(messages).__name__}")
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            raise ValueError(f"{label}[{i}]: expected a message object, got {type(message).__name__}")
        need(message, "role", str, f"{label}[{i}].")
    return messages


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {dict: "an object", list: "a list", str: "a string", int: "an integer", float: "a number"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))
