"""BFCL scores: accuracy per category and BFCL's summaries, with BFCL's own formulas.

The formulas are those of bfcl-eval's `eval_checker/eval_runner_helper.generate_leaderboard_csv`:

- Non-Live simple = unweighted mean of simple_python, simple_java, simple_javascript;
- Non-Live AST = unweighted mean of simple (the mean above), multiple, parallel, parallel_multiple;
- Live = mean over live_simple, live_multiple, live_parallel, live_parallel_multiple weighted by
  their number of entries (so live_multiple, ~1000 entries, dominates);
- Irrelevance = unweighted mean of irrelevance and live_irrelevance; Relevance = live_relevance.
  Neither enters Non-Live AST or Live.

- Multi-Turn = unweighted mean of multi_turn_base, multi_turn_miss_func, multi_turn_miss_param,
  multi_turn_long_context;
- BFCL Overall: BFCL weighs Non-Live AST, Live, Irrelevance, Multi-Turn and Agentic 10:10:10:30:40
  (`calculate_percentage_weighted_accuracy`); funreason does not run Agentic (web search, memory),
  so `bfcl_overall` is the same weighting over the other four, 10:10:10:30 renormalised. It is not
  the leaderboard's Overall, which would count the missing Agentic part as 0.

FunReason's tables (arXiv 2505.20192) add Overall = (Non-Live AST + Live) / 2.

BFCL counts a category that was not run as 0 % (and shows "N/A"); here a summary whose parts were
not all run is None instead, so a partial run never passes for a full one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from funreason.evaluate.bfcl import MULTI_TURN

SIMPLE = ("simple_python", "simple_java", "simple_javascript")
NON_LIVE_AST = ("simple", "multiple", "parallel", "parallel_multiple")
LIVE_AST = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple")
IRRELEVANCE = ("irrelevance", "live_irrelevance")

SUMMARY_KEYS = (
    "non_live_simple",
    "non_live_ast",
    "live",
    "irrelevance",
    "relevance",
    "overall",
    "multi_turn",
    "bfcl_overall",
)
# eval_runner_helper.generate_leaderboard_csv: total_overall_accuracy, Agentic (weight 40) left out.
BFCL_OVERALL_WEIGHTS = {"non_live_ast": 10, "live": 10, "irrelevance": 10, "multi_turn": 30}


@dataclass(frozen=True)
class CategoryScore:
    """How many entries of one category passed."""

    category: str
    correct: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def category_scores(results: Iterable[tuple[str, bool]]) -> dict[str, CategoryScore]:
    """Count `(category, valid)` pairs into a score per category, categories in first-seen order."""
    correct: dict[str, int] = {}
    total: dict[str, int] = {}
    for category, valid in results:
        total[category] = total.get(category, 0) + 1
        correct[category] = correct.get(category, 0) + int(bool(valid))
    return {name: CategoryScore(name, correct[name], total[name]) for name in total}


def _unweighted(values: list[float | None]) -> float | None:
    if any(value is None for value in values):
        return None
    return sum(values) / len(values)  # type: ignore[arg-type]


def _weighted(scores: Mapping[str, CategoryScore], names: Iterable[str]) -> float | None:
    parts = [scores.get(name) for name in names]
    if any(part is None for part in parts):
        return None
    total = sum(part.total for part in parts)  # type: ignore[union-attr]
    correct = sum(part.correct for part in parts)  # type: ignore[union-attr]
    return correct / total if total else None


def summarize(scores: Mapping[str, CategoryScore]) -> dict[str, float | None]:
    """BFCL's summaries from per-category scores, as fractions in [0, 1] (None: not all parts ran).

    Keys: `non_live_simple`, `non_live_ast`, `live`, `irrelevance`, `relevance`, `overall`,
    `multi_turn`, `bfcl_overall`.
    """

    def accuracy(name: str) -> float | None:
        score = scores.get(name)
        return None if score is None else score.accuracy

    simple = _unweighted([accuracy(name) for name in SIMPLE])
    non_live = _unweighted([simple] + [accuracy(name) for name in NON_LIVE_AST[1:]])
    live = _weighted(scores, LIVE_AST)
    summary = {
        "non_live_simple": simple,
        "non_live_ast": non_live,
        "live": live,
        "irrelevance": _unweighted([accuracy(name) for name in IRRELEVANCE]),
        "relevance": accuracy("live_relevance"),
        "overall": _unweighted([non_live, live]),
        "multi_turn": _unweighted([accuracy(name) for name in MULTI_TURN]),
    }
    parts = [summary[key] for key in BFCL_OVERALL_WEIGHTS]
    summary["bfcl_overall"] = (
        None
        if any(part is None for part in parts)
        else sum(w * p for w, p in zip(BFCL_OVERALL_WEIGHTS.values(), parts, strict=True))  # type: ignore[misc]
        / sum(BFCL_OVERALL_WEIGHTS.values())
    )
    return summary
