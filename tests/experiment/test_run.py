"""The experiment on a tiny random model: every arm x seed runs, a kill -9 resumes without redoing
finished pairs, a changed config is refused, and the results are written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast, TrainingArguments

from funreason.experiment.config import ExperimentConfig
from funreason.experiment.run import pair_dir, run_experiment, schedule
from funreason.records import read_samples
from funreason.synth import generate
from funreason.train.collator import Collator
from funreason.train.segments import render_sample
from funreason.train.trainer import SRMLTrainer


def tiny_experiment(model_dir: Path, out: Path, **changes) -> ExperimentConfig:
    raw = {
        "model": str(model_dir), "out": str(out), "seeds": [0, 1],
        "data": {"samples": 40, "fault_share": 0.3, "train_samples": 8},
        "train": {"lora_r": 0, "max_steps": 2, "batch_size": 2, "logging_steps": 1, "save_steps": 1,
                  "learning_rate": 1e-3, "warmup_ratio": 0.0, "max_length": 4096},
        "eval": {"categories": ["simple_python", "irrelevance"], "dev": 2, "test": 3, "max_tokens": 6,
                 "batch_size": 8, "humaneval": 2, "humaneval_max_tokens": 6},
        "selfrefine": {"queries": 4, "max_new_tokens": 12, "train": {"max_steps": 1}},
    }  # fmt: skip
    for key, value in changes.items():
        raw[key] = {**raw[key], **value} if isinstance(value, dict) and key in raw else value
    return ExperimentConfig.model_validate(raw)


RUNNER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    import funreason.experiment.run as run
    from funreason.experiment.config import ExperimentConfig

    config = ExperimentConfig.model_validate_json(Path(sys.argv[1]).read_text())
    kill_after, finished = int(sys.argv[2]), []
    inner = run.run_pair

    def run_pair(*args, **kwargs):
        record = inner(*args, **kwargs)
        finished.append(record)
        if len(finished) == kill_after:
            os._exit(9)  # like kill -9: no cleanup
        return record

    run.run_pair = run_pair
    run.run_experiment(config)
    """
)


@pytest.mark.slow
def test_the_experiment_runs_every_pair_and_a_kill_redoes_no_finished_one(tiny_model_dir, tmp_path):
    out = tmp_path / "exp"
    config = tiny_experiment(tiny_model_dir, out)
    config_path = tmp_path / "config.json"
    config_path.write_text(config.model_dump_json())
    script = tmp_path / "runner.py"
    script.write_text(RUNNER)

    def run(kill_after: int) -> int:
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        return subprocess.run([sys.executable, str(script), str(config_path), str(kill_after)], env=env).returncode

    pairs = schedule(config)
    assert pairs[0] == ("base", None) and len(pairs) == 1 + 2 * 6
    assert pairs.index(("srml+sr1", 0)) > pairs.index(("srml", 0))
    assert run(kill_after=4) == 9  # base, then sft, srml, srml-learnable of seed 0
    finished = [pair_dir(out, arm, seed) / "done_test.json" for arm, seed in pairs[:4]]
    assert all(path.is_file() for path in finished)
    assert not (pair_dir(out, *pairs[4]) / "done_test.json").exists()
    stamps = [path.stat().st_mtime_ns for path in finished]
    trained = pair_dir(out, "sft", 0) / "train" / "final"
    trained_stamp = trained.stat().st_mtime_ns

    assert run(kill_after=0) == 0
    assert [path.stat().st_mtime_ns for path in finished] == stamps
    assert trained.stat().st_mtime_ns == trained_stamp  # not trained again
    for arm, seed in pairs:
        record = json.loads((pair_dir(out, arm, seed) / "done_test.json").read_text())
        assert set(record["scores"]["bfcl"]) == {"simple_python", "irrelevance"}
        assert record["scores"]["humaneval"] is not None

    entries = json.loads((out / "entries.json").read_text())
    assert {len(entries["bfcl"][c]["test"]) for c in ("simple_python", "irrelevance")} == {3}
    assert len(entries["humaneval"]) == 2
    results = json.loads((out / "results.json").read_text())
    assert set(results["arms"]) == set(config.arms) and not results["missing"]
    assert results["arms"]["srml"]["bfcl"]["overall"]["entries"] == 6
    assert results["arms"]["srml"]["bfcl"]["overall"]["runs"] == 2
    assert {(row["a"], row["b"]) for row in results["comparisons"]} >= {("srml", "sft"), ("srml", "srml-raw")}
    rounds = results["pairs"]["srml+sr2"]["0"]["rounds"]
    assert [r["round"] for r in rounds] == [1, 2] and all(r["queries"] == 4 for r in rounds)
    markdown = (out / "results.md").read_text()
    assert "| srml − sft |" in markdown and "## Self-refinement rounds" in markdown
    assert (out / "results.png").stat().st_size > 0

    # The arms of one seed train on one file; srml-raw on the same order with FCDR's rejects in.
    refined = [s.id for s in read_samples(out / "data" / "seed_0" / "refined.jsonl")]
    raw = [s.id for s in read_samples(out / "data" / "seed_0" / "raw.jsonl")]
    assert len(refined) == len(raw) == 8 and [i for i in raw if i in refined] == refined[: len(set(raw) & set(refined))]
    assert refined != [s.id for s in read_samples(out / "data" / "seed_1" / "refined.jsonl")]

    # Finished pairs are never mixed with other settings: a changed option is refused.
    changed = tiny_experiment(tiny_model_dir, out, train={"learning_rate": 5e-3})
    with pytest.raises(ValueError, match="finished with other settings"):
        run_experiment(changed)
    with pytest.raises(ValueError, match="other entries"):
        run_experiment(tiny_experiment(tiny_model_dir, out, eval={"test": 2}))
    with pytest.raises(ValueError, match="data made with other settings"):
        run_experiment(tiny_experiment(tiny_model_dir, out, data={"fault_share": 0.1}, arms={"base": {"kind": "base"}}))
    assert ExperimentConfig.model_validate(yaml.safe_load((out / "config.yaml").read_text())) == config  # kept


def test_arms_of_one_seed_see_the_same_samples_in_the_same_order(tiny_model_dir, tmp_path):
    tokenizer = PreTrainedTokenizerFast.from_pretrained(tiny_model_dir)
    encoded = [render_sample(s, tokenizer) for s in generate(12, seed=5)]

    def order(seed: int, **options) -> list[list[int]]:
        args = TrainingArguments(
            output_dir=str(tmp_path), per_device_train_batch_size=2, seed=seed, data_seed=seed,
            remove_unused_columns=False, report_to=[], use_cpu=True,
        )  # fmt: skip
        trainer = SRMLTrainer(
            model=AutoModelForCausalLM.from_pretrained(tiny_model_dir), args=args, train_dataset=encoded,
            data_collator=Collator(pad_token_id=tokenizer.pad_token_id), **options,
        )  # fmt: skip
        return [[sum(row) for row in batch["input_ids"].tolist()] for batch in trainer.get_train_dataloader()]

    sft = order(0, loss="sft")
    assert order(0, loss="srml", alpha=0.7) == sft
    assert order(0, loss="srml", alpha_mode="learnable") == sft
    assert order(1, loss="sft") != sft
    assert len(sft) == 6 and len({total for batch in sft for total in batch}) == 12  # every sample once


def test_config_errors_name_the_problem(tmp_path):
    with pytest.raises(ValueError, match="start 'nope' must name a train arm"):
        ExperimentConfig.model_validate({"arms": {"x": {"kind": "selfrefine", "start": "nope"}}})
    with pytest.raises(ValueError, match="may not set 'seed'"):
        ExperimentConfig.model_validate({"train": {"seed": 3}})
    with pytest.raises(ValueError, match="learning_rat"):
        ExperimentConfig.model_validate({"arms": {"a": {"train": {"learning_rat": 1.0}}}})
    with pytest.raises(ValueError, match="base arm trains nothing"):
        ExperimentConfig.model_validate({"arms": {"b": {"kind": "base", "data": "raw"}}})
