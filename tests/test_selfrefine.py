"""Self-refinement on a tiny random model: the round artifacts, and resuming after a kill."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import fake_server as fake
import pytest

from funreason.calls import format_turn, render_calls
from funreason.llm.base import Generation
from funreason.records import ToolCall, read_samples, write_jsonl
from funreason.selfrefine import SelfRefineConfig, failed_query_ids, rollout_samples, selfrefine, training_mix
from funreason.synth import generate

QUERIES = list(generate(12, seed=11))


def test_rollouts_become_samples_and_wrong_kinds_are_set_aside():
    call_query = next(q for q in QUERIES if q.is_call)
    statement_query = next(q for q in QUERIES if not q.is_call)
    right = Generation(text=f"<think>\nI call it.\n</think>\n\n{render_calls(call_query.calls)}")
    prose = Generation(text="I would rather not.")
    as_json = Generation(text=render_calls(call_query.calls, "json"))  # FCDR's format stage judges the syntax
    outputs = [[right, prose, Generation(error="context too long"), as_json],
               [Generation(text=render_calls(call_query.calls))]]

    kept, mismatched, failed = rollout_samples([call_query, statement_query], outputs, round_index=2)

    assert failed == 1
    assert [s.id for s in kept] == [f"{call_query.id}-r2-s0", f"{call_query.id}-r2-s3"]
    assert kept[0].calls == call_query.calls and kept[0].reasoning == "I call it."
    assert kept[0].meta["query_id"] == call_query.id and kept[0].meta["raw_answer"] == render_calls(call_query.calls)
    assert kept[1].calls == call_query.calls and kept[1].meta["raw_answer"] == as_json.text
    assert {s.id for s in mismatched} == {f"{call_query.id}-r2-s1", f"{statement_query.id}-r2-s0"}


def test_rollouts_read_calls_python_cannot_write():
    query = QUERIES[0].model_copy(update={"answer": [ToolCall(name="book", arguments={"from": "Oslo"})]})
    written = f"<think>\nfrom Oslo\n</think>\n\n{format_turn('', query.calls)}"  # JSON: python cannot say from=
    (kept,), mismatched, _ = rollout_samples([query], [[Generation(text=written)]], round_index=1)
    assert kept.calls == query.calls and not mismatched


def test_training_mix_adds_the_replay_share_of_earlier_samples():
    new, earlier = QUERIES[:4], QUERIES[4:]
    mixed = training_mix(new, earlier, replay=0.5, seed=0)
    assert mixed[:4] == new and len(mixed) == 6 and set(s.id for s in mixed[4:]) <= {s.id for s in earlier}
    assert training_mix(new, earlier, replay=0.0, seed=0) == new


def test_unknown_train_options_are_rejected_when_configured(tmp_path):
    with pytest.raises(ValueError, match="learning_rat"):
        SelfRefineConfig(queries=tmp_path / "q.jsonl", out=tmp_path, train={"learning_rat": 1.0})
    with pytest.raises(ValueError, match="output"):
        SelfRefineConfig(queries=tmp_path / "q.jsonl", out=tmp_path, train={"output": "x"})


def tiny_config(model: Path, queries: Path, out: Path, rounds: int) -> SelfRefineConfig:
    return SelfRefineConfig(
        model=str(model), queries=queries, out=out, rounds=rounds, temperature=1.0,
        max_new_tokens=24, generation_batch_size=8, eval_categories=["simple_python", "irrelevance"],
        eval_limit=2, train={"lora_r": 0, "max_steps": 2, "batch_size": 2, "logging_steps": 1, "save_steps": 1,
                             "learning_rate": 1e-3, "warmup_ratio": 0.0},
    )  # fmt: skip


RUNNER = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from funreason.selfrefine import SelfRefineConfig, selfrefine

    config = SelfRefineConfig.model_validate_json(Path(sys.argv[1]).read_text())
    kill_after = int(sys.argv[2])
    selfrefine(config, on_round_end=lambda k: os._exit(9) if k == kill_after else None)
    """
)


@pytest.mark.slow
def test_two_rounds_write_their_artifacts_and_a_kill_between_rounds_redoes_nothing(tiny_model_dir, tmp_path):
    queries = tmp_path / "queries.jsonl"
    write_jsonl(queries, QUERIES)
    # A random model rarely writes a valid call; seed the rollouts' file of round 1 with the reference
    # answers so that FCDR passes some and the round trains (the model's own answers stay in round 2).
    out = tmp_path / "run"
    config = tiny_config(tiny_model_dir, queries, out, rounds=2)
    config_path = tmp_path / "config.json"
    config_path.write_text(config.model_dump_json())
    (out / "round_1").mkdir(parents=True)
    seeded = [q.model_copy(update={"id": f"{q.id}-r1-s0", "meta": {"query_id": q.id, "round": 1}}) for q in QUERIES]
    write_jsonl(out / "round_1" / "generated.jsonl", seeded[::2])
    write_jsonl(out / "round_1" / "mismatched.jsonl", [])
    script = tmp_path / "run_selfrefine.py"
    script.write_text(RUNNER)

    def run(kill_after: int) -> int:
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        return subprocess.run([sys.executable, str(script), str(config_path), str(kill_after)], env=env).returncode

    assert run(kill_after=1) == 9
    first = out / "round_1" / "round.json"
    assert first.is_file() and not (out / "round_2").exists()
    stamp = first.stat().st_mtime_ns
    trained = json.loads(first.read_text())
    assert trained["train"]["steps"] == 2 and Path(trained["model_out"]).is_dir()
    assert set(trained["scores"]["categories"]) == {"simple_python", "irrelevance"}

    assert run(kill_after=0) == 0
    assert first.stat().st_mtime_ns == stamp  # round 1 was not redone
    second = json.loads((out / "round_2" / "round.json").read_text())
    assert second["model_in"] == trained["model_out"]
    assert second["queries"] == len(QUERIES)
    for name in ("generated.jsonl", "mismatched.jsonl", "refine/report.md", "eval/scores.json"):
        assert (out / "round_2" / name).is_file(), name
    asked = [s.id for name in ("generated.jsonl", "mismatched.jsonl") for s in read_samples(out / "round_2" / name)]
    assert sorted(asked) == sorted(f"{q.id}-r2-s0" for q in QUERIES)


def test_the_hard_pool_is_the_queries_whose_answers_all_failed(tmp_path):
    round_dir = tmp_path / "round_1"
    answers = [q.model_copy(update={"id": f"{q.id}-r1-s0", "meta": {"query_id": q.id}}) for q in QUERIES[:6]]
    write_jsonl(round_dir / "generated.jsonl", answers[:5])
    write_jsonl(round_dir / "mismatched.jsonl", answers[5:])
    write_jsonl(round_dir / "refine" / "refined.jsonl", answers[:2])
    assert failed_query_ids(round_dir) == {q.id for q in QUERIES[2:6]}


def test_a_round_with_nothing_to_train_on_keeps_the_model(tiny_model_dir, tmp_path):
    queries = tmp_path / "queries.jsonl"
    write_jsonl(queries, QUERIES)
    out = tmp_path / "run"
    config = tiny_config(tiny_model_dir, queries, out, rounds=1).model_copy(update={"evaluate": False})
    (out / "round_1").mkdir(parents=True)
    write_jsonl(out / "round_1" / "generated.jsonl", [])  # the model's answers: none usable
    write_jsonl(out / "round_1" / "mismatched.jsonl", [])

    [result] = selfrefine(config)

    assert result["model_out"] == str(tiny_model_dir) and result["train"] is None
    assert "no trainable sample" in result["train_skipped"]


class _OwnAnswers:
    """Stands in for the model: answers each query with calls of its own that FCDR accepts but that
    are not the reference (a call left out, or an optional argument dropped)."""

    name = "scripted-own-answers"

    def __init__(self, *args, **kwargs):
        self.by_query = {q.query: q for q in QUERIES}

    @staticmethod
    def own_answer(query):
        calls = list(query.calls)
        if len(calls) > 1:
            return calls[:-1]
        required = next(t for t in query.tools if t["name"] == calls[0].name)["parameters"].get("required", [])
        arguments = {k: v for k, v in calls[0].arguments.items() if k in required}
        return [calls[0].model_copy(update={"arguments": arguments})]

    async def agenerate(self, prompts, *, max_tokens, temperature, n):
        from funreason.calls import format_turn
        from funreason.reasoning_template import template_reasoning

        outputs = []
        for messages in prompts:
            query = self.by_query[messages[-1]["content"]]
            if not query.is_call:
                outputs.append([Generation(text=format_turn("No tool fits.", query.answer))] * n)
                continue
            calls = self.own_answer(query)
            text = format_turn(template_reasoning(query.query, query.tools, calls), calls)
            outputs.append([Generation(text=text)] * n)
        return outputs


def test_a_round_trains_on_the_models_own_answers_not_the_reference(tiny_model_dir, tmp_path, monkeypatch):
    import funreason.llm.local

    monkeypatch.setattr(funreason.llm.local, "LocalGenerator", _OwnAnswers)
    queries = tmp_path / "queries.jsonl"
    write_jsonl(queries, QUERIES)
    config = tiny_config(tiny_model_dir, queries, tmp_path / "run", rounds=1).model_copy(update={"evaluate": False})

    [result] = selfrefine(config)

    round_dir = tmp_path / "run" / "round_1"
    trained = list(read_samples(round_dir / "train.jsonl"))
    reference = {q.id: q for q in QUERIES}
    assert trained and result["train"]["samples"] == len(trained) == result["refine"]["refined"]
    own = [s for s in trained if s.is_call]
    for sample in own:
        assert sample.calls == _OwnAnswers.own_answer(reference[sample.meta["query_id"]])
    assert sum(s.calls != reference[s.meta["query_id"]].calls for s in own) >= 3
    assert result["train"]["steps"] == 2 and Path(result["model_out"]).is_dir()


def test_rollouts_run_on_an_endpoint_from_the_cli(tiny_model_dir, tmp_path):
    """`selfrefine --endpoint`: the served model answers the queries; FCDR and training run here."""

    from typer.testing import CliRunner

    from funreason.calls import format_turn
    from funreason.cli import app
    from funreason.reasoning_template import template_reasoning

    by_query = {q.query: q for q in QUERIES}

    def script(request):
        query = by_query[request.prompt]
        answer = _OwnAnswers.own_answer(query) if query.is_call else query.answer
        return fake.Reply(text=format_turn(template_reasoning(query.query, query.tools, answer), answer))

    queries = tmp_path / "queries.jsonl"
    write_jsonl(queries, QUERIES)
    args = ["selfrefine", "--queries", str(queries), "--model", str(tiny_model_dir), "--max-steps", "1",
            "--eval-limit", "1", "--served-model", "served", "--extra-body", '{"seed": 3}']
    with fake.FakeServer(script) as server:
        result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "run"), "--endpoint", server.url])
        two = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "two"), "--endpoint", server.url, "--rounds", "2"])
    assert result.exit_code == 0, result.output
    assert {(r.body["model"], r.body["temperature"], r.body["seed"]) for r in server.requests} == {("served", 0.7, 3)}
    assert len(server.requests) == len(QUERIES)
    round_1 = json.loads((tmp_path / "run" / "round_1" / "round.json").read_text())
    assert round_1["refine"]["refined"] > 0 and round_1["train"]["steps"] == 1
    assert two.exit_code == 2 and "set load to lora or path" in two.output
