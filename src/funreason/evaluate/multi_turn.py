"""BFCL multi-turn data: the entries of the four multi-turn categories, read as data files.

An entry is a conversation of user turns over simulated APIs (a file system, a trading bot, ...):
`involved_classes` names the API classes, `initial_config` their starting state, the ground truth
is a list of call strings per turn. As bfcl-eval's `utils.populate_test_cases_with_predefined_functions`
does, the function docs are the `data/multi_turn_func_doc/*.json` files of the involved classes in
that order; in multi_turn_miss_func the `missed_function` docs are taken out of the list (first doc
of that name) and shown only at their turn, in BFCL's user message
(`DEFAULT_USER_PROMPT_FOR_ADDITIONAL_FUNCTION_PROMPTING`, the docs as a python list repr). The
docs that stay get BFCL's python language hint; the held-out ones do not (BFCL takes them out
before adding hints). `excluded_function` is in the data but bfcl-eval does not use it; neither
do we. Nothing of bfcl-eval is imported here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funreason.evaluate.bfcl import (
    MULTI_TURN,
    _read_jsonl,
    bfcl_data_dir,
    build_messages,
    category_file,
    language_hints,
)

# bfcl-eval constants/default_prompts.py.
MAXIMUM_STEP_LIMIT = 20
ADDITIONAL_FUNCTION_PROMPT = (
    "{functions}\nI have updated some more functions you can choose from. What about now?"
)
# constants/executable_backend_config.py: MULTI_TURN_FUNC_DOC_FILE_MAPPING (multi-turn classes).
FUNC_DOC_FILES = {
    "GorillaFileSystem": "gorilla_file_system.json",
    "MathAPI": "math_api.json",
    "MessageAPI": "message_api.json",
    "TwitterAPI": "posting_api.json",
    "TicketAPI": "ticket_api.json",
    "TradingBot": "trading_bot.json",
    "TravelAPI": "travel_booking.json",
    "VehicleControlAPI": "vehicle_control.json",
}


@dataclass(frozen=True)
class MultiTurnEntry:
    """One BFCL multi-turn entry.

    `turns`: the user messages of each turn, as in the data (a held-out turn is empty there);
    `functions`: the docs shown in the system prompt (hints added, held-out docs removed);
    `missed_function`: turn index -> the docs that appear at that turn;
    `ground_truth`: per turn, the call strings that solve it (empty: the turn cannot be solved).
    """

    id: str
    category: str
    turns: list[list[dict[str, Any]]]
    involved_classes: list[str]
    initial_config: dict[str, Any]
    functions: list[dict[str, Any]]
    missed_function: dict[int, list[dict[str, Any]]]
    ground_truth: list[list[str]]

    @property
    def long_context(self) -> bool:
        """Whether the classes load their long-context scenario (BFCL: "long_context" in the id)."""
        return "long_context" in self.category

    def turn_messages(self, index: int) -> list[dict[str, Any]]:
        """The messages that open turn `index`: the first turn with BFCL's system prompt, a
        held-out turn as BFCL's "I have updated some more functions" message."""
        if index in self.missed_function:
            content = ADDITIONAL_FUNCTION_PROMPT.format(functions=self.missed_function[index])
            messages = [{"role": "user", "content": content}]
        else:
            messages = [dict(message) for message in self.turns[index]]
        return build_messages(messages, self.functions) if index == 0 else messages


def _func_docs(folder: Path, class_name: str) -> list[dict[str, Any]]:
    if class_name not in FUNC_DOC_FILES:
        raise ValueError(f"unknown BFCL multi-turn class {class_name!r}; known: {', '.join(FUNC_DOC_FILES)}")
    return _read_jsonl(folder / "multi_turn_func_doc" / FUNC_DOC_FILES[class_name])


def _entry(row: dict[str, Any], ground_truth: list[list[str]], category: str, folder: Path) -> MultiTurnEntry:
    functions = [doc for name in row["involved_classes"] for doc in _func_docs(folder, name)]
    missed: dict[int, list[dict[str, Any]]] = {}
    for turn, names in row.get("missed_function", {}).items():
        missed[int(turn)] = []
        for name in names:
            index = next((i for i, doc in enumerate(functions) if doc["name"] == name), None)
            if index is not None:  # BFCL skips a name it cannot find
                missed[int(turn)].append(functions.pop(index))
    if len(ground_truth) != len(row["question"]):
        raise ValueError(
            f"{row['id']}: {len(row['question'])} turns but {len(ground_truth)} ground-truth turns"
        )
    return MultiTurnEntry(
        id=row["id"],
        category=category,
        turns=row["question"],
        involved_classes=list(row["involved_classes"]),
        initial_config=row.get("initial_config", {}),
        functions=language_hints(functions, category),
        missed_function=missed,
        ground_truth=ground_truth,
    )


def load_multi_turn(category: str, data_dir: str | Path | None = None) -> list[MultiTurnEntry]:
    """All entries of one multi-turn category, in file order, with their ground truth."""
    if category not in MULTI_TURN:
        raise ValueError(f"unknown BFCL multi-turn category {category!r}; use one of {', '.join(MULTI_TURN)}")
    folder = bfcl_data_dir(data_dir)
    rows = _read_jsonl(category_file(folder, category))
    answers = _read_jsonl(category_file(folder / "possible_answer", category))
    if [row["id"] for row in rows] != [answer["id"] for answer in answers]:
        raise ValueError(f"BFCL {category}: questions and ground truth do not list the same ids in order")
    return [
        _entry(row, answer["ground_truth"], category, folder)
        for row, answer in zip(rows, answers, strict=True)
    ]


def select_multi_turn(
    categories: Iterable[str],
    limit: int | None = None,
    data_dir: str | Path | None = None,
    ids: Collection[str] | None = None,
) -> list[MultiTurnEntry]:
    """Entries of multi-turn categories in BFCL order; `ids`: only the multi-turn ids among them
    (each must exist); `limit`: then the first N of each category."""
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    categories = list(categories)
    wanted = None if ids is None else {key for key in ids if key.rsplit("_", 1)[0] in MULTI_TURN}
    entries: list[MultiTurnEntry] = []
    for category in categories:
        found = load_multi_turn(category, data_dir)
        if wanted is not None:
            found = [entry for entry in found if entry.id in wanted]
        entries.extend(found[:limit])
    unknown = sorted((wanted or set()) - {entry.id for entry in entries})
    if unknown:
        raise ValueError(f"{len(unknown)} entry ids are not in BFCL {', '.join(categories)}: {unknown[:5]}")
    return entries
