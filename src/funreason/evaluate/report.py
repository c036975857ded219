"""Reports of BFCL scores: the Markdown table, the bar chart, and the comparison of two runs.

Everything here reads the `scores.json` document that `evaluate.run` writes:
`{"summary": {key: fraction | None}, "categories": {name: {"correct", "total", "accuracy"}},
"counts": {...}, "run": {...self-description...}}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from funreason.evaluate.scores import SUMMARY_KEYS

SCORES_JSON = "scores.json"
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
    """What a scores document was made with: its model, else its generator, else `default`."""
    run = doc.get("run", {})
    return str(run.get("model") or run.get("generator") or default)


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


def write_report(out_dir: str | Path, doc: dict[str, Any]) -> None:
    """Write `scores.json`, `scores.md` and `scores.png` of a scores document into `out_dir`."""
    out = Path(out_dir)
    text = json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
    (out / SCORES_JSON).write_text(text, encoding="utf-8")
    (out / "scores.md").write_text(scores_markdown(doc), encoding="utf-8")
    plot_scores(doc, out / "scores.png")


# --- comparing two runs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Delta:
    """One score in two runs: accuracies as fractions (None: absent or n/a) and entry counts."""

    name: str
    a: float | None
    b: float | None
    total_a: int | None = None
    total_b: int | None = None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def same_entries(self) -> bool:
        return self.total_a == self.total_b


@dataclass(frozen=True)
class Comparison:
    """Per-score deltas of run `b` against run `a` (summaries first, then categories)."""

    label_a: str
    label_b: str
    rows: list[Delta]

    def markdown(self) -> str:
        lines = [f"| score | {self.label_a} | {self.label_b} | Δ (points) |", "|---|---:|---:|---:|"]
        for row in self.rows:
            lines.append(
                f"| {row.name} | {percent(row.a)} | {percent(row.b)} | {_signed(row.delta)}{_flag(row)} |"
            )
        if any(not row.same_entries for row in self.rows):
            lines += ["", "\\* the two runs scored a different number of entries in this category."]
        return "\n".join(lines) + "\n"

    def table(self) -> Any:
        """The comparison as a rich Table, gains green and losses red."""
        from rich.table import Table

        table = Table(title=f"BFCL: {self.label_b} vs {self.label_a}")
        table.add_column("score")
        for header in (self.label_a, self.label_b, "Δ points"):
            table.add_column(header, justify="right")
        for row in self.rows:
            delta = row.delta
            style = "" if not delta else "green" if delta > 0 else "red"
            name = f"[bold]{row.name}[/bold]" if row.total_a is None else row.name
            table.add_row(
                name,
                percent(row.a),
                percent(row.b),
                f"[{style}]{_signed(delta)}{_flag(row)}[/]" if style else _signed(delta) + _flag(row),
            )
        return table


def _signed(delta: float | None) -> str:
    return "n/a" if delta is None else f"{100 * delta:+.2f}"


def _flag(row: Delta) -> str:
    return "" if row.same_entries else "*"


def read_scores(run_dir: str | Path) -> dict[str, Any]:
    """The `scores.json` document of an evaluation folder (or the file itself)."""
    path = Path(run_dir)
    path = path / SCORES_JSON if path.is_dir() else path
    if not path.is_file():
        raise FileNotFoundError(f"no {SCORES_JSON} at {path}: evaluate into that folder first")
    return json.loads(path.read_text(encoding="utf-8"))


def compare(dir_a: str | Path, dir_b: str | Path) -> Comparison:
    """Deltas of the run in `dir_b` against the run in `dir_a`, from their `scores.json`."""
    doc_a, doc_b = read_scores(dir_a), read_scores(dir_b)
    rows = [
        Delta(SUMMARY_LABELS[key], doc_a["summary"].get(key), doc_b["summary"].get(key))
        for key in SUMMARY_KEYS
    ]
    cats_a, cats_b = doc_a["categories"], doc_b["categories"]
    for name in [*cats_a, *(name for name in cats_b if name not in cats_a)]:
        a, b = cats_a.get(name, {}), cats_b.get(name, {})
        rows.append(Delta(name, a.get("accuracy"), b.get("accuracy"), a.get("total", 0), b.get("total", 0)))
    label_a, label_b = run_label(doc_a, str(dir_a)), run_label(doc_b, str(dir_b))
    if label_a == label_b:  # the same model twice (e.g. two adapters): name the runs by folder
        label_a, label_b = str(dir_a), str(dir_b)
    return Comparison(label_a, label_b, rows)
