"""The results of an experiment still running: arms on the seeds they finished, compared on the seeds
both arms finished; the figures against hand-computed ones (no model: the pairs' files written here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from funreason.experiment.config import ExperimentConfig
from funreason.experiment.report import write_results
from funreason.experiment.run import pair_dir

SIMPLE = ["simple_1", "simple_2", "simple_3", "simple_4"]
IRRELEVANCE = ["irrelevance_1", "irrelevance_2", "irrelevance_3", "irrelevance_4"]


def finish(out: Path, arm: str, seed: int | None, simple: list[int], irrelevance: list[int]) -> None:
    """Write the files of a finished (arm, seed): its BFCL rows and its done record."""
    folder = pair_dir(out, arm, seed)
    (folder / "bfcl_test").mkdir(parents=True)
    rows = [{"id": i, "valid": bool(v)} for i, v in zip(SIMPLE + IRRELEVANCE, simple + irrelevance, strict=True)]
    (folder / "bfcl_test" / "results.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    record = {"arm": arm, "seed": seed, "load_before": [1.0, 1.0, 1.0], "load_after": [2.0, 2.0, 2.0],
              "train_seconds": 60.0, "eval_seconds": 30.0}  # fmt: skip
    (folder / "done_test.json").write_text(json.dumps(record))


def test_an_unfinished_arm_is_shown_on_its_finished_seeds_and_compared_on_the_common_ones(tmp_path):
    out = tmp_path / "exp"
    config = ExperimentConfig.model_validate(
        {"model": "m", "out": str(out), "seeds": [0, 1],
         "eval": {"categories": ["simple_python", "irrelevance"], "humaneval": 0},
         "arms": {"base": {"kind": "base"}, "srml": {}, "srml+sr1": {"kind": "selfrefine", "start": "srml"}}}
    )  # fmt: skip
    entries = {"bfcl": {"simple_python": {"dev": [], "test": SIMPLE},
                        "irrelevance": {"dev": [], "test": IRRELEVANCE}}, "humaneval": []}  # fmt: skip
    finish(out, "base", None, [0, 0, 0, 0], [1, 1, 1, 1])
    finish(out, "srml", 0, [1, 0, 0, 0], [0, 0, 0, 0])
    finish(out, "srml", 1, [1, 1, 1, 0], [1, 0, 0, 0])
    finish(out, "srml+sr1", 0, [1, 1, 0, 0], [1, 0, 0, 0])  # seed 1 still running

    markdown = write_results(config, entries).read_text()
    results = json.loads((out / "results.json").read_text())

    assert results["missing"] == {"srml+sr1": [1]}
    sr1 = results["arms"]["srml+sr1"]["bfcl"]
    assert sr1["overall"]["runs"] == 1 and sr1["simple_python"]["mean"] == pytest.approx(0.5)
    assert sr1["overall"]["mean"] == pytest.approx((0.5 + 0.25) / 2)
    srml = results["arms"]["srml"]["bfcl"]
    assert srml["simple_python"]["mean"] == pytest.approx((0.25 + 0.75) / 2)
    assert srml["simple_python"]["std"] == pytest.approx(0.3535534, abs=1e-6)  # sample std of 0.25, 0.75

    rows = {(row["a"], row["b"]): row for row in results["comparisons"]}
    versus_srml = rows[("srml+sr1", "srml")]  # on seed 0 alone: srml's seed 1 is left out
    assert versus_srml["seeds"] == [0]
    assert versus_srml["bfcl"]["simple_python"]["mean"] == pytest.approx(0.5 - 0.25)
    assert versus_srml["bfcl"]["irrelevance"]["mean"] == pytest.approx(0.25 - 0.0)
    versus_base = rows[("srml", "base")]  # the untrained model against both of srml's seeds
    assert versus_base["seeds"] == [0, 1]
    assert versus_base["bfcl"]["irrelevance"]["mean"] == pytest.approx(0.125 - 1.0)
    assert versus_base["bfcl"]["irrelevance"]["significant"]

    assert "| srml+sr1 (seeds [0] only) |" in markdown
    assert "| srml+sr1 − srml (seeds [0]) |" in markdown
    assert "| srml − base |" in markdown
    assert "Not finished yet: srml+sr1 (seeds [1])" in markdown
