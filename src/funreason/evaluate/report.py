"""Reports of BFCL scores: the Markdown table, the bar chart, and the comparison of runs.

Everything here reads the `scores.json` document that `evaluate.run` writes:
`{"summary": {key: fraction | None}, "categories": {name: {"correct", "total", "accuracy"}},
"counts": {...}, "run": {...self-description...}}`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funreason.evaluate.scores import SUMMARY_KEYS

SCORES_JSON = "scores.json"
COMPARE_MD = "compare.md"
SUMMARY_LABELS = {
    "non_live_simple": "Non-Live Simple",
    "non_live_ast": "Non-Live AST",
    "live": "Live",
    "irrelevance": "Irrelevance",
    "relevance": "Relevance",
    "overall": "Overall",
    "multi_turn": "Multi-Turn",
    "bfcl_overall": "BFCL Overall (no Agentic)",
}


def percent(value: float | None) -> str:
    """`0.1234` -> `"12.34"`; None (a summary whose parts were not all run) -> `"n/a"`."""
    return "n/a" if value is None else f"{100 * value:.2f}"


def run_label(doc: dict[str, Any], default: str = "run") -> str:
    """What a scores document was made with: its model, else its generator, else its answer set's
    name, else `default`."""
    run = doc.get("run", {})
    return str(run.get("model") or run.get("generator") or run.get("answer_set") or default)


def scores_markdown(doc: dict[str, Any]) -> str:
    """`scores.md`: how the run was made, BFCL's summaries, then every category."""
    run = doc.get("run", {})
    config = run.get("config", {})
    commit = (run.get("git_commit") or "unknown")[:12]
    about = [
        ("model", run.get("model")),
        ("adapter", run.get("adapter")),
        ("generator", run.get("generator")),
        ("bfcl-eval", run.get("bfcl_eval_version")),
        ("funreason", f"{run.get('funreason')} (commit {commit})"),
        ("max tokens", config.get("max_tokens")),
        ("limit per category", config.get("limit")),
        ("seed", run.get("seed")),
        ("hardware", run.get("hardware")),
        ("device", run.get("device")),
        ("date", run.get("date")),
    ]
    lines = [f"# BFCL scores: {run_label(doc)}", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in about if value is not None]
    lines += ["", "## Summary (accuracy %)", "", "| score | accuracy |", "|---|---:|"]
    lines += [f"| {SUMMARY_LABELS[key]} | {percent(doc['summary'].get(key))} |" for key in SUMMARY_KEYS]
    lines += ["", (
        "n/a: not every category the score needs was run. Overall = (Non-Live AST + Live) / 2. "
        "BFCL Overall (no Agentic) = (10 Non-Live AST + 10 Live + 10 Irrelevance + 30 Multi-Turn) / 60."
    )]
    lines += ["", "## Categories", "", "| category | correct | total | accuracy % |", "|---|---:|---:|---:|"]
    for name, score in doc["categories"].items():
        lines.append(f"| {name} | {score['correct']} | {score['total']} | {percent(score['accuracy'])} |")
    counts = doc.get("counts", {})
    if counts:
        lines += ["", "## Counts", "", "| | |", "|---|---:|"]
        lines += [f"| {key.replace('_', ' ')} | {value} |" for key, value in counts.items()]
    return "\n".join(lines) + "\n"


def plot_scores(doc: dict[str, Any], path: str | Path) -> None:
    """`scores.png`: accuracy of every category and summary as horizontal bars."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    # Summaries on top (bold), then categories; n/a summaries are left out.
    bars = [(SUMMARY_LABELS[key], doc["summary"][key], True) for key in SUMMARY_KEYS]
    bars = [bar for bar in bars if bar[1] is not None]
    bars += [(f"{name} ({s['total']})", s["accuracy"], False) for name, s in doc["categories"].items()]
    figure = Figure(figsize=(8, 0.35 * len(bars) + 1.2))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(bars)))[::-1]
    values = [100 * value for _, value, _ in bars]
    colours = ["#d95f02" if summary else "#1b9e77" for _, _, summary in bars]
    axes.barh(positions, values, color=colours)
    axes.set_yticks(positions, [label for label, _, _ in bars])
    for tick, (_, _, summary) in zip(axes.get_yticklabels(), bars, strict=True):
        tick.set_fontweight("bold" if summary else "normal")
    for position, value in zip(positions, values, strict=True):
        axes.text(value + 1, position, f"{value:.1f}", va="center", fontsize=8)
    axes.set_xlim(0, 110)
    axes.set_xlabel("accuracy %")
    axes.set_title(f"BFCL: {run_label(doc)}", fontsize=10)
    figure.tight_layout()
    figure.savefig(str(path), dpi=120)


def write_report(out_dir: str | Path, doc: dict[str, Any], *, plot: bool = True) -> None:
    """Write `scores.json`, `scores.md` and (`plot`) `scores.png` of a scores document into `out_dir`."""
    out = Path(out_dir)
    text = json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
    (out / SCORES_JSON).write_text(text, encoding="utf-8")
    (out / "scores.md").write_text(scores_markdown(doc), encoding="utf-8")
    if plot:
        plot_scores(doc, out / "scores.png")


def plot_run(run_dir: str | Path) -> Path:
    """Draw `scores.png` of an evaluation folder from its `scores.json` (matplotlib takes a second
    to import: the CLI prints the scores first); returns the image's path."""
    path = Path(run_dir) / "scores.png"
    plot_scores(read_scores(run_dir), path)
    return path


# --- comparing runs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreRow:
    """One score in several runs: accuracies as fractions (None: absent or n/a), and for a category
    the entries each run scored (None for BFCL's summaries)."""

    name: str
    values: tuple[float | None, ...]
    totals: tuple[int, ...] | None = None

    def delta(self, run: int) -> float | None:
        """Run `run` minus the first run (the baseline), as a fraction; None when either is absent."""
        base, value = self.values[0], self.values[run]
        return None if base is None or value is None else value - base

    def same_entries(self, run: int) -> bool:
        """Whether run `run` scored as many entries as the baseline (always true for a summary)."""
        return self.totals is None or self.totals[run] == self.totals[0]


@dataclass(frozen=True)
class Comparison:
    """Scores of several runs side by side, each after the first with its delta against the first
    (BFCL's summaries first, then categories)."""

    labels: tuple[str, ...]
    rows: list[ScoreRow]

    def markdown(self) -> str:
        header = ["score", self.labels[0]] + [part for label in self.labels[1:] for part in (label, "Δ (points)")]
        lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
        for row in self.rows:
            cells = [row.name, percent(row.values[0])]
            for run in range(1, len(self.labels)):
                cells += [percent(row.values[run]), _signed(row.delta(run)) + _flag(row, run)]
            lines.append("| " + " | ".join(cells) + " |")
        if any(not row.same_entries(run) for row in self.rows for run in range(len(self.labels))):
            lines += ["", "\\* this run scored a different number of entries in this category than the first."]
        return "\n".join(lines) + "\n"

    def table(self) -> Any:
        """The comparison as a rich Table, gains green and losses red."""
        from rich.markup import escape
        from rich.table import Table

        table = Table(title="BFCL: " + " vs ".join(escape(label) for label in self.labels))
        table.add_column("score")
        table.add_column(escape(self.labels[0]), justify="right")
        for label in self.labels[1:]:
            table.add_column(escape(label), justify="right")
            table.add_column("Δ points", justify="right")
        for row in self.rows:
            cells = [f"[bold]{row.name}[/bold]" if row.totals is None else row.name, percent(row.values[0])]
            for run in range(1, len(self.labels)):
                delta = row.delta(run)
                style = "" if not delta else "green" if delta > 0 else "red"
                text = _signed(delta) + _flag(row, run)
                cells += [percent(row.values[run]), f"[{style}]{text}[/]" if style else text]
            table.add_row(*cells)
        return table


def _signed(delta: float | None) -> str:
    return "n/a" if delta is None else f"{100 * delta:+.2f}"


def _flag(row: ScoreRow, run: int) -> str:
    return "" if row.same_entries(run) else "*"


def read_scores(run_dir: str | Path) -> dict[str, Any]:
    """The `scores.json` document of an evaluation folder (or the file itself)."""
    path = Path(run_dir)
    path = path / SCORES_JSON if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"no {SCORES_JSON} at {path}: evaluate into that folder first")
    return json.loads(path.read_text(encoding="utf-8"))


def compare(*run_dirs: str | Path) -> Comparison:
    """The runs in `run_dirs` side by side, from their `scores.json`; the first is the baseline.

    Runs are labelled by model (else generator, else answer set); when two share a label, every run
    is labelled by its folder instead.
    """
    if len(run_dirs) < 2:
        raise ValueError(f"comparing needs at least two evaluation folders, got {len(run_dirs)}")
    docs = [read_scores(run_dir) for run_dir in run_dirs]
    rows = [ScoreRow(SUMMARY_LABELS[key], tuple(doc["summary"].get(key) for doc in docs)) for key in SUMMARY_KEYS]
    names = list(dict.fromkeys(name for doc in docs for name in doc["categories"]))
    for name in names:
        found = [doc["categories"].get(name, {}) for doc in docs]
        rows.append(
            ScoreRow(name, tuple(c.get("accuracy") for c in found), tuple(c.get("total", 0) for c in found))
        )
    labels = tuple(run_label(doc, str(run_dir)) for doc, run_dir in zip(docs, run_dirs, strict=True))
    if len(set(labels)) < len(labels):  # the same model twice (e.g. two adapters): name runs by folder
        labels = tuple(str(run_dir) for run_dir in run_dirs)
    return Comparison(labels, rows)


def write_compare(out_dir: str | Path, run_dirs: Sequence[str | Path]) -> Comparison:
    """`compare` the runs and write the table as `out_dir/compare.md`."""
    comparison = compare(*run_dirs)
    (Path(out_dir) / COMPARE_MD).write_text(comparison.markdown(), encoding="utf-8")
    return comparison
