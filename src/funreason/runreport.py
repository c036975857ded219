"""The pieces of a pipeline run's `report.md` and of its console output (tables built from the
artifacts the stages wrote)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import yaml
from rich.table import Table

from funreason.runinfo import run_info

LOSS_KEYS = ("loss", "loss_think", "loss_result", "alpha")


class Report:
    """Sections of Markdown gathered while a pipeline runs, written once at its end."""

    def __init__(self, config: Any):
        self.config = config
        self.sections: list[tuple[str, str]] = []

    def add(self, title: str, body: str) -> None:
        self.sections.append((title, body))

    def write(self, path: Path, seconds: dict[str, float]) -> Path:
        info = run_info()
        header = (
            f"# funreason run\n\nModel `{self.config.model}`, seed {self.config.seed}; funreason {info['funreason']}, "
            f"commit `{info['git_commit']}`, {info['hardware']}, {info['date']}. Config: `config.yaml`.\n"
        )
        body = "".join(f"\n## {title}\n\n{text}" for title, text in self.sections)
        path.write_text(header + body + f"\n## Time per stage\n\n{seconds_markdown(seconds)}", encoding="utf-8")
        return path


def config_yaml(config: Any) -> str:
    """The resolved config as YAML, with what ran it, saved beside the outputs."""
    return yaml.safe_dump({**config.model_dump(mode="json"), "run": run_info()}, sort_keys=False)


def seconds_markdown(seconds: dict[str, float]) -> str:
    rows = "".join(f"| {name} | {secs:.1f} |\n" for name, secs in seconds.items())
    return f"| stage | seconds |\n|---|---:|\n{rows}| **total** | **{sum(seconds.values()):.1f}** |\n"


def funnel_table(funnel: dict[str, int]) -> Table:
    table = Table(title="FCDR funnel: samples past each stage")
    table.add_column("stage")
    table.add_column("samples", justify="right")
    for stage, count in funnel.items():
        table.add_row(stage, str(count))
    return table


def refine_markdown(summary: Any, catches: dict[str, dict[str, int]], injected: bool) -> str:
    """Outcome counts, the funnel plot, and (when faults were injected) recall per fault kind."""
    text = (
        f"{summary.refined} refined, {summary.hard} hard, {summary.dropped} dropped, {summary.errors} errors "
        f"of {summary.input} samples; full report: `refine/report.md`.\n\n![funnel](refine/funnel.png)\n"
    )
    if not injected:
        return text
    lines = ["| injected fault | samples | removed | repaired | caught (recall) |", "|---|---:|---:|---:|---:|"]
    for kind, row in catches.items():
        if row["samples"]:
            label = "none (clean: catches are false positives)" if kind == "clean" else kind
            caught = row["removed"] + row["repaired"]
            lines.append(f"| {label} | {row['samples']} | {row['removed']} | {row['repaired']} | "
                         f"{caught / row['samples']:.3f} |")  # fmt: skip
    return text + "\n" + "\n".join(lines) + "\n"


def _loss_rows(log: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [row for row in log if "loss_think" in row]


def losses_table(log: list[dict[str, Any]]) -> Table:
    table = Table(title="per-segment training loss")
    table.add_column("step", justify="right")
    for key in LOSS_KEYS:
        table.add_column(key, justify="right")
    for row in _loss_rows(log):
        table.add_row(str(row["step"]), *(f"{row.get(key, math.nan):.4f}" for key in LOSS_KEYS))
    return table


def train_markdown(trained: dict[str, Any], config: Any) -> str:
    options = config.train.options
    lines = ["| step | " + " | ".join(LOSS_KEYS) + " |", "|---:|" + "---:|" * len(LOSS_KEYS)]
    for row in _loss_rows(trained["log"]):
        lines.append(f"| {row['step']} | " + " | ".join(f"{row.get(key, math.nan):.4f}" for key in LOSS_KEYS) + " |")
    shapes = ", ".join(
        f"{shape} {c['trained']}" + (f" ({c['skipped']} skipped)" if c["skipped"] else "")
        for shape, c in (trained.get("shapes") or {}).items()
    )
    warnings = "".join(f"\n\n**Warning:** {line}" for line in trained.get("warnings") or [])
    return (
        f"{trained['steps']} optimiser steps on {trained['samples']} samples ({trained['skipped']} too long skipped), "
        f"LoRA r={options.get('lora_r', 16)}, {options.get('loss', 'srml')} loss, alpha {options.get('alpha', 0.7)}; "
        f"{trained['seconds']:.0f} s. Model: `train/final`.\n\nCall shapes trained on: {shapes or '-'}.{warnings}"
        "\n\n![losses](train/loss.png)\n\n" + "\n".join(lines) + "\n"
    )


def rounds_markdown(rounds: list[dict[str, Any]]) -> str:
    lines = ["| round | queries | answers | wrong kind | refined | train steps | last loss |", "|---:|" + "---:|" * 6]
    for row in rounds:
        train = row.get("train") or {}
        last = train.get("last_loss")
        lines.append(
            f"| {row['round']} | {row['queries']} | {row['generated'] + row['mismatched']} | {row['mismatched']} | "
            f"{row['refine']['refined']} | {train.get('steps', 0)} | {'-' if last is None else f'{last:.4f}'} |"
        )
    return "Artifacts per round under `selfrefine/round_K/`.\n\n" + "\n".join(lines) + "\n"


Counts = dict[str, dict[str, dict[str, int]]]  # model -> category -> {"correct", "total"}


def _categories(scores: Counts) -> list[str]:
    return list(dict.fromkeys(name for by_category in scores.values() for name in by_category))


def _score(count: dict[str, int] | None) -> str:
    """`40.0% (2/5)`: the accuracy with the entries it rests on."""
    if not count or not count["total"]:
        return "-"
    return f"{count['correct'] / count['total']:.1%} ({count['correct']}/{count['total']})"


def _mean(counts: list[dict[str, int] | None]) -> str:
    """The unweighted mean of the category accuracies, and how many entries it rests on."""
    present = [c for c in counts if c and c["total"]]
    if not present:
        return "-"
    mean = sum(c["correct"] / c["total"] for c in present) / len(present)
    return f"{mean:.1%} (n={sum(c['total'] for c in present)})"


def scores_table(scores: Counts) -> Table:
    table = Table(title="BFCL accuracy by category (right / entries)")
    table.add_column("model")
    names = _categories(scores)
    for name in [*names, "mean"]:
        table.add_column(name, justify="right")
    for label, by_category in scores.items():
        values = [by_category.get(name) for name in names]
        table.add_row(label, *(_score(v) for v in values), _mean(values))
    return table


def scores_markdown(scores: Counts, config: Any) -> str:
    names = _categories(scores)
    limit = config.evaluate.limit
    lines = ["| model | " + " | ".join([*names, "mean"]) + " |", "|---|" + "---:|" * (len(names) + 1)]
    for label, by_category in scores.items():
        values = [by_category.get(name) for name in names]
        lines.append(f"| {label} | " + " | ".join(_score(v) for v in values) + f" | {_mean(values)} |")
    scope = f"the first {limit} entries of each category" if limit else "every entry"
    caution = (
        f" With {limit} entries a category, one entry moves its score by {1 / limit:.0%}: differences of a "
        "few entries are noise here; `funreason experiment` measures with enough entries to tell."
        if limit and limit < 40 else ""
    )
    return (
        f"BFCL {', '.join(names)}, {scope}; per-entry results under `eval/*/results.jsonl` and "
        f"`selfrefine/round_K/eval/`.{caution}\n\n" + "\n".join(lines) + "\n"
    )
