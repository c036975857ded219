"""The experiment's statistics against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from funreason.experiment.stats import OVERALL, Outcomes, arm_estimates, paired_difference

GROUPS = {"a1": "simple", "a2": "simple", "a3": "simple", "a4": "simple", "b1": "multiple", "b2": "multiple"}


def outcomes(runs: dict) -> Outcomes:
    return Outcomes.from_runs({seed: dict(zip(GROUPS, row, strict=True)) for seed, row in runs.items()}, GROUPS)


def test_means_and_spread_over_seeds_by_hand():
    arm = outcomes({0: [1, 1, 0, 0, 1, 0], 1: [1, 1, 1, 0, 1, 1]})
    est = arm_estimates(arm, resamples=200)
    # seed 0: simple 2/4, multiple 1/2, overall (0.5 + 0.5) / 2; seed 1: 3/4, 2/2, (0.75 + 1) / 2
    assert est["simple"].mean == pytest.approx((0.5 + 0.75) / 2)
    assert est["simple"].std == pytest.approx(math.sqrt(2 * 0.125**2))  # sample std of 0.5 and 0.75
    assert est["multiple"].mean == pytest.approx(0.75)
    assert est[OVERALL].mean == pytest.approx((0.5 + 0.875) / 2)
    assert est[OVERALL].std == pytest.approx(abs(0.5 - 0.875) / math.sqrt(2))
    assert (est["simple"].entries, est["multiple"].entries, est[OVERALL].entries) == (4, 2, 6)
    assert est["simple"].runs == 2
    for value in est.values():
        assert value.low <= value.mean <= value.high


def test_one_run_has_no_spread_and_unanimous_entries_a_point_interval():
    est = arm_estimates(outcomes({None: [1, 1, 1, 1, 0, 0]}), resamples=200)
    assert est["simple"].std == 0 and (est["simple"].low, est["simple"].high) == (1.0, 1.0)
    assert (est["multiple"].low, est["multiple"].high) == (0.0, 0.0)
    assert est[OVERALL].mean == 0.5 and (est[OVERALL].low, est[OVERALL].high) == (0.5, 0.5)


def test_the_interval_of_a_proportion_matches_the_normal_approximation():
    rng = np.random.default_rng(1)
    groups = {f"e{i}": "simple" for i in range(400)}
    row = rng.permutation([1] * 200 + [0] * 200)
    est = arm_estimates(Outcomes.from_runs({None: dict(zip(groups, row, strict=True))}, groups), seed=3)
    half = 1.96 * math.sqrt(0.25 / 400)  # 0.049
    assert est["simple"].mean == 0.5
    assert est["simple"].high - 0.5 == pytest.approx(half, abs=0.006)
    assert 0.5 - est["simple"].low == pytest.approx(half, abs=0.006)


def test_paired_differences_by_hand():
    a = outcomes({0: [1, 1, 1, 0, 1, 1], 1: [1, 1, 1, 1, 1, 1]})
    b = outcomes({0: [1, 0, 0, 0, 1, 0], 1: [1, 1, 0, 0, 1, 1]})
    diff = paired_difference(a, b, resamples=500)
    # simple: a (0.75, 1.0) b (0.25, 0.5) -> +0.5 both seeds; multiple: a (1, 1) b (0.5, 1) -> +0.25 mean
    assert diff["simple"].mean == pytest.approx(0.5) and diff["simple"].std == pytest.approx(0.0)
    assert diff["multiple"].mean == pytest.approx(0.25)
    assert diff["multiple"].std == pytest.approx(0.5 / math.sqrt(2))
    assert diff[OVERALL].mean == pytest.approx((0.5 + 0.25) / 2)
    assert diff["simple"].significant  # a beats b on every resample of these entries


def test_an_arm_against_itself_differs_by_exactly_nothing():
    a = outcomes({0: [1, 0, 1, 0, 1, 0], 1: [0, 1, 1, 0, 0, 1]})
    diff = paired_difference(a, a, resamples=300)
    for value in diff.values():
        assert (value.mean, value.low, value.high) == (0.0, 0.0, 0.0) and not value.significant


def test_an_unpaired_arm_against_a_seed_independent_one():
    base = outcomes({None: [0, 0, 0, 0, 0, 0]})
    trained = outcomes({0: [1, 1, 0, 0, 1, 0], 1: [1, 1, 1, 0, 1, 1]})
    diff = paired_difference(trained, base, resamples=300)
    assert diff[OVERALL].mean == pytest.approx((0.5 + 0.875) / 2) and diff[OVERALL].std == 0
    assert diff["simple"].runs == 1


def test_runs_must_score_the_same_entries():
    with pytest.raises(ValueError, match="1 entries missing"):
        Outcomes.from_runs({0: {"a1": True}}, {"a1": "simple", "a2": "simple"})
    with pytest.raises(ValueError, match="same entries"):
        paired_difference(outcomes({0: [1] * 6}), Outcomes.from_runs({0: {"x": True}}, {"x": "simple"}))
