"""Multi-turn data: the same entries, docs, held-out functions and prompts as bfcl-eval builds."""

from __future__ import annotations

import copy
import importlib.util

import pytest

from funreason.evaluate.multi_turn import ADDITIONAL_FUNCTION_PROMPT, MULTI_TURN, load_multi_turn

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bfcl_eval") is None, reason="needs bfcl-eval (pip install --no-deps bfcl-eval)"
)


@pytest.mark.parametrize("category", MULTI_TURN)
def test_entries_match_bfcl_eval(category: str) -> None:
    from bfcl_eval.model_handler.utils import system_prompt_pre_processing_chat_model
    from bfcl_eval.utils import load_dataset_entry, load_ground_truth_entry

    ours = load_multi_turn(category)
    theirs = load_dataset_entry(category)
    truth = load_ground_truth_entry(category)
    assert len(ours) == len(theirs) == len(truth) == 200
    for entry, reference, answer in zip(ours, theirs, truth, strict=True):
        assert entry.id == reference["id"] == answer["id"]
        assert entry.involved_classes == reference["involved_classes"]
        assert entry.initial_config == reference["initial_config"]
        assert entry.functions == reference["function"]
        assert entry.missed_function == {int(k): v for k, v in reference.get("missed_function", {}).items()}
        assert entry.ground_truth == answer["ground_truth"]
        first_turn = copy.deepcopy(reference["question"][0])
        assert entry.turn_messages(0) == system_prompt_pre_processing_chat_model(
            first_turn, reference["function"], reference["id"]
        )


def test_held_out_functions_appear_at_their_turn_with_bfcls_message() -> None:
    entry = load_multi_turn("multi_turn_miss_func")[0]
    ((turn, docs),) = entry.missed_function.items()
    assert [doc["name"] for doc in docs] == ["sort"]
    assert "sort" not in {doc["name"] for doc in entry.functions}
    assert entry.turns[turn] == []
    assert entry.turn_messages(turn) == [
        {"role": "user", "content": ADDITIONAL_FUNCTION_PROMPT.format(functions=docs)}
    ]
    assert entry.turn_messages(turn)[0]["content"].endswith(
        "\nI have updated some more functions you can choose from. What about now?"
    )
    assert entry.turn_messages(1) == entry.turns[1]  # later turns are the user's messages as given


def test_long_context_flag_follows_the_category() -> None:
    assert load_multi_turn("multi_turn_long_context")[0].long_context
    assert not load_multi_turn("multi_turn_base")[0].long_context


def test_unknown_category_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown BFCL multi-turn category"):
        load_multi_turn("multi_turn_nope")
