"""The fixed evaluation entries of an experiment: a seeded, stratified dev/test split of BFCL.

Each category's entry ids are shuffled with a generator seeded by the split seed and the category
name, so a category's split never depends on which other categories are drawn; the first `dev`
ids are the dev entries (for choosing hyperparameters), the next `test` the test entries (for
reporting), or all the rest with `test=None`. The two never overlap, and the same seed and data give
the same split on any machine.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

SPLITS = ("dev", "test")


def split_ids(ids: Sequence[str], category: str, seed: int, dev: int, test: int | None) -> dict[str, list[str]]:
    """`{"dev": [...], "test": [...]}` drawn from one category's entry ids (in file order).

    Raises `ValueError` when the category has fewer entries than `dev + test`.
    """
    if dev < 0 or (test is not None and test < 1):
        raise ValueError(f"dev must be >= 0 and test >= 1 (or None for the rest), got {dev}, {test}")
    wanted = dev + (test or 0)
    if len(ids) < wanted or (test is None and len(ids) <= dev):
        raise ValueError(
            f"BFCL {category} has {len(ids)} entries, fewer than dev {dev} + test {test or 'at least 1'}"
        )
    order = list(ids)
    random.Random(f"funreason-split:{seed}:{category}").shuffle(order)
    return {"dev": order[:dev], "test": order[dev:] if test is None else order[dev : dev + test]}


def bfcl_split(
    categories: Sequence[str], seed: int, dev: int, test: int | None, data_dir: Any = None
) -> dict[str, dict[str, list[str]]]:
    """`{category: {"dev": ids, "test": ids}}` for BFCL's single-turn categories."""
    from funreason.evaluate.bfcl import load_category

    return {
        category: split_ids([entry.id for entry in load_category(category, data_dir)], category, seed, dev, test)
        for category in categories
    }


def humaneval_subset(task_ids: Sequence[str], seed: int, size: int | None) -> list[str]:
    """`size` HumanEval task ids drawn with `seed`, in HumanEval's order (all of them with None)."""
    if size is None or size >= len(task_ids):
        return list(task_ids)
    chosen = set(random.Random(f"funreason-humaneval:{seed}").sample(list(task_ids), size))
    return [task for task in task_ids if task in chosen]
