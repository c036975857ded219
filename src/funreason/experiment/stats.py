"""The statistics of an experiment: accuracy per category over seeds, bootstrap intervals, paired differences.

Pure functions of 0/1 outcome matrices; no files, no models.

An arm's outcomes are a matrix `[runs, entries]` (one row per seed; an arm that does not depend on
the seed, such as the untrained model under greedy decoding, has one row) and every entry belongs to
a group (a BFCL category, or "humaneval"). For one run, a group's accuracy is the mean of its
entries; `overall` is the unweighted mean of the group accuracies (each category counts the same,
as in BFCL's summaries). An arm's figure is the mean over its runs, its spread the sample standard
deviation over runs (0 with one run).

Intervals are 95% percentile bootstrap intervals that resample both sources of noise at once:
runs (seeds, drawn with replacement) and entries (drawn with replacement within each group, so
every group keeps its size). A paired difference A − B draws one set of entries for both arms, and,
when both arms ran the same seeds, one set of seeds (the arms of one seed train on the same data in
the same order, so they are paired by seed too). A difference is significant when its interval
excludes 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

OVERALL = "overall"
DEFAULT_RESAMPLES = 4000


@dataclass(frozen=True)
class Estimate:
    """A figure with its spread over runs and its 95% bootstrap interval (fractions, not percent)."""

    mean: float
    std: float
    low: float
    high: float
    entries: int
    runs: int

    @property
    def significant(self) -> bool:
        """Whether the interval excludes 0 (meaningful for differences)."""
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict[str, float | int | bool]:
        return {**asdict(self), "significant": self.significant}


@dataclass(frozen=True)
class Outcomes:
    """One arm's 0/1 outcomes: `matrix[run, entry]`, the `seeds` of the runs (None: seed-independent),
    `entries` (ids, the column order) and their `groups`."""

    matrix: np.ndarray
    seeds: tuple[int | None, ...]
    entries: tuple[str, ...]
    groups: tuple[str, ...]

    @classmethod
    def from_runs(cls, runs: Mapping[int | None, Mapping[str, bool]], groups: Mapping[str, str]) -> Outcomes:
        """From `{seed: {entry_id: correct}}`; every run must cover exactly the entries of `groups`."""
        if not runs:
            raise ValueError("an arm needs at least one run")
        entries = tuple(groups)
        for seed, outcomes in runs.items():
            missing, extra = set(entries) - set(outcomes), set(outcomes) - set(entries)
            if missing or extra:
                raise ValueError(
                    f"run {seed}: {len(missing)} entries missing, {len(extra)} unexpected "
                    f"(e.g. {sorted(missing or extra)[:3]}); every run must score the same entries"
                )
        matrix = np.array([[bool(runs[seed][entry]) for entry in entries] for seed in runs], dtype=float)
        return cls(matrix, tuple(runs), entries, tuple(groups[entry] for entry in entries))

    @property
    def group_names(self) -> list[str]:
        return list(dict.fromkeys(self.groups))

    def only(self, seeds: Sequence[int | None]) -> Outcomes:
        """The runs of `seeds` alone (in that order), e.g. the seeds two arms both finished."""
        rows = [self.seeds.index(seed) for seed in seeds]
        return Outcomes(self.matrix[rows], tuple(seeds), self.entries, self.groups)


def _group_index(groups: Sequence[str], names: Sequence[str]) -> list[np.ndarray]:
    labels = np.asarray(groups)
    return [np.flatnonzero(labels == name) for name in names]


def group_accuracies(matrix: np.ndarray, index: Sequence[np.ndarray]) -> np.ndarray:
    """`[runs, groups]`: each run's accuracy on each group of entries (columns `index[g]`)."""
    return np.stack([matrix[:, columns].mean(axis=1) for columns in index], axis=1)


def _figures(matrix: np.ndarray, index: Sequence[np.ndarray]) -> np.ndarray:
    """`[runs, groups + 1]`: group accuracies and their unweighted mean (overall) per run."""
    per_group = group_accuracies(matrix, index)
    return np.concatenate([per_group, per_group.mean(axis=1, keepdims=True)], axis=1)


def _std(values: np.ndarray) -> np.ndarray:
    return values.std(axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(values.shape[1])


def _resampled_columns(rng: np.random.Generator, index: Sequence[np.ndarray]) -> list[np.ndarray]:
    return [rng.choice(columns, size=len(columns), replace=True) for columns in index]


def _percentiles(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.percentile(draws, 2.5, axis=0), np.percentile(draws, 97.5, axis=0)


def arm_estimates(
    outcomes: Outcomes, *, resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> dict[str, Estimate]:
    """Per group and `overall`: mean over runs, std over runs, 95% bootstrap interval of the mean."""
    names = outcomes.group_names
    index = _group_index(outcomes.groups, names)
    figures = _figures(outcomes.matrix, index)
    rng = np.random.default_rng(seed)
    runs = outcomes.matrix.shape[0]
    draws = np.empty((resamples, len(names) + 1))
    for r in range(resamples):
        rows = rng.integers(0, runs, size=runs)
        columns = _resampled_columns(rng, index)
        draws[r] = _figures(outcomes.matrix[rows], columns).mean(axis=0)
    low, high = _percentiles(draws)
    return _estimates(names, figures.mean(axis=0), _std(figures), low, high, index, runs)


def paired_difference(
    a: Outcomes, b: Outcomes, *, resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> dict[str, Estimate]:
    """A − B per group and `overall`, on the entries both scored (the same entries, in any order).

    `std` is the spread over seeds of the per-seed differences when the arms ran the same seeds,
    else 0. The interval draws the entries once for both arms, and the seeds once for both when
    they ran the same seeds (paired), else independently.
    """
    if set(a.entries) != set(b.entries):
        raise ValueError("paired differences need both arms scored on the same entries")
    order = [b.entries.index(entry) for entry in a.entries]
    b_matrix = b.matrix[:, order]
    names = a.group_names
    index = _group_index(a.groups, names)
    fa, fb = _figures(a.matrix, index), _figures(b_matrix, index)
    paired = a.seeds == b.seeds
    std = _std(fa - fb) if paired else np.zeros(len(names) + 1)
    rng = np.random.default_rng(seed)
    draws = np.empty((resamples, len(names) + 1))
    for r in range(resamples):
        rows_a = rng.integers(0, len(a.seeds), size=len(a.seeds))
        rows_b = rows_a if paired else rng.integers(0, len(b.seeds), size=len(b.seeds))
        columns = _resampled_columns(rng, index)
        draws[r] = _figures(a.matrix[rows_a], columns).mean(axis=0) - _figures(b_matrix[rows_b], columns).mean(axis=0)
    low, high = _percentiles(draws)
    return _estimates(names, fa.mean(axis=0) - fb.mean(axis=0), std, low, high, index, min(len(a.seeds), len(b.seeds)))


def _estimates(
    names: list[str],
    mean: np.ndarray,
    std: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    index: Sequence[np.ndarray],
    runs: int,
) -> dict[str, Estimate]:
    sizes = [len(columns) for columns in index] + [sum(len(columns) for columns in index)]
    return {
        name: Estimate(float(mean[i]), float(std[i]), float(low[i]), float(high[i]), sizes[i], runs)
        for i, name in enumerate([*names, OVERALL])
    }
