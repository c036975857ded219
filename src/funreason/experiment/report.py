"""An experiment's results: `results.json`, `results.md` and `results.png`, from the pairs' own files.

Every figure is recomputed from the per-entry rows the pairs wrote (`bfcl_SPLIT/results.jsonl`,
`humaneval/results.jsonl`), so the tables can be redrawn at any time, also while an experiment is
still running: an arm with unfinished seeds is shown on the seeds it finished (and says so), and
compared with another arm on the seeds both finished.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from funreason.experiment.config import ExperimentConfig
from funreason.experiment.run import pair_dir
from funreason.experiment.stats import OVERALL, Estimate, Outcomes, arm_estimates, paired_difference

HUMANEVAL = "humaneval"


def collect(config: ExperimentConfig, entries: dict[str, Any]) -> dict[str, Any]:
    """Per arm: the finished pairs' records and outcomes, and the seeds still missing."""
    split = config.eval.split
    groups = {entry: category for category, ids in entries["bfcl"].items() for entry in ids[split]}
    arms: dict[str, Any] = {}
    for arm, spec in config.arms.items():
        seeds: list[int | None] = [None] if spec.kind == "base" else list(config.seeds)
        records, bfcl, humaneval, missing = {}, {}, {}, []
        for seed in seeds:
            folder = pair_dir(config.out, arm, seed)
            done = folder / f"done_{split}.json"
            if not done.is_file():
                missing.append(seed)
                continue
            records[seed] = json.loads(done.read_text(encoding="utf-8"))
            bfcl[seed] = _outcomes(folder / f"bfcl_{split}" / "results.jsonl", "id", "valid", set(groups))
            if entries["humaneval"]:
                humaneval[seed] = _outcomes(folder / HUMANEVAL / "results.jsonl", "task_id", "passed", set(entries["humaneval"]))
        arms[arm] = {"records": records, "bfcl": bfcl, "humaneval": humaneval, "missing": missing}
    return {"groups": groups, "arms": arms}


def _outcomes(path: Path, key: str, flag: str, wanted: set[str]) -> dict[str, bool]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {row[key]: bool(row[flag]) for row in rows if row[key] in wanted}


def analyse(config: ExperimentConfig, entries: dict[str, Any], collected: dict[str, Any]) -> dict[str, Any]:
    """Estimates per arm on the seeds it finished, and the configured paired differences on the seeds
    both arms finished, as plain data."""
    groups = collected["groups"]
    he_groups = dict.fromkeys(entries["humaneval"], HUMANEVAL)
    outcomes: dict[str, dict[str, Outcomes]] = {}
    for arm, found in collected["arms"].items():
        if not found["bfcl"]:
            continue
        outcomes[arm] = {"bfcl": Outcomes.from_runs(found["bfcl"], groups)}
        if he_groups:
            outcomes[arm][HUMANEVAL] = Outcomes.from_runs(found["humaneval"], he_groups)
    arms = {
        arm: {kind: _dicts(arm_estimates(o)) for kind, o in by_kind.items()} for arm, by_kind in outcomes.items()
    }
    comparisons = []
    for a, b in config.comparisons:
        if a not in outcomes or b not in outcomes:
            continue
        pair = _common_seeds(outcomes[a]["bfcl"].seeds, outcomes[b]["bfcl"].seeds)
        if pair is None:
            continue
        comparisons.append({"a": a, "b": b, "seeds": [s for s in pair[0] if s is not None], **{
            kind: _dicts(paired_difference(outcomes[a][kind].only(pair[0]), outcomes[b][kind].only(pair[1])))
            for kind in outcomes[a]
        }})  # fmt: skip
    return {"arms": arms, "comparisons": comparisons}


def _common_seeds(
    a: tuple[int | None, ...], b: tuple[int | None, ...]
) -> tuple[list[int | None], list[int | None]] | None:
    """The runs of A and of B to compare: all of a seed-independent arm's against all of the other's,
    else the seeds both finished (None when they share none)."""
    if None in a or None in b:
        return list(a), list(b)
    common = [seed for seed in a if seed in b]
    return (common, common) if common else None


def _dicts(estimates: dict[str, Estimate]) -> dict[str, dict[str, Any]]:
    return {name: estimate.as_dict() for name, estimate in estimates.items()}


def write_results(config: ExperimentConfig, entries: dict[str, Any]) -> Path:
    """Write results.json, results.md and results.png into `config.out`; returns results.md."""
    collected = collect(config, entries)
    analysis = analyse(config, entries, collected)
    pairs = {arm: found["records"] for arm, found in collected["arms"].items()}
    seconds = sum(r.get("train_seconds", 0) + r.get("eval_seconds", 0) for by in pairs.values() for r in by.values())
    loads = [load[0] for by in pairs.values() for r in by.values() for load in (r["load_before"], r["load_after"])]
    doc = {
        "model": config.model,
        "split": config.eval.split,
        "categories": config.eval.categories,
        "entries": {category: len(ids[config.eval.split]) for category, ids in entries["bfcl"].items()},
        "humaneval_problems": len(entries["humaneval"]),
        "seeds": config.seeds,
        "missing": {arm: found["missing"] for arm, found in collected["arms"].items() if found["missing"]},
        "machine": f"{platform.machine()}, {_cpu_count()} cores",
        "pair_seconds": round(seconds, 1),
        "load_average": [min(loads), max(loads)] if loads else None,
        **analysis,
        "pairs": {arm: {str(seed): _pair_summary(r) for seed, r in by.items()} for arm, by in pairs.items()},
    }
    out = config.out
    (out / "results.json").write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    path = out / "results.md"
    path.write_text(results_markdown(doc), encoding="utf-8")
    if doc["arms"]:
        plot_results(doc, out / "results.png")
    return path


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


def _pair_summary(record: dict[str, Any]) -> dict[str, Any]:
    keep = ("train", "rounds", "train_seconds", "eval_seconds", "load_before", "load_after", "scores", "model")
    return {key: record[key] for key in keep if key in record}


# --- markdown ----------------------------------------------------------------------------------------


def _cell(estimate: dict[str, Any] | None, signed: bool = False) -> str:
    if estimate is None:
        return "-"
    sign = "+" if signed else ""
    mean, low, high = (100 * estimate[k] for k in ("mean", "low", "high"))
    spread = f" ± {100 * estimate['std']:.1f}" if estimate["runs"] > 1 else ""
    mark = " **\\***" if signed and estimate["significant"] else ""
    return f"{mean:{sign}.1f}{spread} [{low:{sign}.1f}, {high:{sign}.1f}]{mark}"


def results_markdown(doc: dict[str, Any]) -> str:
    """The results as Markdown: scores per arm, paired differences, self-refinement rounds, costs."""
    names = [*doc["categories"], OVERALL]
    per_category = ", ".join(f"{n} {c}" for c, n in doc["entries"].items())
    lines = [
        f"# Experiment: {doc['model']}, {doc['split']} entries",
        "",
        f"BFCL {doc['split']} entries: {sum(doc['entries'].values())} ({per_category}); "
        f"HumanEval: {doc['humaneval_problems']} problems; seeds {doc['seeds']}. Accuracy in %: mean over "
        "seeds ± std over seeds, [95% bootstrap interval] (entries and seeds resampled). `overall` is the "
        "mean of the categories. `base` is evaluated once (greedy decoding: no seed)."
        + (" With this few seeds the seed part of an interval is only a rough guide (a bootstrap over "
           f"{len(doc['seeds'])} seeds cannot see much of their spread); the entries' part is sound."
           if len(doc["seeds"]) < 5 else ""),
        "",
        "| arm | " + " | ".join(names) + " | HumanEval pass@1 |",
        "|---|" + "---:|" * (len(names) + 1),
    ]
    for arm, kinds in doc["arms"].items():
        cells = [_cell(kinds["bfcl"].get(name)) for name in names]
        human = kinds.get(HUMANEVAL, {}).get(OVERALL)
        lines.append(f"| {_arm_label(arm, doc)} | " + " | ".join(cells) + f" | {_cell(human)} |")
    if doc["missing"]:
        lines += [
            "",
            "Not finished yet: " + ", ".join(f"{a} (seeds {s})" for a, s in doc["missing"].items())
            + ". An arm is shown on the seeds it finished and compared on the seeds both arms finished.",
        ]
    if doc["comparisons"]:
        lines += [
            "",
            "## Paired differences",
            "",
            "A − B in percentage points, [95% bootstrap interval] over the same entries (and the same seeds "
            "when both arms trained). **\\*** marks an interval that excludes 0: a difference these entries "
            "can tell; anything else is within noise.",
            "",
            "| A − B | " + " | ".join(names) + " | HumanEval |",
            "|---|" + "---:|" * (len(names) + 1),
        ]
        for row in doc["comparisons"]:
            cells = [_cell(row["bfcl"].get(name), signed=True) for name in names]
            human = row.get(HUMANEVAL, {}).get(OVERALL)
            seeds = f" (seeds {row['seeds']})" if row["seeds"] != doc["seeds"] else ""
            lines.append(f"| {row['a']} − {row['b']}{seeds} | " + " | ".join(cells) + f" | {_cell(human, signed=True)} |")
    lines += _rounds_lines(doc["pairs"]) + _cost_lines(doc)
    return "\n".join(lines) + "\n"


def _arm_label(arm: str, doc: dict[str, Any]) -> str:
    """The arm's name, with the seeds it rests on when some are not finished yet."""
    missing = doc["missing"].get(arm)
    if not missing:
        return arm
    return f"{arm} (seeds {[s for s in doc['seeds'] if s not in missing]} only)"


def _rounds_lines(pairs: dict[str, dict[str, Any]]) -> list[str]:
    rows = [
        f"| {arm} | {seed} | {r['round']} | {r['queries']} | {r['answers']} | {r['wrong_kind']} | "
        f"{r['kept_by_fcdr']} | {r['trained_on']} | {r['steps']} |"
        for arm, by_seed in pairs.items() for seed, pair in by_seed.items() for r in pair.get("rounds", [])
    ]  # fmt: skip
    if not rows:
        return []
    return [
        "", "## Self-refinement rounds", "",
        "The model answers training queries (sampled); FCDR checks its answers; it trains on the kept ones.", "",
        "| arm | seed | round | queries | answers | wrong kind | kept by FCDR | trained on | steps |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|", *rows,
    ]  # fmt: skip


def _cost_lines(doc: dict[str, Any]) -> list[str]:
    lines = [
        "", "## Training and evaluation", "",
        "| arm | seed | trained on (skipped too long) | steps | final α | train min | eval min | load before / after |",
        "|---|---:|---|---:|---:|---:|---:|---|",
    ]  # fmt: skip
    for arm, by_seed in doc["pairs"].items():
        for seed, pair in by_seed.items():
            train = pair.get("train") or {}
            shapes = ", ".join(
                f"{shape} {c['trained']}" + (f" ({c['skipped']})" if c["skipped"] else "")
                for shape, c in (train.get("shapes") or {}).items()
            )
            alpha = train.get("alpha")
            lines.append(
                f"| {arm} | {'-' if seed == 'None' else seed} | {shapes or '-'} | {train.get('steps', '-')} | "
                f"{f'{alpha[0]:.3f}' if alpha else '-'} | {pair.get('train_seconds', 0) / 60:.1f} | "
                f"{pair.get('eval_seconds', 0) / 60:.1f} | {pair['load_before'][0]:.2f} / {pair['load_after'][0]:.2f} |"
            )
    load = doc["load_average"]
    lines += [
        "",
        f"Machine: {doc['machine']}. Time in the pairs (training and evaluation; a pair resumed after a "
        f"stop counts only the run that finished it): {doc['pair_seconds'] / 3600:.2f} h"
        + (f"; 1-minute load average seen between {load[0]:.2f} and {load[1]:.2f}." if load else "."),
    ]
    return lines


# --- plot --------------------------------------------------------------------------------------------


def plot_results(doc: dict[str, Any], path: Path) -> Path:
    """Grouped bars: accuracy per category (and overall, HumanEval) per arm, with 95% intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*doc["categories"], OVERALL]
    arms = list(doc["arms"])
    has_humaneval = any(HUMANEVAL in kinds for kinds in doc["arms"].values())
    columns = names + ([HUMANEVAL] if has_humaneval else [])
    width = 0.8 / max(len(arms), 1)
    fig, ax = plt.subplots(figsize=(max(8, 1.4 * len(columns)), 4.5))
    for i, arm in enumerate(arms):
        kinds = doc["arms"][arm]
        values = [kinds["bfcl"].get(n) for n in names]
        if has_humaneval:
            values.append(kinds.get(HUMANEVAL, {}).get(OVERALL))
        xs = [j + (i - (len(arms) - 1) / 2) * width for j in range(len(columns))]
        means = [100 * v["mean"] if v else 0 for v in values]
        errors = [
            [100 * (v["mean"] - v["low"]) if v else 0 for v in values],
            [100 * (v["high"] - v["mean"]) if v else 0 for v in values],
        ]
        ax.bar(xs, means, width, yerr=errors, capsize=2, label=_arm_label(arm, doc))
    ax.set_xticks(range(len(columns)), [c.replace("_", "\n") for c in columns])
    ax.set_ylabel("accuracy / pass@1 (%)")
    ax.set_title(f"{doc['model']}: {doc['split']} entries, mean over seeds, 95% bootstrap intervals")
    ax.set_ylim(0, 100)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=min(len(arms), 4))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
