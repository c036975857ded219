"""Judge a multi-turn conversation as bfcl-eval does, executing calls by dispatch (`Executor`).

`check_multi_turn(entry, result)` takes BFCL's result shape, one text per step per turn, and follows
`eval_runner._evaluate_single_multi_turn_entry` and `multi_turn_checker.multi_turn_checker`:

1. a result that is not a list is `multi_turn:inference_error`; a turn count other than the ground
   truth's is `multi_turn:force_terminated` (the conversation was cut short);
2. each step is decoded as python calls (`checker.decode`); steps that fail to decode or decode to
   no call are dropped, as BFCL drops them;
3. turn by turn, the model's steps run on the model's instances and the turn's ground truth on
   separate ground-truth instances (both live for the whole conversation). A turn whose ground truth
   is empty is not checked (its calls still run, so later state is right). Otherwise, in order:
   no step at all is `multi_turn:empty_turn_model_response`; a public attribute of an instance
   that differs from the ground truth's is `multi_turn:instance_state_mismatch`; a ground-truth
   result missing from the model's results of all turns so far (compared as a multiset) is
   `multi_turn:execution_response_mismatch`.

bfcl-eval also has `multi_turn_irrelevance_checker` (a call in a turn whose ground truth is empty
is `multi_turn:irrelevance_error:decoder_success`), but its eval runner (2026.3.23) never calls it,
so a call there is not judged; neither is it here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from funreason.evaluate.checker import decode
from funreason.evaluate.multi_turn import MultiTurnEntry
from funreason.evaluate.multi_turn_exec import Executor, decoded_calls, parse_call

Decoded = list[dict[str, dict[str, Any]]]


@dataclass
class MultiTurnCheck:
    """BFCL's verdict on one conversation.

    `decoded`: per turn, the decoded steps that were kept; `execution`: per turn, the model's
    results per step and the ground truth's results (up to the turn that failed).
    """

    valid: bool
    error_type: str = ""
    errors: list[str] = field(default_factory=list)
    decoded: list[list[Decoded]] = field(default_factory=list)
    execution: list[dict[str, Any]] = field(default_factory=list)


def decode_step(text: str) -> Decoded | None:
    """One step's text as decoded calls; None where BFCL's eval runner drops the step (it does not
    decode, or decodes to no call)."""
    try:
        decoded = decode(text, "python")
    except Exception:  # BFCL drops a step on any decoder exception
        return None
    return decoded or None


def new_executor(entry: MultiTurnEntry) -> Executor:
    """Fresh API instances for `entry`, in their initial state."""
    return Executor(entry.involved_classes, entry.initial_config, long_context=entry.long_context)


def check_multi_turn(entry: MultiTurnEntry, result: Any) -> MultiTurnCheck:
    """Judge `result` (per turn, per step, the model's text without reasoning) against `entry`."""
    if not isinstance(result, list):
        return MultiTurnCheck(
            False,
            "multi_turn:inference_error",
            ["Error during inference phase. Model did not output a list of model responses."],
        )
    if len(result) != len(entry.ground_truth):
        return MultiTurnCheck(
            False,
            "multi_turn:force_terminated",
            [
                "Model was force-terminated during inference phase. The length of the model result "
                f"turns ({len(result)}) does not match the length of the ground truth turns "
                f"({len(entry.ground_truth)})."
            ],
        )
    decoded = [
        [step for step in (decode_step(text) for text in turn if isinstance(text, str)) if step]
        for turn in (turn if isinstance(turn, list) else [] for turn in result)
    ]
    return _check_decoded(entry, decoded)


def _check_decoded(entry: MultiTurnEntry, decoded: list[list[Decoded]]) -> MultiTurnCheck:
    model, truth = new_executor(entry), new_executor(entry)
    check = MultiTurnCheck(True, decoded=decoded)
    model_results_so_far: list[str] = []
    for turn, (steps, ground_truth) in enumerate(zip(decoded, entry.ground_truth, strict=True)):
        per_step = [model.execute(decoded_calls(step)) for step in steps]
        truth_results = truth.execute(parse_call(text) for text in ground_truth)
        model_results_so_far.extend(result for step in per_step for result in step)
        check.execution.append({"model": per_step, "ground_truth": truth_results})
        if not ground_truth:
            continue
        if not steps:
            return _fail(
                check, "multi_turn:empty_turn_model_response", f"Model response list is empty for turn {turn}"
            )
        for class_name, truth_instance in truth.instances.items():
            differences = _state_differences(model.instances[class_name], truth_instance)
            if differences:
                return _fail(
                    check,
                    "multi_turn:instance_state_mismatch",
                    f"Model instance for {class_name} does not match the state with ground truth instance.",
                    f"differences: {differences}",
                )
        missing = _missing(truth_results, model_results_so_far)
        if missing:
            return _fail(
                check,
                "multi_turn:execution_response_mismatch",
                "Model response execution results so far does not contain all the ground truth "
                f"response execution results for turn {turn}.",
                f"missing items: {missing}",
            )
    return check


def _fail(check: MultiTurnCheck, error_type: str, *errors: str) -> MultiTurnCheck:
    check.valid, check.error_type, check.errors = False, error_type, list(errors)
    return check


def _state_differences(model_instance: Any, truth_instance: Any) -> dict[str, dict[str, Any]]:
    # multi_turn_checker._compare_instances: the ground truth's public attributes, compared with !=.
    differences = {}
    for name, truth_value in vars(truth_instance).items():
        if name.startswith("_"):
            continue
        model_value = getattr(model_instance, name)
        if model_value != truth_value:
            differences[name] = {"model": repr(model_value)[:200], "ground_truth": repr(truth_value)[:200]}
    return differences


def _missing(expected: list[str], results: list[str]) -> list[str]:
    # multi_turn_checker._is_subsequence_unordered: each expected item uses up one equal result.
    remaining = list(results)
    missing = []
    for item in expected:
        if item in remaining:
            remaining.remove(item)
        else:
            missing.append(item)
    return missing
