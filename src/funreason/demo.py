"""Run a `PipelineConfig` stage by stage and write `report.md`; the embedded demo presets.

Stages: data (+ injected faults) -> reasoning -> dataset stats -> FCDR -> BFCL (base) -> SRML
training -> BFCL (trained) -> self-refinement rounds -> report. Every number in the report is read
from the artifacts the stages wrote in this run's folder.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console

from funreason import runreport
from funreason.cot import add_reasoning
from funreason.formats import read as read_format
from funreason.llm.settings import ModelEndpoint, model_generator
from funreason.models import load_tokenizer
from funreason.pipeline import PipelineConfig, read_json, train_in_subprocess
from funreason.records import Rejects, read_samples, write_jsonl
from funreason.refine import make_judge, refine
from funreason.refine.faults import fault_catches, inject_faults
from funreason.stats import dataset_stats, stats_markdown, stats_table
from funreason.synth import generate

SMALL_EVAL = ["simple_python", "multiple", "parallel", "irrelevance"]


def demo_config(out: Path, *, quick: bool, seed: int = 0) -> PipelineConfig:
    """The embedded defaults: SmolLM2-135M, synthetic data with faults, rules judge, CPU-sized runs.

    Full: about 20 minutes on 2 CPU cores; quick: about 5.
    """
    size = (
        {"samples": 400, "train": 64, "steps": 3, "eval": 2, "queries": 4, "round_steps": 2, "tokens": 96}
        if quick
        else {"samples": 2000, "train": 256, "steps": 40, "eval": 5, "queries": 12, "round_steps": 8, "tokens": 384}
    )
    # chunk_size: the memory-lean loss is also the faster one on a CPU (benchmarks/loss_overhead.py).
    # One sample per micro-batch: no padding, which on a CPU costs as much as real tokens.
    train_options = {"lora_r": 16, "lora_dropout": 0.0, "learning_rate": 1e-3, "batch_size": 1, "grad_accum": 2,
                     "logging_steps": 1, "max_length": 1536, "warmup_ratio": 0.0, "chunk_size": 1024}  # fmt: skip
    return PipelineConfig.model_validate(
        {
            "out": out,
            "seed": seed,
            "data": {"source": "synth", "samples": size["samples"], "fault_share": 0.2},
            "train": {"samples": size["train"], "options": {**train_options, "max_steps": size["steps"]}},
            "evaluate": {"categories": SMALL_EVAL, "limit": size["eval"], "max_tokens": size["tokens"]},
            "selfrefine": {"rounds": 1, "queries": size["queries"], "temperature": 0.7,
                           "train": {**train_options, "max_steps": size["round_steps"]}},
        }  # fmt: skip
    )


class StageClock:
    """Times named stages and prints each as it finishes."""

    def __init__(self, console: Console):
        self.console = console
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self.console.rule(f"[bold]{name}")
        start = time.perf_counter()
        yield
        self.seconds[name] = time.perf_counter() - start
        self.console.print(f"[dim]{name}: {self.seconds[name]:.1f} s[/]")


def run_pipeline(config: PipelineConfig, console: Console) -> Path:
    """Run every stage of `config` into `config.out`; returns the path of `report.md`."""
    out = config.out
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.yaml").write_text(runreport.config_yaml(config), encoding="utf-8")
    clock, report = StageClock(console), runreport.Report(config)

    with clock.stage("data"):
        data, made = prepare_data(config, out / "data", console)
        report.add("Data", data_markdown(made, out / "data"))
    with clock.stage("stats"):
        table = dataset_stats(read_samples(data), load_tokenizer(config.model))
        console.print(stats_table(table))
        report.add(f"Dataset (tokens under {config.model})", stats_markdown(table))

    with clock.stage(f"refine (FCDR, {config.refine.judge} judge)"):
        refined_dir = out / "refine"
        summary = refine(data, refined_dir, make_refine_judge(config), progress=False,
                         max_regenerations=config.refine.max_regenerations, undecided=config.refine.undecided,
                         regenerator=make_regenerator(config))  # fmt: skip
        console.print(runreport.funnel_table(summary.funnel))
        removed = itertools.chain.from_iterable(
            read_samples(refined_dir / name) for name in ("hard.jsonl", "dropped.jsonl", "errors.jsonl")
        )
        catches = fault_catches(read_samples(refined_dir / "refined.jsonl"), removed)
        report.add("FCDR refinement", runreport.refine_markdown(summary, catches, config.data.fault_share > 0))

    scores: dict[str, dict[str, Any]] = {}
    if config.evaluate.enabled and config.evaluate.base:
        with clock.stage("evaluate base model"):
            scores["base"] = evaluate(config.model, out / "eval" / "base", config)

    with clock.stage("train (SRML)"):
        trained = train_model(config, refined_dir / "refined.jsonl", out / "train", console)
        console.print(runreport.losses_table(trained["log"]))
        report.add("SRML training", runreport.train_markdown(trained, config))

    if config.evaluate.enabled:
        with clock.stage("evaluate trained model"):
            scores["trained"] = evaluate(trained["model"], out / "eval" / "trained", config)

    if config.selfrefine.rounds:
        with clock.stage("self-refinement"):
            rounds = self_refine(config, trained["model"], refined_dir / "refined.jsonl", out / "selfrefine", console)
            report.add("Self-refinement", runreport.rounds_markdown(rounds))
            for row in rounds:
                if "scores" in row:
                    scores[f"self-refined (round {row['round']})"] = _counts(
                        out / "selfrefine" / f"round_{row['round']}" / "eval" / "scores.json"
                    )

    if scores:
        console.print(runreport.scores_table(scores))
        report.add("BFCL scores (accuracy per category)", runreport.scores_markdown(scores, config))
    path = report.write(out / "report.md", clock.seconds)
    console.print(f"report: {path}")
    return path


DATA_DONE = "data.json"  # written once the data files are complete: what made them, and what they hold


def prepare_data(config: PipelineConfig, folder: Path, console: Console) -> tuple[Path, dict[str, Any]]:
    """The dataset the run refines (synthetic or read from a file, faults injected, reasoning added)
    and what made it: `(path, record)`.

    A rerun reuses the files only when `data.json`, written after them, says they were made with the
    same settings; otherwise (an earlier run stopped midway, or the config changed) they are made
    again, and the console says why. Malformed source records are counted in the record and said.
    """
    section, seed = config.data, config.seed
    settings = {"source": section.source, "format": section.format, "samples": section.samples,
                "fault_share": section.fault_share, "seed": seed, "cot": config.cot.teacher}  # fmt: skip
    marker = folder / DATA_DONE
    record = read_json(marker) if marker.is_file() else {}
    if record.get("settings") == settings:
        return Path(record["path"]), record
    if record or (folder / "samples.jsonl").is_file():
        console.print(f"data: {folder} was not finished by an earlier run, or made with other settings; making it again")
    marker.unlink(missing_ok=True)
    path = folder / "samples.jsonl"
    rejects = Rejects(folder / "rejects.jsonl")
    (folder / "rejects.jsonl").unlink(missing_ok=True)
    if section.source == "synth":
        samples = generate(section.samples, seed)
    else:
        samples = itertools.islice(read_format(section.source, section.format, rejects), section.samples)
    with rejects:
        written = write_jsonl(path, inject_faults(samples, section.fault_share, seed) if section.fault_share else samples)
    if rejects.count:
        console.print(f"[yellow]data: {rejects.count} malformed record(s) skipped[/], written to {rejects.path}; "
                      f"first: {rejects.examples[0]}", highlight=False)
    taught = None
    if config.cot.teacher != "keep":
        with_reasoning = folder / "samples.cot.jsonl"
        if config.cot.teacher == "template":
            taught = add_reasoning(path, with_reasoning, "template", overwrite=True)
        else:
            teacher = config.cot.generator(role="the LLM teacher (cot.teacher: llm)")
            taught = add_reasoning(path, with_reasoning, teacher, overwrite=True,
                                   **config.cot.request_settings(max_tokens=2048))
        if taught.errors:
            console.print(f"[yellow]data: {taught.errors} sample(s) got no reasoning from the teacher[/], written "
                          f"with the reason to {taught.errors_path}", highlight=False)
        path = with_reasoning
    record = {"settings": settings, "path": str(path), "samples": written, "rejects": rejects.count,
              "first_reject": rejects.examples[0] if rejects.examples else None,
              "no_reasoning": taught.errors if taught else 0,
              "no_reasoning_path": str(taught.errors_path) if taught and taught.errors else None}  # fmt: skip
    marker.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path, record


def data_markdown(record: dict[str, Any], folder: Path) -> str:
    """The data section of `report.md`: what was read, and what was skipped or left out."""
    source = record["settings"]["source"]
    line = f"{record['samples']} samples from {'the synthetic generator' if source == 'synth' else source}"
    if record["rejects"]:
        line += (f"; **{record['rejects']} malformed record(s) skipped** (`{folder / 'rejects.jsonl'}`; "
                 f"first: {record['first_reject']})")
    if record.get("no_reasoning"):
        line += (f"; **{record['no_reasoning']} got no reasoning from the teacher** and are left out "
                 f"(`{record['no_reasoning_path']}`, each with the reason)")
    return line + "."


def make_refine_judge(config: PipelineConfig) -> Any:
    section = config.refine
    return make_judge(section.judge, **section.judge_options())


def make_regenerator(config: PipelineConfig) -> Any:
    """The teacher that rewrites stage 4-5 failures, or None (they go to the hard pool)."""
    from funreason.refine.teacher import TeacherRegenerator

    section = config.refine.regenerator
    if section is None:
        return None
    generator = section.generator(role="the regenerator (refine.regenerator)")
    return TeacherRegenerator(generator, **section.request_settings(max_tokens=4096))


def train_model(config: PipelineConfig, refined: Path, output: Path, console: Console) -> dict[str, Any]:
    """Train on the refined data (or reuse a finished run); returns the model path and its log."""
    from funreason.train.config import TrainConfig
    from funreason.train.run import FINAL_DIR, train

    data = output.parent / "data" / "train.jsonl"
    if not (output / FINAL_DIR).is_dir():
        write_jsonl(data, itertools.islice(read_samples(refined), config.train.samples))
        options = {"seed": config.seed, **config.train.options}
        train_config = TrainConfig(model=config.model, data=data, output=output, **options)
        if config.train.accelerate_config:
            train_in_subprocess(train_config, config.train.accelerate_config, console)
        else:
            train(train_config, console=console)
    run = read_json(output / "run.json")
    log = [json.loads(line) for line in (output / "log.jsonl").read_text().splitlines() if line.strip()]
    return {"model": str(output / FINAL_DIR), "log": log, **run["summary"]}


def evaluate(model: str, out: Path, config: PipelineConfig) -> dict[str, dict[str, int]]:
    """Entries right and entries scored per BFCL category of `model`, generated locally or on the
    evaluate section's endpoint (resumes an interrupted run)."""
    from funreason.evaluate.run import evaluate_bfcl

    section = config.evaluate
    generator = model_generator(model, section, config.model, section.batch_size)
    summary = evaluate_bfcl(generator, out, categories=section.categories, limit=section.limit,
                            max_tokens=section.max_tokens, seed=config.seed, meta={"model": model})  # fmt: skip
    return {name: {"correct": score.correct, "total": score.total} for name, score in summary.scores.items()}


def _endpoint_of(section: ModelEndpoint) -> dict[str, Any] | None:
    """A section's endpoint settings as set, for `SelfRefineConfig` (None: generate locally); the
    sampling settings stay the section's own."""
    if not section.endpoint:
        return None
    return section.model_dump(include=set(ModelEndpoint.model_fields) - {"max_tokens", "temperature"}, exclude_unset=True)


def _counts(scores_json: Path) -> dict[str, dict[str, int]]:
    """Entries right and scored per category, from an evaluation's scores.json."""
    categories = read_json(scores_json)["categories"]
    return {name: {"correct": c["correct"], "total": c["total"]} for name, c in categories.items()}


def self_refine(config: PipelineConfig, model: str, queries: Path, out: Path, console: Console) -> list[dict[str, Any]]:
    """Self-refinement rounds that start from the trained model and ask the refined data's queries."""
    from funreason.selfrefine import SelfRefineConfig, selfrefine

    section = config.selfrefine
    settings = SelfRefineConfig(
        model=model, queries=queries, out=out, rounds=section.rounds, hard_only=section.hard_only,
        samples_per_query=section.samples_per_query, temperature=section.temperature,
        max_queries=section.queries, max_new_tokens=section.max_tokens or config.evaluate.max_tokens,
        replay=section.replay, judge=config.refine.judge, judge_options=config.refine.judge_options(),
        rollout_endpoint=_endpoint_of(section), eval_endpoint=_endpoint_of(config.evaluate), served=config.model,
        replay_data=config.out / "data" / "train.jsonl", train=section.train,
        eval_categories=config.evaluate.categories, eval_max_tokens=config.evaluate.max_tokens, eval_limit=config.evaluate.limit,
        evaluate=config.evaluate.enabled, seed=config.seed,
    )  # fmt: skip
    return selfrefine(settings, console=console)
