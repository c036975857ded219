"""The ground truth of a multi-turn entry written as a model must write it (keyword arguments)."""

from __future__ import annotations

import inspect
from typing import Any

from funreason.evaluate.multi_turn import MultiTurnEntry
from funreason.evaluate.multi_turn_checker import new_executor
from funreason.evaluate.multi_turn_exec import parse_call


def keyword_call(text: str, methods: dict[str, Any]) -> str:
    """A ground-truth call with its positional arguments named."""
    name, args, kwargs = parse_call(text)
    arguments = inspect.signature(methods[name]).bind(*args, **kwargs).arguments
    return f"{name}({', '.join(f'{key}={value!r}' for key, value in arguments.items())})"


def truth_turns(entry: MultiTurnEntry) -> list[list[str]]:
    """Per turn, the ground-truth calls in keyword form."""
    methods: dict[str, Any] = {}
    for instance in new_executor(entry).instances.values():
        methods.update(inspect.getmembers(instance, predicate=inspect.ismethod))
    return [[keyword_call(text, methods) for text in turn] for turn in entry.ground_truth]
