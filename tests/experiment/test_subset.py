"""The dev/test split: disjoint, stratified, stable across runs and independent of other categories."""

from __future__ import annotations

import pytest

from funreason.experiment.subset import bfcl_split, humaneval_subset, split_ids

IDS = [f"simple_python_{i}" for i in range(100)]


def test_dev_and_test_are_disjoint_draws_of_the_asked_sizes():
    split = split_ids(IDS, "simple_python", seed=0, dev=20, test=40)
    assert len(split["dev"]) == 20 and len(split["test"]) == 40
    assert not set(split["dev"]) & set(split["test"]) and set(split["dev"]) | set(split["test"]) <= set(IDS)
    assert split["dev"] != IDS[:20]  # drawn, not the head of the file
    rest = split_ids(IDS, "simple_python", seed=0, dev=20, test=None)
    assert rest["dev"] == split["dev"] and rest["test"][:40] == split["test"] and len(rest["test"]) == 80


def test_the_split_is_stable_and_seeded():
    assert split_ids(IDS, "simple_python", 0, 20, 40) == split_ids(list(IDS), "simple_python", 0, 20, 40)
    assert split_ids(IDS, "simple_python", 1, 20, 40) != split_ids(IDS, "simple_python", 0, 20, 40)
    # A pinned draw: the split must not change between versions (or results would not compare).
    assert split_ids(IDS, "simple_python", 0, 3, 2) == {
        "dev": ["simple_python_79", "simple_python_25", "simple_python_8"],
        "test": ["simple_python_86", "simple_python_44"],
    }


def test_a_category_that_is_too_small_is_an_error():
    with pytest.raises(ValueError, match="has 100 entries, fewer than dev 80 \\+ test 40"):
        split_ids(IDS, "simple_python", 0, 80, 40)


def test_bfcl_split_per_category_does_not_depend_on_the_others():
    alone = bfcl_split(["multiple"], seed=0, dev=20, test=40)
    together = bfcl_split(["simple_python", "multiple"], seed=0, dev=20, test=40)
    assert alone["multiple"] == together["multiple"]
    assert all(entry.startswith("multiple_") for entry in together["multiple"]["test"])


def test_humaneval_subset_keeps_humanevals_order():
    ids = [f"HumanEval/{i}" for i in range(164)]
    subset = humaneval_subset(ids, seed=0, size=40)
    assert len(subset) == 40 and subset == sorted(subset, key=ids.index)
    assert humaneval_subset(ids, seed=0, size=40) == subset and humaneval_subset(ids, 0, None) == ids
