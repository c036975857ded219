"""The per-segment loss curves of a training run, as a PNG next to its log."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

SERIES = (("loss", "SRML loss (optimised)"), ("loss_think", "L_think"), ("loss_result", "L_result"))


def alpha_path(log: Sequence[dict[str, Any]]) -> list[tuple[int, float]]:
    """(step, α) of every logged step when α changed during the run (learnable or scheduled), else []."""
    points = [(row["step"], row["alpha"]) for row in log if "alpha" in row and "step" in row]
    return points if len({value for _, value in points}) > 1 else []


def plot_losses(log: Sequence[dict[str, Any]], path: str | Path, title: str = "training loss") -> Path:
    """Plot loss, L_think and L_result against the optimiser step from a Trainer log history, and
    α on a second axis when it changed during the run (learnable or scheduled)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    plotted = False
    for key, label in SERIES:
        points = [(row["step"], row[key]) for row in log if key in row and "step" in row]
        if points:
            steps, values = zip(*points, strict=True)
            ax.plot(steps, values, marker="o", markersize=3, label=label)
            plotted = True
    ax.set_xlabel("optimiser step")
    ax.set_ylabel("cross-entropy (nats / token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    alpha = alpha_path(log)
    if alpha:
        right = ax.twinx()
        steps, values = zip(*alpha, strict=True)
        (line,) = right.plot(steps, values, color="black", linestyle="--", linewidth=1.2, label="α (right axis)")
        right.set_ylabel("α, the weight of L_think")
        handles, labels = [*handles, line], [*labels, line.get_label()]
    if plotted:
        ax.legend(handles, labels)
    else:  # fewer steps than --logging-steps: say so instead of an empty legend
        ax.text(0.5, 0.5, "no loss logged", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
