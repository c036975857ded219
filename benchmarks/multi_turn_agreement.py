"""Multi-turn verdicts: funreason's checker against bfcl-eval's own, on every entry of the four categories.

Claim: on trajectories built from BFCL's ground truth (the truth itself, in one step per call and in
one step per turn; a wrong argument; a missing call; an extra state-changing call; a call to an
unknown name; a held-out function called early (miss_func); an empty turn; a conversation cut
short), `check_multi_turn` gives bfcl-eval 2026.3.23's verdict and error type on every one.

The trajectories and bfcl-eval's side (its `multi_turn_checker` behind its eval runner's decoding,
which `eval`s the calls: these are our own strings, built from BFCL's ground truth) are those of
`tests/evaluate/test_multi_turn_agreement.py`, loaded from there so that the test and this figure
are one piece of code. Run: `python benchmarks/multi_turn_agreement.py`.
"""

from __future__ import annotations

import importlib.util
import time
from collections import Counter
from pathlib import Path

from funreason.evaluate.multi_turn import MULTI_TURN, load_multi_turn
from funreason.evaluate.multi_turn_checker import check_multi_turn

TESTS = Path(__file__).resolve().parents[1] / "tests" / "evaluate"


def main() -> None:
    spec = importlib.util.spec_from_file_location("agreement", TESTS / "test_multi_turn_agreement.py")
    agreement = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(agreement)  # type: ignore[union-attr]
    total = agreed = 0
    outcomes: Counter[str] = Counter()
    started = time.perf_counter()
    for category in MULTI_TURN:
        entries = load_multi_turn(category)
        compared, different = agreement._disagreements(entries)
        for entry in entries:  # what the variants come to, by our checker (the same as bfcl-eval's)
            outcomes.update(check_multi_turn(entry, result).error_type or "valid"
                            for result in agreement.variants(entry).values())  # fmt: skip
        total, agreed = total + compared, agreed + compared - len(different)
        print(f"{category:26} {len(entries):4} entries {compared:5} trajectories, agree {compared - len(different)}")
        for line in different[:5]:
            print("   ", line)
    print(f"all: {agreed}/{total} trajectories agree on verdict and error type ({time.perf_counter() - started:.0f} s)")
    print("outcomes:", ", ".join(f"{name} {count}" for name, count in outcomes.most_common()))


if __name__ == "__main__":
    main()
