"""Our multi-turn checker against bfcl-eval's, on trajectories built from the ground truth.

The reference is bfcl-eval's own `multi_turn_checker` (which `eval`s the calls; fine here: the
trajectories are ours, made from BFCL's ground truth) behind the decoding of
`eval_runner._evaluate_single_multi_turn_entry`, restated below because `eval_runner` imports every
model SDK. Each entry is judged as: its ground truth (one step per call, and all calls in one
step), a wrong argument, a missing call, an extra state-changing call, a call to an unknown name,
a call to a function held out until a later turn (miss_func) and an empty turn, and a conversation
cut short. Verdict and error_type must agree.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from funreason.evaluate.multi_turn import MULTI_TURN, MultiTurnEntry, load_multi_turn
from funreason.evaluate.multi_turn_checker import check_multi_turn
from funreason.evaluate.multi_turn_exec import parse_call

_spec = importlib.util.spec_from_file_location(
    "_multi_turn_truth", Path(__file__).with_name("_multi_turn_truth.py")
)
_truth = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_truth)
truth_turns = _truth.truth_turns

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bfcl_eval") is None, reason="needs bfcl-eval (pip install --no-deps bfcl-eval)"
)

Result = list[list[str]]
# One call per class that changes its state (or tries to: a logged-out API answers with an error).
EXTRA_CALLS = {
    "GorillaFileSystem": "touch(file_name='extra_agreement.txt')",
    "MessageAPI": "add_contact(user_name='extra_agreement_user')",
    "TwitterAPI": "post_tweet(content='extra agreement')",
    "TicketAPI": "create_ticket(title='extra agreement')",
    "TradingBot": "add_to_watchlist(stock='EXTRA')",
    "TravelAPI": "set_budget_limit(access_token='extra', budget_limit=1.0)",
    "VehicleControlAPI": "setHeadlights(mode='on')",
    "MathAPI": "add(a=1, b=2)",
}
_names = itertools.count()


def bfcl_verdict(entry: MultiTurnEntry, result: Result) -> tuple[bool, str]:
    """bfcl-eval's verdict: eval_runner's force-terminated check and step decoding, then its
    multi_turn_checker, under a model name no other call uses (it caches instances by name)."""
    from bfcl_eval.eval_checker.multi_turn_eval import multi_turn_utils
    from bfcl_eval.eval_checker.multi_turn_eval.multi_turn_checker import multi_turn_checker
    from bfcl_eval.model_handler.utils import default_decode_execute_prompting

    if len(result) != len(entry.ground_truth):
        return False, "multi_turn:force_terminated"
    decoded = []
    for turn in result:
        steps = []
        for text in turn:
            try:
                calls = default_decode_execute_prompting(text)
            except Exception:
                continue
            if not multi_turn_utils.is_empty_execute_response(calls):
                steps.append(calls)
        decoded.append(steps)
    name = f"agreement{next(_names)}"
    prompt = {
        "id": entry.id,
        "initial_config": entry.initial_config,
        "involved_classes": entry.involved_classes,
    }
    try:
        verdict = multi_turn_checker(decoded, entry.ground_truth, prompt, entry.category, name)
    finally:  # drop the instances it cached in its module globals
        for key in [key for key in vars(multi_turn_utils) if key.startswith(name)]:
            del vars(multi_turn_utils)[key]
    return verdict["valid"], verdict.get("error_type", "")


def _steps(turns: list[list[str]]) -> Result:
    # One step per call; a turn without calls is the model saying it cannot help.
    return [[f"[{call}]" for call in turn] or ["I cannot do that with these functions."] for turn in turns]


def _first_turn(turns: list[list[str]], predicate: Callable[[str], bool] = bool) -> tuple[int, int] | None:
    for t, turn in enumerate(turns):
        for c, call in enumerate(turn):
            if predicate(call):
                return t, c
    return None


def _wrong_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 7
    if isinstance(value, str):
        return value + "_wrong"
    if isinstance(value, list):
        return [*value, "wrong"]
    return "wrong"


def variants(entry: MultiTurnEntry) -> dict[str, Result]:
    """Trajectories for `entry`, by name."""
    turns = truth_turns(entry)
    out = {
        "truth": _steps(turns),
        "truth_one_step": [[f"[{', '.join(turn)}]"] if turn else [] for turn in turns],
        "cut_short": _steps(turns)[:-1],
    }
    found = _first_turn(turns, lambda call: bool(parse_call(call)[2]))
    if found:
        t, c = found
        name, _, kwargs = parse_call(turns[t][c])
        key = next(iter(kwargs))
        wrong = {**kwargs, key: _wrong_value(kwargs[key])}
        changed = [list(turn) for turn in turns]
        changed[t][c] = f"{name}({', '.join(f'{k}={v!r}' for k, v in wrong.items())})"
        out["wrong_argument"] = _steps(changed)
    found = _first_turn(turns)
    if found:
        t, _ = found
        out["missing_call"] = _steps([turn[:-1] if i == t else turn for i, turn in enumerate(turns)])
        out["empty_turn"] = _steps([[] if i == t else turn for i, turn in enumerate(turns)])
        extra = EXTRA_CALLS[entry.involved_classes[0]]
        out["extra_call"] = _steps([[*turn, extra] if i == t else turn for i, turn in enumerate(turns)])
        out["unknown_function"] = _steps(
            [[*turn, "no_such_function(x=1)"] if i == t else turn for i, turn in enumerate(turns)]
        )
    if entry.missed_function:
        held_turn = min(entry.missed_function)
        held = entry.missed_function[held_turn][0]
        arguments = ", ".join(f"{name}='x'" for name in held["parameters"].get("required", []))
        early = f"{held['name']}({arguments})"
        out["held_out_early"] = _steps([[early, *turn] if i == 0 else turn for i, turn in enumerate(turns)])
    return out


def _disagreements(entries: list[MultiTurnEntry]) -> tuple[int, list[str]]:
    compared, different = 0, []
    for entry in entries:
        for name, result in variants(entry).items():
            ours = check_multi_turn(entry, result)
            theirs = bfcl_verdict(entry, result)
            compared += 1
            if (ours.valid, ours.error_type) != theirs:
                different.append(f"{entry.id} {name}: ours {(ours.valid, ours.error_type)}, bfcl {theirs}")
    return compared, different


@pytest.mark.parametrize("category", MULTI_TURN)
def test_agrees_with_bfcl_on_a_sample(category: str) -> None:
    entries = load_multi_turn(category)[::20]  # 10 entries per category
    compared, different = _disagreements(entries)
    assert compared >= 60
    assert different == []


@pytest.mark.slow
@pytest.mark.parametrize("category", MULTI_TURN)
def test_agrees_with_bfcl_on_every_entry(category: str) -> None:
    compared, different = _disagreements(load_multi_turn(category))
    assert compared >= 1200
    assert different == []


def test_the_ground_truth_passes_and_corruptions_fail() -> None:
    entry = load_multi_turn("multi_turn_base")[0]
    results = variants(entry)
    verdicts = {name: check_multi_turn(entry, result) for name, result in results.items()}
    assert verdicts["truth"].valid and verdicts["truth_one_step"].valid
    assert verdicts["cut_short"].error_type == "multi_turn:force_terminated"
    assert verdicts["empty_turn"].error_type == "multi_turn:empty_turn_model_response"
    assert verdicts["wrong_argument"].error_type in (
        "multi_turn:instance_state_mismatch",
        "multi_turn:execution_response_mismatch",
    )
