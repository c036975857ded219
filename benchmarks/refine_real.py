"""The rules judge on data nobody here wrote: how much clean data it keeps, and what faults it still catches.

Every figure comes from the product's own path: the samples are written to JSONL and refined by
`refine.pipeline.refine` with `make_judge("rules")` (undecided verdicts counted as pass, as with the
rules judge alone; "values undecided" counts the kept samples whose values stage 4 could not settle:
what a hybrid judge would send to its LLM).

1. BFCL's ground truth (bfcl-eval's data files, read by `formats/bfcl.py`): every single-turn category
   with a possible answer (simple_python/java/javascript, multiple, parallel, parallel_multiple,
   live_simple, live_multiple, live_parallel, live_parallel_multiple; the reader rejects multi-turn,
   memory and web-search entries) plus the irrelevance categories (statement answers). All answers
   are right by definition: kept share overall and per category, and the top reasons for the rest.
   Target: >= 99% of the call categories kept.
2. ShareGPT files (`--glaive`, LLaMA-Factory's glaive_toolcall_en/zh_demo.json), read with
   `formats.read(path, "sharegpt")`. Every tool-call turn of a file is judged once, whatever the
   reader yields per row: the turns in a sample's earlier messages are taken too, deduplicated by
   content, so the figure is the same for a reader that yields one sample per row and one that yields
   one per tool-call turn. The share of the reader's own samples kept is printed beside it.
   `--show-drops` lists every turn not kept with its reason. Target: >= 97% of call turns kept.
3. Fault recall on our own fault injection (`faults.inject_faults` on `synth.generate`): caught
   (removed or repaired, `faults.fault_catches`) per fault kind. Target: >= 0.95 for each kind.
4. The same fault injection on BFCL's call samples: no target; it shows what the rules give up on
   real queries (a wrong value the request offers no rival for is left to the LLM, not failed).

    python benchmarks/refine_real.py --glaive /work/shared/data/real/glaive_toolcall_en_demo.json \\
        /work/shared/data/real/glaive_toolcall_zh_demo.json [--show-drops] [--limit N]
"""

from __future__ import annotations

import argparse
import itertools
import re
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from _common import load_average

from funreason import formats
from funreason.evaluate.bfcl import bfcl_data_dir
from funreason.formats.rows import calls_from_json
from funreason.records import Rejects, Sample, read_samples, write_jsonl
from funreason.refine import make_judge, refine
from funreason.refine.faults import FAULTS, fault_catches, inject_faults
from funreason.synth import generate

REMOVED = ("hard.jsonl", "dropped.jsonl", "errors.jsonl")


def refined(samples: Iterable[Sample], folder: Path) -> tuple[list[Sample], list[Sample]]:
    """`(kept, removed)`: the samples refined by the rules judge in `folder`, as the product does."""
    folder.mkdir(parents=True)
    write_jsonl(folder / "in.jsonl", samples)
    refine(folder / "in.jsonl", folder / "out", make_judge("rules"), progress=False)
    kept = list(read_samples(folder / "out" / "refined.jsonl"))
    removed = [s for name in REMOVED for s in read_samples(folder / "out" / name)]
    return kept, removed


def on_undecided(sample: Sample) -> bool:
    """Whether stage 4 (function & parameters) left the sample undecided: the values need a reader."""
    return any(v.stage == "function_params" and v.decision == "undecided" for v in sample.verdicts)


def why(sample: Sample) -> str:
    """The verdict that removed a sample: `stage: reason`."""
    last = next(v for v in reversed(sample.verdicts) if v.decision in ("fail", "error", "undecided"))
    return f"{last.stage}: {last.reason}"


def kind(reason: str) -> str:
    """`function_params: value not in query: ...` -> `function_params: value not in query`."""
    return ":".join(reason.split(":")[:2])


def share(part: int, whole: int) -> str:
    return f"{part}/{whole} = {100 * part / whole:.1f}%" if whole else "0/0"


# --- 1. BFCL's ground truth ------------------------------------------------------------------------


def bfcl_samples(folder: Path, limit: int | None) -> tuple[list[Sample], int]:
    """BFCL's entries as clean samples (`limit` per category), and how many entries the reader rejected."""
    samples, rejected = [], 0
    for path in sorted(folder.glob("BFCL_v4_*.json")):
        rejects = Rejects()
        read = list(itertools.islice(formats.read(path, "bfcl", rejects), limit))
        rejected += rejects.count
        samples += read
    return samples, rejected


def report_bfcl(samples: list[Sample], rejected: int, work: Path, top: int) -> None:
    kept, removed = refined(samples, work)
    print(f"\n## BFCL ground truth ({len(samples)} single-turn entries; {rejected} multi-turn, memory or "
          "web-search entries rejected by the reader)")
    print("| category | entries | kept | values undecided | corrected |")
    print("|---|---:|---:|---:|---:|")
    rows: dict[str, Counter] = defaultdict(Counter)
    for sample, was_kept in [(s, True) for s in kept] + [(s, False) for s in removed]:
        row = rows[sample.meta["bfcl_category"]]
        row["n"] += 1
        row["kept"] += was_kept
        row["undecided"] += was_kept and on_undecided(sample)
        row["corrected"] += was_kept and bool(sample.history)
    calls, statements = Counter(), Counter()
    for category in sorted(rows, key=lambda c: ("irrelevance" in c, c)):
        row = rows[category]
        (statements if "irrelevance" in category else calls).update(row)
        print(f"| {category} | {row['n']} | {share(row['kept'], row['n'])} | {row['undecided']} | {row['corrected']} |")
    print(f"| **call categories** | {calls['n']} | **{share(calls['kept'], calls['n'])}** | {calls['undecided']} "
          f"| {calls['corrected']} |")
    total = calls + statements
    print(f"| all, irrelevance included | {total['n']} | {share(total['kept'], total['n'])} | "
          f"{total['undecided']} | {total['corrected']} |")
    reasons = Counter(kind(why(s)) for s in removed)
    print(f"\nNot kept ({len(removed)}), top reasons:")
    for reason, count in reasons.most_common(top):
        example = next(s for s in removed if kind(why(s)) == reason)
        print(f"- {count} x {reason} (e.g. {example.id}: {why(example)[:160]})")


# --- 2. ShareGPT files --------------------------------------------------------------------------------


def call_turns(sample: Sample) -> Iterator[Sample]:
    """The sample (when it calls) and every earlier assistant turn with tool calls, each as a sample."""
    for index, message in enumerate(sample.messages):
        if message.get("role") == "assistant" and message.get("tool_calls"):
            calls = [c for i, raw in enumerate(message["tool_calls"]) for c in calls_from_json(raw, f"tool_calls[{i}]")]
            yield Sample(id=f"{sample.id}@{index}", source=sample.source, messages=sample.messages[:index],
                         tools=sample.tools, reasoning=str(message.get("reasoning_content") or ""), answer=calls)
    if sample.is_call:
        yield sample.model_copy(update={"id": f"{sample.id}@{len(sample.messages)}"})


def report_sharegpt(path: Path, work: Path, limit: int | None, show_drops: bool) -> None:
    rejects = Rejects()
    samples = list(itertools.islice(formats.read(path, "sharegpt", rejects), limit))
    turns = list({t.content_hash(): t for s in samples for t in call_turns(s)}.values())
    kept_rows, _ = refined(samples, work / "rows")
    kept, removed = refined(turns, work / "turns")
    undecided = sum(on_undecided(s) for s in kept)
    print(f"\n## {path.name}: {len(samples)} samples as the reader yields them ({rejects.count} rejected)")
    print(f"- tool-call turns kept: **{share(len(kept), len(turns))}** ({undecided} with values undecided, "
          f"{sum(bool(s.history) for s in kept)} corrected)")
    print(f"- the reader's samples kept: {share(len(kept_rows), len(samples))} "
          f"({sum(s.is_call for s in samples)} of them call samples)")
    reasons = Counter(kind(why(s)) for s in removed)
    print("- not kept: " + (", ".join(f"{n} x {r}" for r, n in reasons.most_common()) or "none"))
    if show_drops:
        for sample in removed:
            query = re.sub(r"\s+", " ", sample.query)[:120]
            print(f"  - {sample.id}: {why(sample)[:300]} | query: {query}")


# --- 3 and 4. fault recall -------------------------------------------------------------------------


def report_faults(title: str, samples: list[Sample], work: Path, seed: int) -> None:
    kept, removed = refined(inject_faults(samples, share=0.5, seed=seed), work)
    table = fault_catches(kept, removed)
    print(f"\n## {title}")
    print("| fault | samples | removed | repaired | recall |")
    print("|---|---:|---:|---:|---:|")
    for fault in (*FAULTS, "clean"):
        row = table[fault]
        if row["samples"]:
            caught = row["removed"] + row["repaired"]
            label = "clean (caught = false positive)" if fault == "clean" else fault
            print(f"| {label} | {row['samples']} | {row['removed']} | {row['repaired']} | "
                  f"{caught / row['samples']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--glaive", nargs="*", type=Path, default=[], help="ShareGPT files to judge")
    parser.add_argument("--bfcl-data", type=Path, help="a folder laid out like bfcl-eval's data/ (default: the "
                                                       "installed bfcl-eval's)")
    parser.add_argument("--limit", type=int, help="at most this many entries per BFCL category and per file")
    parser.add_argument("--faults-n", type=int, default=2400, help="synthetic samples for the fault recall")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--top", type=int, default=12, help="reasons to list for BFCL entries not kept")
    parser.add_argument("--show-drops", action="store_true", help="list every ShareGPT turn not kept")
    args = parser.parse_args()

    started = time.perf_counter()
    print(f"load average before: {load_average()}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        samples, rejected = bfcl_samples(bfcl_data_dir(args.bfcl_data), args.limit)
        report_bfcl(samples, rejected, work / "bfcl", args.top)
        for index, path in enumerate(args.glaive):
            report_sharegpt(path, work / f"sharegpt{index}", args.limit, args.show_drops)
        report_faults(f"Fault recall on synth data ({args.faults_n} samples, half of the call samples given a fault)",
                      list(generate(args.faults_n, seed=7)), work / "faults", args.seed)
        report_faults("Fault recall on BFCL's call samples (no target: what the rules leave to an LLM)",
                      [s for s in samples if s.is_call], work / "bfcl_faults", args.seed)
    print(f"\nwall time {time.perf_counter() - started:.1f} s; load average after: {load_average()}")


if __name__ == "__main__":
    main()
