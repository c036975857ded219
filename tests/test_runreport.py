"""The run report's score tables say how many entries each score rests on."""

from __future__ import annotations

from types import SimpleNamespace

from funreason import runreport

SCORES = {
    "base": {"simple_python": {"correct": 0, "total": 5}, "irrelevance": {"correct": 5, "total": 5}},
    "trained": {"simple_python": {"correct": 2, "total": 5}, "irrelevance": {"correct": 3, "total": 5}},
}


def test_scores_markdown_gives_the_entries_behind_every_score():
    config = SimpleNamespace(evaluate=SimpleNamespace(limit=5))
    text = runreport.scores_markdown(SCORES, config)
    assert "| base | 0.0% (0/5) | 100.0% (5/5) | 50.0% (n=10) |" in text
    assert "| trained | 40.0% (2/5) | 60.0% (3/5) | 50.0% (n=10) |" in text
    assert "one entry moves its score by 20%" in text


def test_whole_categories_need_no_caution():
    config = SimpleNamespace(evaluate=SimpleNamespace(limit=None))
    text = runreport.scores_markdown({"m": {"parallel": {"correct": 150, "total": 200}}}, config)
    assert "every entry" in text and "75.0% (150/200)" in text and "noise" not in text


def test_train_markdown_gives_the_shape_mix_and_warnings():
    trained = {
        "steps": 4, "samples": 7, "skipped": 3, "seconds": 12.0, "log": [{"step": 1, "loss": 1.5}],
        "shapes": {"simple": {"trained": 5, "skipped": 0}, "parallel_multiple": {"trained": 2, "skipped": 3}},
        "warnings": ["max_length 512 skipped 3 of 5 parallel_multiple samples (60%)"],
    }  # fmt: skip
    config = SimpleNamespace(train=SimpleNamespace(options={"lora_r": 8}))
    text = runreport.train_markdown(trained, config)
    assert "Call shapes trained on: simple 5, parallel_multiple 2 (3 skipped)." in text
    assert "**Warning:** max_length 512 skipped 3 of 5 parallel_multiple samples" in text
