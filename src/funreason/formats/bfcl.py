"""Berkeley Function Calling Leaderboard entries (`bfcl-eval`'s data files): read only.

A question file line is `{"id", "question": [[{"role", "content"}, ...]], "function": [...]}`; its
possible answer, in `possible_answer/<same file name>` beside it, is
`{"id", "ground_truth": [{"func_name": {"param": [acceptable values, ...]}}, ...]}`.

The sample's answer takes the first acceptable value of each parameter and leaves out a parameter
whose first acceptable value is `""` (BFCL's mark for "may be omitted") or that has none. A parameter of type `dict`
(or a list of `dict`s) holds nested possible answers, resolved the same way, as BFCL's checker does.
Irrelevance categories have no possible answer: their answer is `NO_CALL_STATEMENT`.

Rejected, with the reason: multi-turn entries (more than one turn in `question`), agentic entries
with no `function` list (memory, web search), and relevance entries (any call passes, so there is
no answer to train on).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from funreason.formats.rows import NO_CALL_STATEMENT, check_messages, need, read_rows
from funreason.formats.sources import Source, open_source
from funreason.records import Rejects, Sample, ToolCall, iter_json_objects
from funreason.schema import normalize_tools

SOURCE = "bfcl"


def read(path: str | Path | Source, rejects: Rejects, answers: str | Path | None = None) -> Iterator[Sample]:
    """Stream `Sample`s from a BFCL question file.

    `answers` is the possible-answer file; by default `possible_answer/<name>` beside `path`, which
    irrelevance files need not have (nor do standard input and hub sources, which have no folder).
    """
    source = open_source(path)
    beside = source.path.parent / "possible_answer" / source.path.name if source.path else None
    answers_path = Path(answers) if answers else beside
    if answers_path is not None and answers_path.exists():
        ground_truth = _load_ground_truth(answers_path, rejects)
    elif answers is not None:
        raise FileNotFoundError(f"BFCL possible-answer file not found: {answers_path}")
    else:
        ground_truth = {}
    return read_rows(source, rejects, partial(from_row, ground_truth=ground_truth, answers_path=answers_path))


def from_row(
    row: dict[str, Any], default_id: str, ground_truth: dict[str, Any], answers_path: Path | None = None
) -> Sample:
    entry_id = need(row, "id", str)
    category = category_of(entry_id)
    turns = need(row, "question", list)
    if not turns:
        raise ValueError("question: empty")
    if len(turns) > 1:
        raise ValueError(f"question: {len(turns)} turns; multi-turn entries are not supported")
    messages = check_messages(turns[0], "question[0]")
    if "function" not in row:
        raise ValueError("function: missing (agentic categories such as memory and web_search are not supported)")
    functions = need(row, "function", list)

    if "irrelevance" in category:
        answer: list[ToolCall] | str = NO_CALL_STATEMENT
    elif entry_id in ground_truth:
        answer = answer_from_ground_truth(ground_truth[entry_id], functions)
    elif category.startswith("live_relevance"):
        raise ValueError("ground_truth: relevance entries have no possible answer (any call passes)")
    elif answers_path is None:
        raise ValueError("ground_truth: no possible-answer file (this source has no folder to find one in)")
    elif not answers_path.exists():
        raise ValueError(f"ground_truth: no possible-answer file {answers_path}")
    else:
        raise ValueError(f"ground_truth: no possible answer with id {entry_id!r} in {answers_path}")
    return Sample(
        id=entry_id,
        source=SOURCE,
        messages=messages,
        tools=functions,
        answer=answer,
        meta={"bfcl_category": category},
    )


def category_of(entry_id: str) -> str:
    """`simple_python_12` -> `simple_python`; `live_multiple_3-2-0` -> `live_multiple`."""
    return re.sub(r"_[\d-]+$", "", entry_id)


def answer_from_ground_truth(ground_truth: Any, functions: list[Any]) -> list[ToolCall]:
    """The first acceptable call for each expected function, in order."""
    if not isinstance(ground_truth, list):
        raise ValueError(f"ground_truth: expected a list, got {type(ground_truth).__name__}")
    schemas = {tool["name"]: tool["parameters"] for tool in normalize_tools(functions)}
    calls = []
    for i, item in enumerate(ground_truth):
        if not isinstance(item, dict) or len(item) != 1:
            raise ValueError(f"ground_truth[{i}]: expected one {{function name: parameters}} object")
        (name, params), = item.items()
        if not isinstance(params, dict):
            raise ValueError(f"ground_truth[{i}].{name}: expected an object of parameters")
        arguments = _first_values(params, schemas.get(name, {}), f"ground_truth[{i}].{name}")
        calls.append(ToolCall(name=name, arguments=arguments))
    return calls


def _first_values(options: dict[str, Any], schema: dict[str, Any], label: str) -> dict[str, Any]:
    """`{"a": [1, 2], "b": ["", 3]}` -> `{"a": 1}`, resolving nested dict answers by the schema.

    Where BFCL's checker would refuse the plain rule, the answer follows the checker: a parameter
    the schema requires takes its first acceptable value other than `""`, and one the schema does
    not declare is left out when `""` is acceptable. A parameter with no acceptable value (`[]`)
    is left out; a value that is not a list (a literal dict deep inside some live and java entries)
    is taken as it is.
    """
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    arguments = {}
    for param, values in options.items():
        if not isinstance(values, list):
            arguments[param] = values
            continue
        if param in required:
            values = [v for v in values if v != ""]
        elif properties and param not in properties and "" in values:
            continue
        if not values or values[0] == "":
            continue
        arguments[param] = _resolve(values[0], properties.get(param) or {}, f"{label}.{param}")
    return arguments


def _resolve(value: Any, schema: dict[str, Any], label: str) -> Any:
    """A nested possible answer (a `dict` parameter, or a list of them) resolved like the top level."""
    if schema.get("type") == "object" and isinstance(value, dict):
        return _first_values(value, schema, label)
    items = schema.get("items") or {}
    if schema.get("type") == "array" and items.get("type") == "object" and isinstance(value, list):
        return [_first_values(v, items, f"{label}[{i}]") if isinstance(v, dict) else v for i, v in enumerate(value)]
    return value


def _load_ground_truth(path: Path, rejects: Rejects) -> dict[str, Any]:
    answers = {}
    for where, row in iter_json_objects(path, rejects):
        if isinstance(row, dict) and isinstance(row.get("id"), str) and "ground_truth" in row:
            answers[row["id"]] = row["ground_truth"]
        else:
            rejects.add(where, "expected an object with 'id' and 'ground_truth'", row)
    return answers
