"""The refinement report: outcomes, the per-stage funnel (table and PNG) and why samples failed.

Everything in it is computed from the stored outcomes, so a resumed run writes the same report as
an uninterrupted one (no times, no paths other than the input file's name). Failure reasons are
grouped by their kind, the text before the first colon (`"not offered: f is not ..."`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from funreason.records import atomic_output
from funreason.refine.judges import STAGES
from funreason.refine.stages import ATTEMPTS, OUTCOMES, TITLES

TOP_REASONS = 5
_SHOWN = ("fail", "undecided", "error")


class ReportStats:
    """Counts gathered over the stored outcomes, one sample at a time (`add`)."""

    def __init__(self) -> None:
        self.samples = 0
        self.statements = 0
        self.outcomes: Counter[str] = Counter()
        self.passed: Counter[str] = Counter()
        self.decisions: dict[str, Counter[str]] = defaultdict(Counter)
        self.reasons: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.examples: dict[tuple[str, str, str], str] = {}
        self.attempts: Counter[str] = Counter()  # regeneration attempts by kind (`stages.ATTEMPTS`)
        self.attempts_at: Counter[tuple[str, str]] = Counter()  # ... by (stage, kind)
        self.after: Counter[str] = Counter()  # outcomes of the samples that had an attempt
        self.undecided_kept = 0  # refined samples that passed a stage on an undecided verdict

    def add(self, outcome: str, stage: str, trail: list[list[str]]) -> None:
        """One sample: its outcome, the stage it ended at, and this run's steps: `[stage, decision, reason]`
        for a verdict, `[stage, attempt kind, note]` for a regeneration attempt."""
        self.samples += 1
        self.outcomes[outcome] += 1
        self.statements += outcome == "refined" and stage == STAGES[0]
        through_all = outcome == "refined" and stage == STAGES[-1]
        end = STAGES.index(stage)
        for index, name in enumerate(STAGES):
            if through_all or index < end:
                self.passed[name] += 1
        kinds = [decision for _, decision, _ in trail]
        if any(kind in ATTEMPTS for kind in kinds):
            self.after[outcome] += 1
        # The kept sample's own verdicts: those after its last rewrite (a rewrite is judged from stage 1 again).
        last = max((i for i, kind in enumerate(kinds) if kind == "rewritten"), default=-1)
        self.undecided_kept += outcome == "refined" and "undecided" in kinds[last + 1 :]
        for step, decision, reason in trail:
            if decision in ATTEMPTS:
                self.attempts[decision] += 1
                self.attempts_at[step, decision] += 1
                continue
            self.decisions[step][decision] += 1
            if decision in _SHOWN:
                kind = reason_kind(reason)
                self.reasons[step, decision][kind] += 1
                self.examples.setdefault((step, decision, kind), reason)

    def funnel(self) -> dict[str, int]:
        """Samples in, then samples that passed each stage."""
        return {"input": self.samples, **{stage: self.passed[stage] for stage in STAGES}}


def reason_kind(reason: str) -> str:
    """The group a reason belongs to: its text before the first colon (or its first 40 characters)."""
    head, colon, _ = reason.partition(":")
    return head.strip() if colon and len(head) <= 40 else reason[:40].strip()


def write_report(out_dir: Path, stats: ReportStats, *, input_name: str, settings: dict[str, Any],
                 rejects: int) -> Path:
    """Write `report.md` and `funnel.png` into `out_dir`; returns the report's path."""
    plot_funnel(stats, out_dir / "funnel.png")
    total = stats.samples or 1
    policy = settings["undecided"]
    lines = [
        "# FCDR refinement report", "",
        f"Input `{input_name}`: {stats.samples} samples ({_rejects_note(rejects)}). "
        f"Judge `{settings['judge']}` (version `{settings['judge_version']}`); undecided verdicts count as "
        f"`{policy}`; at most {settings['max_regenerations']} answer regeneration(s) per sample"
        + (f", regenerator `{settings['regenerator'][0]}`." if settings["regenerator"] else ", no regenerator."),
        "", "## Outcomes", "", "| outcome | samples | share |", "|---|---:|---:|",
    ]
    for outcome in OUTCOMES:
        count = stats.outcomes[outcome]
        lines.append(f"| {outcome} | {count} | {100 * count / total:.1f}% |")
    lines += ["", f"Refined includes {stats.statements} statement answers saved as they are at stage 1."]
    if policy == "pass" and stats.undecided_kept:
        lines += ["", f"**{stats.undecided_kept} refined samples passed a stage on an undecided verdict** (counted as "
                      "`pass` by the policy; their verdicts say so). Use `undecided: hard`, or a hybrid judge, to keep "
                      "only decided samples."]
    lines += ["", "## Funnel", "", "![funnel](funnel.png)", "",
              "| stage | pass | fail | undecided | error | samples past it |", "|---|---:|---:|---:|---:|---:|"]
    for number, stage in enumerate(STAGES, 1):
        seen = stats.decisions[stage]
        lines.append(f"| {number}. {TITLES[stage]} | {seen['pass']} | {seen['fail']} | {seen['undecided']} | "
                     f"{seen['error']} | {stats.passed[stage]} |")
    lines += ["", "Verdict counts include re-checks of regenerated answers; stage 1 `fail` means a statement "
              "answer, saved as is.", ""]
    lines += _regeneration_lines(stats)
    lines += ["## Why samples failed, by stage", ""]
    for number, stage in enumerate(STAGES, 1):
        rows = [(decision, kind, count) for decision in _SHOWN
                for kind, count in stats.reasons[stage, decision].most_common(TOP_REASONS)]
        lines.append(f"### {number}. {TITLES[stage]}")
        lines.append("")
        if not rows:
            lines += ["No fail, undecided or error verdicts.", ""]
            continue
        lines += ["| verdict | reason | count | example |", "|---|---|---:|---|"]
        for decision, kind, count in rows:
            example = _cell(stats.examples[stage, decision, kind], 160)
            lines.append(f"| {decision} | {_cell(kind, 60)} | {count} | {example} |")
        lines.append("")
    path = out_dir / "report.md"
    with atomic_output(path) as handle:
        handle.write("\n".join(lines))
    return path


def _regeneration_lines(stats: ReportStats) -> list[str]:
    """The regeneration section: attempts by stage and kind, and where the samples that had one ended."""
    lines = ["## Regeneration (stages 4-5)", ""]
    if not stats.attempts:
        return lines + ["No regeneration attempts.", ""]
    lines += ["Attempts: `corrected` (the judge's own correction of the answer, checked again from stage 4), "
              "`rewritten` (the regenerator rewrote reasoning and answer, checked again from stage 1), `unusable` "
              "(the regenerator's reply gave nothing usable; asked again while attempts are left).", "",
              "| stage | " + " | ".join(ATTEMPTS) + " |", "|---|" + "---:|" * len(ATTEMPTS)]
    for stage in STAGES:
        if any(stats.attempts_at[stage, kind] for kind in ATTEMPTS):
            lines.append(f"| {TITLES[stage]} | " + " | ".join(str(stats.attempts_at[stage, k]) for k in ATTEMPTS) + " |")
    total = sum(stats.after.values())
    lines += ["", f"{total} samples had an attempt: {stats.after['refined']} kept after regeneration, "
                  f"{stats.after['hard']} given up (hard pool), {stats.after['dropped']} dropped, "
                  f"{stats.after['error']} errors.", ""]
    return lines


def _cell(text: str, limit: int) -> str:
    """Text that fits one Markdown table cell."""
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plot_funnel(stats: ReportStats, path: Path) -> None:
    """A horizontal bar per step (samples in, samples past each stage) and a panel of outcomes.

    Counts are written on the bars and the value axes are hidden: the layout is fixed, since
    measuring tick labels (`tight_layout`) costs more than the rest of the report.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    funnel = stats.funnel()
    labels = ["input"] + [f"{i}. {TITLES[s].removesuffix(' identification')}" for i, s in enumerate(STAGES, 1)]
    values = list(funnel.values())
    figure = Figure(figsize=(9, 3.6))
    FigureCanvasAgg(figure)
    figure.subplots_adjust(left=0.25, right=0.98, bottom=0.1, top=0.9, wspace=0.15)
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1.4]})
    bars = left.barh(range(len(values)), values, color=["#888888"] + ["#3b75af"] * len(STAGES))
    left.set_yticks(range(len(values)), labels)
    left.invert_yaxis()
    left.bar_label(bars, padding=3)
    left.set_xlim(0, max(values + [1]) * 1.18)
    left.set_title("samples past each FCDR stage")
    counts = [stats.outcomes[o] for o in OUTCOMES]
    bars = right.bar(range(len(OUTCOMES)), counts, color=["#2e8b57", "#d08c2b", "#b33a3a", "#7a4fa0"])
    right.set_xticks(range(len(OUTCOMES)), OUTCOMES, fontsize=9)
    right.bar_label(bars, padding=2)
    right.set_ylim(0, max(counts + [1]) * 1.18)
    right.set_title("outcomes")
    for axes, hidden in ((left, left.xaxis), (right, right.yaxis)):
        hidden.set_visible(False)
        for side in ("top", "right", "bottom" if axes is left else "left"):
            axes.spines[side].set_visible(False)
    with atomic_output(path, binary=True) as handle:
        figure.savefig(handle, format="png", dpi=90, metadata={"Software": None})


def _rejects_note(rejects: int) -> str:
    """How many input records were malformed, and where they went (no file when there were none)."""
    return f"{rejects} malformed records in `rejects.jsonl`" if rejects else "no malformed records"
