"""Scoring BFCL result files: `funreason evaluate --responses` against bfcl-eval's own scorer.

Claim: scoring every single-turn category's answers (one answer per entry, bfcl-eval's result
layout) takes `funreason evaluate --responses` under 5 s of wall time, cold start included.

Answers: one for each entry of the 13 single-turn categories (`checker_speed.answers`), every
other one right: its possible answer rendered as calls in the category's language (the first
accepted value per parameter; a refusal for irrelevance and live_irrelevance, a call for
live_relevance), the others wrong (a corrupted call; a call where none is due; for python entries
also shapes such as bare names and positional arguments); written as bfcl-eval writes them,
`result/<model>/<non_live|live>/BFCL_v4_<category>_result.json`. Answers that would make
bfcl-eval's python decoder evaluate anything but literal arithmetic are left out of both sides.

Timed, each as a fresh process (wall time, best of `--rounds`, alternating):

- funreason: `python -m funreason evaluate --responses result/ --out DIR` (reads, checks, writes
  results.jsonl, scores.json/.md, prints the table; no scores.png, as scoring draws none by default);
- bfcl-eval: what `bfcl evaluate --partial-eval` does per result file (`eval_runner.runner`):
  `load_file(sort_by_id=True)` then `evaluate_task` (its data loading, `ast_file_runner` /
  `relevance_file_runner` with a prompting model's handler, whose `decode_ast` is
  `default_decode_ast_prompting`, and the score files). Left out: the leaderboard CSV written at
  the end (it needs pandas and the model registry, not installed here); the modules its imports
  need but checking never calls are stand-ins (`_bfcl_stubs.py`).

Run: `nice python benchmarks/score_speed.py [--rounds 3] [--keep DIR]`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODEL_DIR = "funreason_score-speed"  # a model name with "/" written "_", as bfcl-eval writes it


def build_results(root: Path) -> tuple[Path, int, int]:
    """Write the answers in bfcl-eval's layout under `root/result`; (folder, lines, left out)."""
    from checker_speed import answers, is_safe_for_bfcl

    from funreason.evaluate import bfcl as data

    result = root / "result"
    lines = unsafe = 0
    for category in data.CATEGORIES:
        group = "non_live" if category in data.NON_LIVE else "live"
        folder = result / MODEL_DIR / group
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for index, entry in enumerate(data.load_category(category)):
            # Half right, half wrong, as a real result file: the right answer (a refusal for the
            # irrelevance categories), else the first other shape (a corrupted call, or a call).
            shapes = answers(entry)
            right = shapes[-1] if "irrelevance" in category else shapes[0]
            text = right if index % 2 == 0 else shapes[1]
            if (entry.is_relevance or entry.language == "python") and not is_safe_for_bfcl(text):
                unsafe += 1
                continue
            rows.append(json.dumps({"id": entry.id, "result": text}))
        (folder / f"BFCL_v4_{category}_result.json").write_text("\n".join(rows) + "\n", encoding="utf-8")
        lines += len(rows)
    return result, lines, unsafe


def bfcl_side(result_dir: Path, score_dir: Path) -> None:
    """bfcl-eval's runner over every model folder and result file, as `runner` does (in this process)."""
    from _bfcl_stubs import stub_runner_imports

    stub_runner_imports()
    from bfcl_eval.constants.eval_config import RESULT_FILE_PATTERN
    from bfcl_eval.eval_checker import eval_runner
    from bfcl_eval.model_handler.utils import default_decode_ast_prompting
    from bfcl_eval.utils import extract_test_category, load_file

    class PromptingHandler:  # OSSHandler.decode_ast, the one method the single-turn runners call
        def decode_ast(self, result: str, language: object, has_tool_call_tag: bool) -> object:
            return default_decode_ast_prompting(result, language, has_tool_call_tag)

    table: dict = {}
    for model_dir in sorted(p for p in result_dir.iterdir() if p.is_dir()):
        for path in sorted(model_dir.rglob(RESULT_FILE_PATTERN)):
            model_result = load_file(path, sort_by_id=True)
            eval_runner.evaluate_task(
                extract_test_category(path), result_dir, score_dir, model_result, model_dir.name,
                PromptingHandler(), table, allow_missing=True,
            )  # fmt: skip
    scores = {category: round(100 * value["accuracy"], 2) for category, value in table[MODEL_DIR].items()
              if isinstance(value, dict) and "accuracy" in value}  # fmt: skip
    print("ACCURACY " + json.dumps(scores))


def timed(command: list[str], marker: str) -> tuple[float, float | None, str]:
    """Run `command`: its wall time, when a stdout line starting with `marker` came, its stdout."""
    start = time.perf_counter()
    seen, lines = None, []
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        for line in process.stdout:  # type: ignore[union-attr]
            if seen is None and line.startswith(marker):
                seen = time.perf_counter() - start
            lines.append(line)
        stderr = process.stderr.read()  # type: ignore[union-attr]
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{''.join(lines)[-2000:]}\n{stderr[-2000:]}")
    return seconds, seen, "".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each side, best kept")
    parser.add_argument("--keep", type=Path, help="build the result files here (default: a temporary folder)")
    parser.add_argument("--bfcl-side", nargs=2, type=Path, metavar=("RESULT", "SCORE"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.bfcl_side:
        bfcl_side(*options.bfcl_side)
        return

    import os

    from _common import load_average

    root = options.keep or Path(tempfile.mkdtemp(prefix="score-speed-"))
    result, lines, unsafe = build_results(root)
    ours = [sys.executable, "-m", "funreason", "evaluate", "--responses", str(result), "--out", str(root / "ours")]
    theirs = [sys.executable, __file__, "--bfcl-side", str(result), str(root / "score")]
    env_root = os.environ.setdefault("BFCL_PROJECT_ROOT", str(root / "bfcl-root"))
    times: dict[str, list[float]] = {"funreason": [], "bfcl-eval": []}
    table_after: list[float] = []
    outputs: dict[str, str] = {}
    loads = []
    for _ in range(options.rounds):
        for name, command in (("funreason", ours), ("bfcl-eval", theirs)):
            loads.append(os.getloadavg()[0])
            seconds, seen, outputs[name] = timed(command, "# BFCL scores")
            times[name].append(seconds)
            if name == "funreason" and seen is not None:
                table_after.append(seen)

    doc = json.loads((root / "ours" / "scores.json").read_text(encoding="utf-8"))
    mine = {name: round(100 * score["accuracy"], 2) for name, score in doc["categories"].items()}
    marker = next(line for line in outputs["bfcl-eval"].splitlines() if line.startswith("ACCURACY "))
    reference = json.loads(marker.removeprefix("ACCURACY "))
    print(f"answers: {lines} lines in {len(mine)} result files, bfcl-eval's layout under {result}")
    print(f"  left out: {unsafe} answers bfcl-eval's python decoder would evaluate")
    print(f"funreason: {' '.join(ours[1:])}")
    print("           (a fresh process: imports, reading, checking, results.jsonl, scores.json/.md, the table)")
    print(f"bfcl-eval: {' '.join(theirs[1:])}  (BFCL_PROJECT_ROOT={env_root})")
    print("           (a fresh process: bfcl-eval's imports, load_file + evaluate_task per result file, score files;")
    print("            not its leaderboard CSV)")
    for name, values in times.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:>10}: {min(values):6.2f} s wall (best of {options.rounds}: {runs})")
    print(f"           funreason's table printed after {min(table_after):.2f} s (best)")
    print(f"     ratio: {min(times['bfcl-eval']) / min(times['funreason']):.2f}x (bfcl-eval time / funreason time)")
    print(f"load average (1 min) at each start: {', '.join(f'{x:.2f}' for x in loads)}; now {load_average()}")
    differ = {c: (mine.get(c), reference.get(c)) for c in sorted(set(mine) | set(reference)) if mine.get(c) != reference.get(c)}
    print(f"accuracy per category: {'the same on both sides' if not differ else f'differs: {differ}'}")
    print(f"   funreason Overall {100 * doc['summary']['overall']:.2f}; categories {mine}")


if __name__ == "__main__":
    main()
