"""Multi-turn generation: BFCL's turn loop with a scripted model, resuming, scores, the CLI end to end."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from funreason.evaluate.multi_turn import MAXIMUM_STEP_LIMIT, MULTI_TURN, MultiTurnEntry, load_multi_turn
from funreason.evaluate.multi_turn_run import Conversation, multi_turn_row
from funreason.evaluate.run import evaluate_bfcl, score_responses
from funreason.llm.base import Generation

_spec = importlib.util.spec_from_file_location(
    "_multi_turn_truth", Path(__file__).with_name("_multi_turn_truth.py")
)
_truth = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_truth)

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bfcl_eval") is None, reason="needs bfcl-eval (pip install --no-deps bfcl-eval)"
)
SRC = Path(__file__).resolve().parents[2] / "src"


def _openers(entry: MultiTurnEntry) -> list[str]:
    return [entry.turn_messages(0)[0]["content"]] + [
        entry.turn_messages(t)[-1]["content"] for t in range(len(entry.turns))
    ]


class ScriptedModel:
    """Answers each turn's first step with the ground truth's calls (in `<think>` reasoning), then
    says it is done; knows the entry by the system prompt and the user messages so far (entries of
    different categories share first questions). `calls` counts prompts answered."""

    def __init__(self, entries: Sequence[MultiTurnEntry], *, error: str | None = None, local: bool = True):
        self.name = "scripted"
        self.calls = 0
        self.error = error
        self.scripts = [(_openers(entry), _truth.truth_turns(entry)) for entry in entries]
        if local:
            self.generate_stream = None  # marks a local model: results come back as tool messages

    async def agenerate(self, prompts: Sequence[list[dict[str, Any]]], **_: Any) -> list[list[Generation]]:
        self.calls += len(prompts)
        return [[self._answer(messages)] for messages in prompts]

    def _answer(self, messages: list[dict[str, Any]]) -> Generation:
        if self.error:
            return Generation(error=self.error)
        openers = [
            i
            for i, m in enumerate(messages)
            if m["role"] == "user" and not m["content"].startswith("[{'role'")
        ]
        seen = [messages[0]["content"]] + [messages[i]["content"] for i in openers]
        turns = next((truth for texts, truth in self.scripts if texts[: len(seen)] == seen), None)
        if turns is None:  # not a multi-turn entry of ours
            return Generation(text="I cannot help.")
        turn = len(openers) - 1
        first_step = not any(m["role"] == "assistant" for m in messages[openers[-1] :])
        if first_step and turns[turn]:
            return Generation(
                text=f"<think>the user wants this</think>[{', '.join(turns[turn])}]", completion_tokens=3
            )
        return Generation(text="Done.", completion_tokens=1)


class LoopingModel:
    """Calls a harmless function forever."""

    name = "looping"

    async def agenerate(self, prompts: Sequence[list[dict[str, Any]]], **_: Any) -> list[list[Generation]]:
        return [[Generation(text="[pwd()]")] for _ in prompts]


def _drive(conversation: Conversation, model: Any) -> None:
    import asyncio

    while not conversation.done:
        (generations,) = asyncio.run(model.agenerate([conversation.messages]))
        conversation.advance(generations[0])


@pytest.fixture(scope="module")
def entries() -> list[MultiTurnEntry]:
    return load_multi_turn("multi_turn_base")[:3]


@pytest.fixture(scope="module")
def every_category() -> list[MultiTurnEntry]:
    return [entry for category in MULTI_TURN for entry in load_multi_turn(category)[:3]]


def test_the_ground_truth_conversation_passes(entries: list[MultiTurnEntry]) -> None:
    entry = entries[0]
    conversation = Conversation(entry)
    _drive(conversation, ScriptedModel([entry]))
    row = multi_turn_row(entry, conversation.result, conversation)
    assert row["valid"], row["errors"]
    assert len(row["result"]) == len(entry.turns)
    assert all(turn[-1] == "Done." for turn in row["result"])  # each turn ends on a no-call answer
    assert row["result"][0][0].startswith("[") and row["outputs"][0][0].startswith("<think>")
    tools = [m for m in conversation.messages if m["role"] == "tool"]
    assert len(tools) == sum(len(turn) for turn in entry.ground_truth)
    assert tools[0]["name"] == _truth.truth_turns(entry)[0][0]
    assert [m["role"] for m in conversation.messages[:2]] == ["system", "user"]


def test_an_endpoint_gets_results_in_one_user_message(entries: list[MultiTurnEntry]) -> None:
    entry = entries[0]
    conversation = Conversation(entry, feedback="user")
    _drive(conversation, ScriptedModel([entry], local=False))
    assert not any(m["role"] == "tool" for m in conversation.messages)
    results = [m for m in conversation.messages if m["content"].startswith("[{'role': 'tool'")]
    assert len(results) == sum(bool(turn) for turn in entry.ground_truth)
    assert multi_turn_row(entry, conversation.result, conversation)["valid"]


def test_held_out_functions_are_offered_at_their_turn() -> None:
    entry = load_multi_turn("multi_turn_miss_func")[0]
    conversation = Conversation(entry)
    _drive(conversation, ScriptedModel([entry]))
    (turn,) = entry.missed_function
    offers = [m for m in conversation.messages if "I have updated some more functions" in str(m["content"])]
    assert len(offers) == 1 and "'name': 'sort'" in offers[0]["content"]
    assert multi_turn_row(entry, conversation.result, conversation)["valid"]


def test_a_model_that_never_stops_is_force_quit(entries: list[MultiTurnEntry]) -> None:
    entry = entries[0]
    conversation = Conversation(entry)
    _drive(conversation, LoopingModel())
    assert conversation.force_quit
    assert len(conversation.result) == 1 and len(conversation.result[0]) == MAXIMUM_STEP_LIMIT + 1
    row = multi_turn_row(entry, conversation.result, conversation)
    assert row["error_type"] == "multi_turn:force_terminated"


def test_evaluate_resumes_per_entry_and_scores_multi_turn(
    tmp_path: Path, entries: list[MultiTurnEntry], every_category: list[MultiTurnEntry]
) -> None:
    failing = ScriptedModel(entries, error="endpoint down")
    failing.name = "scripted"
    first = evaluate_bfcl(failing, tmp_path, categories=["multi_turn_base"], limit=3, progress=False)
    assert first.failed == 3 and first.scores["multi_turn_base"].correct == 0

    model = ScriptedModel(entries)
    second = evaluate_bfcl(model, tmp_path, categories=["multi_turn_base"], limit=3, progress=False)
    assert second.generated == 3 and second.scores["multi_turn_base"].correct == 3
    again = ScriptedModel(entries)
    fourth = evaluate_bfcl(again, tmp_path, categories=["multi_turn_base"], limit=3, progress=False)
    assert again.calls == 0 and fourth.reused == 3 and fourth.generated == 0
    third = evaluate_bfcl(
        ScriptedModel(every_category), tmp_path, categories=["multi_turn"], limit=3, progress=False
    )
    assert third.reused == 3 and third.generated == 9
    assert list(third.scores) == list(MULTI_TURN)
    assert all(score.correct == 3 for score in third.scores.values())

    doc = json.loads((tmp_path / "scores.json").read_text())
    assert doc["summary"]["multi_turn"] == pytest.approx(sum(s.accuracy for s in third.scores.values()) / 4)
    assert doc["summary"]["non_live_ast"] is None and doc["summary"]["bfcl_overall"] is None
    assert "Multi-Turn" in (tmp_path / "scores.md").read_text()
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows][:3] == [entry.id for entry in entries]
    assert all(isinstance(row["result"], list) for row in rows)


def test_single_and_multi_turn_mix(tmp_path: Path, entries: list[MultiTurnEntry]) -> None:
    summary = evaluate_bfcl(
        ScriptedModel(entries),
        tmp_path,
        categories=["simple_python", "multi_turn_base"],
        limit=1,
        progress=False,
    )
    assert list(summary.scores) == ["simple_python", "multi_turn_base"]
    assert summary.scores["multi_turn_base"].correct == 1


def _tiny_multi_turn_model(tokenizer_dir: Path) -> tuple:
    """A random one-layer Qwen2 with room for BFCL's long multi-turn prompts, and its tokenizer."""
    import torch
    from transformers import AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=65536,
        pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True,
    )  # fmt: skip
    return Qwen2ForCausalLM(config).eval(), tokenizer


def test_cli_end_to_end_resumes_per_entry(tmp_path: Path, tiny_model_dir: Path) -> None:
    # The command line, model loading included, on a tiny random model saved like a hub model (the
    # embedded SmolLM2's run is timed in the README: its 3,500-8,000-token prompts take minutes here).
    model, tokenizer = _tiny_multi_turn_model(tiny_model_dir)
    model_dir = tmp_path / "model"
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    out = tmp_path / "eval"
    command = [
        sys.executable, "-m", "funreason", "--threads", "1", "evaluate", "--model", str(model_dir), "--categories",
        "multi_turn_base", "--ids", "multi_turn_base_100", "--out", str(out), "--max-tokens", "4",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    subprocess.run(command, check=True, env=env, capture_output=True, text=True, timeout=600)
    doc = json.loads((out / "scores.json").read_text())
    assert doc["categories"]["multi_turn_base"]["total"] == 1 and doc["counts"]["generation_errors"] == 0
    (row,) = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert row["id"] == "multi_turn_base_100" and len(row["result"]) == 2 and row["prompt_tokens"] > 2 * 1000
    assert doc["run"]["hardware"].endswith("1 threads)")  # --threads reached torch

    subprocess.run(command, check=True, env=env, capture_output=True, text=True, timeout=600)
    assert json.loads((out / "scores.json").read_text())["counts"]["reused"] == 1


def test_bfcl_multi_turn_result_files_are_scored(tmp_path: Path, entries: list[MultiTurnEntry]) -> None:
    truth = [[f"[{', '.join(turn)}]"] if turn else ["Done."] for turn in _truth.truth_turns(entries[0])]
    lines = [
        {"id": entries[0].id, "result": truth},
        {"id": entries[1].id, "result": [["[pwd()]"]]},  # cut short
        {"id": entries[2].id, "result": "not a list"},
    ]
    responses = tmp_path / "BFCL_v4_multi_turn_base_result.json"
    responses.write_text("".join(json.dumps(line) + "\n" for line in lines))
    summary = score_responses(responses, tmp_path / "scores")
    assert summary.scores["multi_turn_base"].correct == 1 and summary.scores["multi_turn_base"].total == 3
    rows = {row["id"]: row for row in map(json.loads, (tmp_path / "scores" / "results.jsonl").open())}
    assert rows[entries[1].id]["error_type"] == "multi_turn:force_terminated"
    assert rows[entries[2].id]["error_type"] == "multi_turn:inference_error"


def test_a_tiny_local_model_runs_and_resumes(tmp_path: Path, tiny_model_dir: Path) -> None:
    from funreason.llm.local import LocalGenerator

    model, tokenizer = _tiny_multi_turn_model(tiny_model_dir)
    generator = LocalGenerator(model, tokenizer, batch_size=4)
    first = evaluate_bfcl(
        generator, tmp_path, categories=["multi_turn_base"], limit=1, max_tokens=4, progress=False
    )
    assert first.generated == 1 and first.failed == 0
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert all(
        len(row["result"]) == len(entry.turns)
        for row, entry in zip(rows, load_multi_turn("multi_turn_base"), strict=False)
    )
    assert all(row["prompt_tokens"] > 0 for row in rows)
    again = evaluate_bfcl(
        generator, tmp_path, categories=["multi_turn_base"], limit=1, max_tokens=4, progress=False
    )
    assert again.reused == 1 and again.generated == 0
