import pytest

from funreason.evaluate.scores import CategoryScore, category_scores, summarize


def scores(**counts):
    return {name: CategoryScore(name, correct, total) for name, (correct, total) in counts.items()}


FULL = scores(
    simple_python=(300, 400),  # 0.75
    simple_java=(50, 100),  # 0.5
    simple_javascript=(25, 50),  # 0.5
    multiple=(180, 200),  # 0.9
    parallel=(160, 200),  # 0.8
    parallel_multiple=(140, 200),  # 0.7
    irrelevance=(192, 240),  # 0.8
    live_simple=(200, 258),
    live_multiple=(700, 1053),
    live_parallel=(10, 16),
    live_parallel_multiple=(12, 24),
    live_irrelevance=(663, 884),  # 0.75
    live_relevance=(12, 16),  # 0.75
)


def test_counts_per_category():
    got = category_scores([("multiple", True), ("parallel", False), ("multiple", False), ("multiple", True)])
    assert list(got) == ["multiple", "parallel"]
    assert got["multiple"] == CategoryScore("multiple", 2, 3)
    assert got["parallel"].accuracy == 0.0
    assert CategoryScore("x", 0, 0).accuracy == 0.0


def test_bfcl_formulas_by_hand():
    got = summarize(FULL)
    # simple: unweighted over languages, not 375/550
    assert got["non_live_simple"] == pytest.approx((0.75 + 0.5 + 0.5) / 3)
    assert got["non_live_ast"] == pytest.approx((0.5833333333 + 0.9 + 0.8 + 0.7) / 4)
    # live: weighted by entries = all correct over all entries
    assert got["live"] == pytest.approx((200 + 700 + 10 + 12) / (258 + 1053 + 16 + 24))
    assert got["irrelevance"] == pytest.approx((0.8 + 0.75) / 2)
    assert got["relevance"] == pytest.approx(0.75)
    assert got["overall"] == pytest.approx((got["non_live_ast"] + got["live"]) / 2)


def test_relevance_does_not_enter_the_ast_summaries():
    changed = dict(
        FULL,
        irrelevance=CategoryScore("irrelevance", 0, 240),
        live_relevance=CategoryScore("live_relevance", 0, 16),
    )
    before, after = summarize(FULL), summarize(changed)
    for key in ("non_live_ast", "live", "overall"):
        assert before[key] == after[key]
    assert after["relevance"] == 0.0


def test_missing_parts_give_none():
    partial = {k: v for k, v in FULL.items() if k != "simple_java"}
    got = summarize(partial)
    assert got["non_live_simple"] is None and got["non_live_ast"] is None and got["overall"] is None
    assert got["live"] is not None
    assert summarize({})["relevance"] is None


MULTI = scores(
    multi_turn_base=(100, 200),  # 0.5
    multi_turn_miss_func=(50, 200),  # 0.25
    multi_turn_miss_param=(40, 100),  # 0.4 (a partial run: unweighted all the same)
    multi_turn_long_context=(30, 200),  # 0.15
)


def test_multi_turn_is_the_unweighted_mean_and_bfcl_overall_weighs_it_30():
    got = summarize({**FULL, **MULTI})
    assert got["multi_turn"] == pytest.approx((0.5 + 0.25 + 0.4 + 0.15) / 4)
    expected = (10 * got["non_live_ast"] + 10 * got["live"] + 10 * got["irrelevance"] + 30 * got["multi_turn"]) / 60
    assert got["bfcl_overall"] == pytest.approx(expected)
    assert got["overall"] == summarize(FULL)["overall"]  # the paper's Overall ignores multi-turn


def test_multi_turn_summaries_need_every_part():
    assert summarize(FULL)["multi_turn"] is None and summarize(FULL)["bfcl_overall"] is None
    only_multi = summarize(MULTI)
    assert only_multi["multi_turn"] is not None and only_multi["bfcl_overall"] is None
    partial = {k: v for k, v in MULTI.items() if k != "multi_turn_base"}
    assert summarize({**FULL, **partial})["multi_turn"] is None
