"""The endpoint client against a real OpenAI-compatible server: `transformers serve` on the embedded
SmolLM2-135M (the session fixture `real_server`), driven through the CLI as a user would.

A 135M model writes poor reasoning and mostly unparseable verdicts; these tests assert what is
structurally guaranteed whatever it writes: the run ends normally, every sample is accounted for
(written, or recorded with its failure), and nothing is guessed. Requests are kept few and short
(one server on two CPU cores answers one request at a time).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from funreason.cli import app
from funreason.llm.base import EndpointDown
from funreason.llm.endpoint import EndpointGenerator, served_model
from funreason.records import REASONING_BY, Sample, read_samples, write_jsonl
from funreason.synth import generate

pytestmark = pytest.mark.slow
COUNT = [{"role": "user", "content": "Count from one to one hundred in words."}]


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


def samples(n: int, seed: int) -> list[Sample]:
    return list(generate(n, seed=seed))


def lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def test_the_served_model_is_the_one_the_server_lists(real_server):
    assert served_model(real_server.url) == real_server.model


def test_cot_with_a_discovered_teacher_accounts_for_every_sample(real_server, tmp_path):
    fresh, done = samples(2, seed=11)
    source, output = tmp_path / "in.jsonl", tmp_path / "cot.jsonl"
    write_jsonl(source, [fresh.model_copy(update={"reasoning": ""}), done])  # one to teach, one kept
    result = invoke("cot", source, output, "--teacher", "llm", "--endpoint", real_server.url,
                    "--max-tokens", 24, "--concurrency", 2)
    assert result.exit_code == 0, result.output + real_server.log_tail()
    errors = output.with_name("cot.errors.jsonl")
    written = {s.id: s for s in read_samples(output)}
    failed = {s.id: s.meta["cot_error"] for s in read_samples(errors)} if errors.exists() else {}
    assert done.id in written and written[done.id].reasoning == done.reasoning
    assert sorted([*written, *failed]) == sorted([fresh.id, done.id])
    assert all(failed.values())  # each failure says why
    if fresh.id in written:  # the 135M teacher's reasoning passed the checks: it says who wrote it
        assert written[fresh.id].reasoning and written[fresh.id].meta[REASONING_BY] == f"llm:{real_server.model}"


@pytest.mark.parametrize("judge", ["llm", "hybrid"])
def test_refine_with_a_real_judge_accounts_for_every_sample(real_server, tmp_path, judge):
    chosen = samples(2, seed=12)
    if judge == "hybrid":  # reasoning not from our template: stage 3 is the LLM's to judge
        chosen = [s.model_copy(update={"meta": {**s.meta, REASONING_BY: "llm:someone"}}) for s in chosen]
    source, out = tmp_path / "in.jsonl", tmp_path / "refined"
    write_jsonl(source, chosen)
    result = invoke("refine", source, "--out", out, "--judge", judge, "--endpoint", real_server.url,
                    "--judge-max-tokens", 8, "--concurrency", 2)
    assert result.exit_code == 0, result.output + real_server.log_tail()
    run = json.loads((out / "run.json").read_text())
    summary = run["summary"] if "summary" in run else run
    counted = {name: lines(out / f"{name}.jsonl") for name in ("refined", "hard", "dropped", "errors")}
    assert sum(counted.values()) == len(chosen) == summary["input"]
    assert summary["judged"] >= 1  # the server was asked
    for sample in read_samples(out / "errors.jsonl"):  # an unreadable verdict is recorded, never guessed
        assert sample.verdicts[-1].decision == "error" and sample.verdicts[-1].judge.endswith(real_server.model)


def test_evaluate_against_the_server_scores_every_entry(real_server, tmp_path):
    out = tmp_path / "eval"
    result = invoke("evaluate", "--endpoint", real_server.url, "--categories", "simple_python", "--limit", 2,
                    "--max-tokens", 16, "--concurrency", 2, "--out", out)
    assert result.exit_code == 0, result.output + real_server.log_tail()
    assert lines(out / "results.jsonl") == 2
    scores = json.loads((out / "scores.json").read_text())
    assert scores["categories"]["simple_python"]["total"] == 2
    assert scores["counts"]["generated"] == 2 and scores["counts"]["generation_errors"] == 0
    assert (scores["run"]["model"], scores["run"]["endpoint"]) == (real_server.model, real_server.url)


def test_a_wrong_model_name_stops_the_run_with_the_servers_own_words(real_server, tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, samples(3, seed=13))
    result = invoke("refine", source, "--out", tmp_path / "o", "--judge", "llm", "--endpoint", real_server.url,
                    "--judge-model", "no-such-model", "--concurrency", 3)
    assert result.exit_code == 2
    assert "no-such-model" in result.output and "pinned" in result.output


def test_the_server_ignores_n_and_the_client_asks_again(real_server):
    generator = EndpointGenerator(real_server.url, real_server.model)
    [answers] = asyncio.run(generator.agenerate([COUNT], max_tokens=4, n=2))
    assert len(answers) == 2 and all(a.text and not a.error for a in answers)
    assert generator.n_supported is False


def test_a_server_slower_than_the_requests_in_flight_gets_fewer_and_answers_all(real_server, caplog):
    """`transformers serve` answers one request at a time: with four in flight and a request timeout
    of two answers' time, the later ones time out while the first is answered. The client halves
    what it sends instead of stopping as if the server were down, and every prompt is answered."""
    started = time.monotonic()
    asyncio.run(EndpointGenerator(real_server.url, real_server.model).agenerate([COUNT], max_tokens=8))
    one = time.monotonic() - started
    generator = EndpointGenerator(real_server.url, real_server.model, concurrency=4, timeout=2 * one, backoff=0.1)
    try:
        answers = asyncio.run(generator.agenerate([COUNT] * 4, max_tokens=8))
    except EndpointDown as exc:
        pytest.fail(f"{exc}\n{real_server.log_tail()}")
    assert all(a.text and not a.error for [a] in answers), [a.error for [a] in answers]
    assert generator.concurrency_now < 4
    assert "falling behind" in caplog.text
