"""Run an experiment: one dataset, every arm x seed trained and scored on the same fixed entries.

Layout under `out/`, each piece written once and reused by every later run:

    config.yaml, entries.json      the resolved config; the dev/test BFCL ids and HumanEval ids
    data/samples.jsonl             synthetic samples with injected faults (the `raw` data)
    data/refine/                   FCDR (rules judge) of them: refined.jsonl is the `refined` data
    data/seed_K/{refined,raw}.jsonl  what the arms of seed K train on, in one seeded order
    selfrefine/seed_K/START/       the self-refinement rounds of seed K from arm START's model
    arms/ARM/seed_K/               train/ (checkpoints, final model), bfcl_SPLIT/, humaneval/,
                                   done_SPLIT.json (written last: the pair is finished)
    results.json, results.md, results.png

Resuming: a pair with `done_SPLIT.json` is never redone; a pair stopped inside resumes its training
from the last checkpoint and its BFCL evaluation from the rows already written. `done_SPLIT.json`
records the options the pair ran with, and a rerun with other options for a finished pair is
refused rather than mixed into one table. The arms of one seed train on the same file with the same
seed, so they see the same samples in the same order; `raw` keeps that order with FCDR's rejects
put back where they were.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console

from funreason.experiment.config import ExperimentConfig
from funreason.records import Sample, atomic_output, read_samples, write_jsonl
from funreason.refine.rules import RulesJudge
from funreason.runinfo import run_info

BASE_SEED = "any"  # folder of a seed-independent (untrained) arm


def run_experiment(config: ExperimentConfig, console: Console | None = None) -> Path:
    """Run (or resume) every arm x seed of `config`, then write the results; returns results.md."""
    from funreason.experiment.report import write_results

    console = console or Console(stderr=True)
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    entries = fixed_entries(config)
    for arm, seed in schedule(config):  # refuse a changed config before anything is written
        finished(config, arm, seed)
    console.rule("[bold]data")
    raw, refined = prepare_data(config, console)
    (out / "config.yaml").write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), encoding="utf-8")
    for seed in config.seeds:
        seed_data(raw, refined, out / "data" / f"seed_{seed}", seed, config.data.train_samples)
    for arm, seed in schedule(config):
        run_pair(config, arm, seed, entries, console)
    return write_results(config, entries)


def schedule(config: ExperimentConfig) -> list[tuple[str, int | None]]:
    """The (arm, seed) pairs in running order: seed-independent arms first, then seed by seed the
    train arms before the self-refinement arms that start from them."""
    pairs: list[tuple[str, int | None]] = [(name, None) for name, arm in config.arms.items() if arm.kind == "base"]
    for seed in config.seeds:
        pairs += [(name, seed) for name, arm in config.arms.items() if arm.kind == "train"]
        selfrefining = [(arm.rounds, name) for name, arm in config.arms.items() if arm.kind == "selfrefine"]
        pairs += [(name, seed) for _, name in sorted(selfrefining)]
    return pairs


def pair_dir(out: Path, arm: str, seed: int | None) -> Path:
    return out / "arms" / arm / f"seed_{BASE_SEED if seed is None else seed}"


# --- entries and data --------------------------------------------------------------------------------


def fixed_entries(config: ExperimentConfig) -> dict[str, Any]:
    """The BFCL dev/test ids and the HumanEval ids, drawn once and kept in `entries.json`.

    A later run recomputes them; a different result (other split options, other data) is an error,
    so that every arm of an experiment is scored on the same entries.
    """
    from funreason.experiment.subset import bfcl_split, humaneval_subset

    section = config.eval
    drawn: dict[str, Any] = {
        "split_seed": section.split_seed,
        "bfcl": bfcl_split(section.categories, section.split_seed, section.dev, section.test),
        "humaneval": [],
    }
    if section.humaneval:
        from funreason.evaluate.humaneval import load_problems

        ids = [problem["task_id"] for problem in load_problems()]
        drawn["humaneval"] = humaneval_subset(ids, section.split_seed, section.humaneval)
    path = config.out / "entries.json"
    if path.is_file():
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept != drawn:
            raise ValueError(
                f"{path} holds other entries than this config draws (changed categories, split sizes or "
                "seed?); use another --out, or delete the folder to start over"
            )
    else:
        _write_json(path, drawn)
    return drawn


def split_ids(entries: dict[str, Any], split: str) -> list[str]:
    return [entry for ids in entries["bfcl"].values() for entry in ids[split]]


def prepare_data(config: ExperimentConfig, console: Console) -> tuple[list[Sample], dict[str, Sample]]:
    """The synthetic samples with their faults (written once) and FCDR's refined samples by id."""
    from funreason.refine import make_judge, refine
    from funreason.refine.faults import inject_faults
    from funreason.synth import generate

    folder = config.out / "data"
    samples = folder / "samples.jsonl"
    manifest = {"data": config.data.model_dump(mode="json"), "judge": ["rules", RulesJudge().version]}
    _check_manifest(folder / "manifest.json", manifest)
    if not samples.is_file():
        section = config.data  # written whole or not at all (`write_jsonl`): its presence means finished
        write_jsonl(samples, inject_faults(generate(section.samples, section.seed), section.fault_share, section.seed))
    summary = refine(samples, folder / "refine", make_judge("rules"), progress=False)
    console.print(f"FCDR kept {summary.refined} of {summary.input} samples "
                  f"({summary.hard} hard, {summary.dropped} dropped, {summary.errors} judge errors)")
    refined = {sample.id: sample for sample in read_samples(folder / "refine" / "refined.jsonl")}
    return list(read_samples(samples)), refined


def seed_data(raw: list[Sample], refined: dict[str, Sample], folder: Path, seed: int, size: int | None) -> None:
    """`refined.jsonl` and `raw.jsonl` of one seed: one seeded order of the raw samples; `raw` takes
    its first `size`, `refined` the first `size` of those FCDR kept (in their refined form)."""
    if (folder / "refined.jsonl").is_file() and (folder / "raw.jsonl").is_file():
        return
    order = list(raw)
    random.Random(f"funreason-data:{seed}").shuffle(order)
    kept = [refined[sample.id] for sample in order if sample.id in refined]
    for name, samples in (("raw.jsonl", order[:size]), ("refined.jsonl", kept[:size])):  # refined last
        write_jsonl(folder / name, samples)  # whole or not at all


def _check_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Refuse data made with other settings than the config's (written on first use)."""
    if path.is_file():
        if json.loads(path.read_text(encoding="utf-8")) != manifest:
            raise ValueError(
                f"{path.parent} holds data made with other settings than this config's data section; "
                "use another --out, or delete the folder to start over"
            )
    else:
        _write_json(path, manifest)


# --- one (arm, seed) pair ----------------------------------------------------------------------------


def run_pair(
    config: ExperimentConfig, arm: str, seed: int | None, entries: dict[str, Any], console: Console
) -> dict[str, Any]:
    """Train (or self-refine) and evaluate one pair, unless it is already done; returns its record."""
    record = finished(config, arm, seed)
    if record is not None:
        console.print(f"[dim]{arm}, seed {seed}: done[/]")
        return record
    folder = pair_dir(config.out, arm, seed)
    done = folder / f"done_{config.eval.split}.json"
    settings = pair_settings(config, arm, seed)
    console.rule(f"[bold]{arm}, seed {seed}")
    folder.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"arm": arm, "seed": seed, "settings": settings, "load_before": os.getloadavg()}
    started = time.perf_counter()
    record["model"] = model_for(config, arm, seed, folder, record, console)
    record["train_seconds"] = round(time.perf_counter() - started, 1)
    evaluated = time.perf_counter()
    record["scores"] = evaluate_pair(config, record["model"], folder, entries, seed)
    record["eval_seconds"] = round(time.perf_counter() - evaluated, 1)
    record["load_after"] = os.getloadavg()
    record["run"] = run_info()
    _write_json(done, record)
    console.print(f"{arm}, seed {seed}: {record['scores']['bfcl']}")
    return record


def finished(config: ExperimentConfig, arm: str, seed: int | None) -> dict[str, Any] | None:
    """The record of a finished pair, None if it is not finished; a pair finished with other settings
    than `config` gives it is an error (it would mix two experiments in one table)."""
    folder = pair_dir(config.out, arm, seed)
    done = folder / f"done_{config.eval.split}.json"
    if not done.is_file():
        return None
    record = json.loads(done.read_text(encoding="utf-8"))
    if record["settings"] != pair_settings(config, arm, seed):
        raise ValueError(
            f"{arm} (seed {seed}) finished with other settings than this config gives it; "
            f"use another --out, or delete {folder} to run it again"
        )
    return record


def pair_settings(config: ExperimentConfig, arm: str, seed: int | None) -> dict[str, Any]:
    """What decides a pair's result, compared on resume."""
    spec = config.arms[arm]
    settings: dict[str, Any] = {"kind": spec.kind, "model": config.model, "eval": config.eval.model_dump(mode="json")}
    if spec.kind == "base":
        return settings
    settings["data"] = config.data.model_dump(mode="json")
    if spec.kind == "train":
        return {**settings, "data_kind": spec.data, "train": config.train_options(arm)}
    return {**settings, "start": pair_settings(config, spec.start or "", seed)["train"], "rounds": spec.rounds,
            "selfrefine": config.selfrefine.model_dump(mode="json"), "train": config.train}  # fmt: skip


def model_for(
    config: ExperimentConfig, arm: str, seed: int | None, folder: Path, record: dict[str, Any], console: Console
) -> str:
    """The pair's model: the base model, a trained one (resuming its checkpoints), or the model after
    the arm's self-refinement rounds. Training details go into `record`."""
    from funreason.train.config import TrainConfig
    from funreason.train.run import train

    spec = config.arms[arm]
    if spec.kind == "base":
        return config.model
    assert seed is not None
    if spec.kind == "train":
        data = config.out / "data" / f"seed_{seed}" / f"{spec.data}.jsonl"
        options = {**config.train_options(arm), "seed": seed}
        summary = train(TrainConfig(model=config.model, data=data, output=folder / "train", **options), console=console)
        record["train"] = {"samples": summary.samples, "shapes": summary.shapes, "steps": summary.steps,
                           "first_loss": summary.first_loss, "last_loss": summary.last_loss,
                           "alpha": [row["alpha"] for row in summary.log if "alpha" in row][-1:] or None,
                           "warnings": summary.warnings}  # fmt: skip
        return summary.output
    rounds = self_refine(config, spec.start or "", spec.rounds, seed, console)
    record["rounds"] = [
        {"round": r["round"], "queries": r["queries"], "answers": r["generated"] + r["mismatched"],
         "wrong_kind": r["mismatched"], "kept_by_fcdr": r["refine"].get("refined"),
         "trained_on": r["train"]["samples"] if r.get("train") else 0, "steps": (r.get("train") or {}).get("steps", 0)}
        for r in rounds
    ]  # fmt: skip
    return rounds[-1]["model_out"]


def self_refine(config: ExperimentConfig, start: str, rounds: int, seed: int, console: Console) -> list[dict[str, Any]]:
    """Rounds 1..`rounds` of self-refinement of seed `seed` from arm `start`'s model (done rounds reused)."""
    from funreason.selfrefine import SelfRefineConfig, selfrefine

    start_record = json.loads((pair_dir(config.out, start, seed) / f"done_{config.eval.split}.json").read_text())
    section = config.selfrefine
    train_options = {**config.train_options(start), **section.train}
    folder = config.out / "selfrefine" / f"seed_{seed}" / start
    # Rounds are reused by later arms: only while they grew from this very start model and settings.
    _check_manifest(folder / "start.json", {"start": start_record["settings"], "model": start_record["model"],
                                            "selfrefine": section.model_dump(mode="json")})  # fmt: skip
    settings = SelfRefineConfig(
        model=start_record["model"], queries=config.out / "data" / f"seed_{seed}" / "refined.jsonl",
        out=folder, rounds=rounds,
        samples_per_query=section.samples_per_query, temperature=section.temperature, max_queries=section.queries,
        max_new_tokens=section.max_new_tokens, generation_batch_size=config.eval.batch_size, replay=section.replay,
        replay_data=config.out / "data" / f"seed_{seed}" / "refined.jsonl", train=train_options, evaluate=False,
        seed=seed,
    )  # fmt: skip
    return selfrefine(settings, console=console)


def evaluate_pair(
    config: ExperimentConfig, model: str, folder: Path, entries: dict[str, Any], seed: int | None
) -> dict[str, Any]:
    """BFCL on the split's fixed entries and HumanEval on the fixed problems, greedy, one loaded model."""
    from funreason.evaluate.humaneval import run_humaneval
    from funreason.evaluate.run import evaluate_bfcl
    from funreason.llm.local import LocalGenerator
    from funreason.models import load_model

    section = config.eval
    loaded, tokenizer = load_model(model)
    generator = LocalGenerator(loaded, tokenizer, batch_size=section.batch_size)
    bfcl = evaluate_bfcl(
        generator, folder / f"bfcl_{section.split}", categories=section.categories,
        ids=split_ids(entries, section.split), max_tokens=section.max_tokens, seed=seed or 0,
        meta={"model": model},
    )  # fmt: skip
    scores: dict[str, Any] = {"bfcl": {name: round(score.accuracy, 4) for name, score in bfcl.scores.items()}}
    if entries["humaneval"]:
        humaneval_dir = folder / "humaneval"
        if not (humaneval_dir / "scores.json").is_file():
            run_humaneval(generator, humaneval_dir, task_ids=entries["humaneval"], max_tokens=section.humaneval_max_tokens)
        scores["humaneval"] = json.loads((humaneval_dir / "scores.json").read_text()).get("pass@1")
    scores["generation"] = {"tokens_per_s": round(generator.stats.tokens_per_s, 1),
                            "completion_tokens": generator.stats.completion_tokens}  # fmt: skip
    return scores


def _write_json(path: Path, value: Any) -> None:
    """Written whole or not at all: a kill leaves the old file or none, never half of one."""
    with atomic_output(path) as handle:
        handle.write(json.dumps(value, indent=2, default=str) + "\n")
