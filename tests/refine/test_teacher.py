"""The teacher regenerator: strict replies, FCDR again after a rewrite, counted failures, resuming, over HTTP."""

import asyncio
import json
import sqlite3

import fake_server
import pytest

from funreason.llm import EndpointDown
from funreason.llm.endpoint import EndpointGenerator
from funreason.reasoning_template import template_reasoning
from funreason.records import RAW_ANSWER, Sample, ToolCall, read_samples, write_jsonl
from funreason.refine import STAGES, Judgement, make_judge, refine
from funreason.refine.pipeline import FILES, STORE_FILE
from funreason.refine.stages import verdict_key
from funreason.refine.teacher import TeacherRegenerator, parse_rewrite

FakeServer, Reply = fake_server.FakeServer, fake_server.Reply

FAST = {"backoff": 0.01, "max_backoff": 0.05, "timeout": 2.0, "max_retries": 1}
WEATHER = {"name": "get_weather", "description": "Weather for a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
GOOD = ("<think>The parameter is city, not town.</think>\n<reasoning>\nThe user wants the weather in {city}. "
        "`get_weather` fits; `city` = \"{city}\", stated in the request.\n[get_weather(city='{city}')]\n</reasoning>\n"
        "<answer>\n[get_weather(city='{city}')]\n</answer>")


def wrong_parameter(city):
    """A sample whose call names a parameter the tool lacks (`town`): rules fail it at stage 4, with no fix."""
    calls = [ToolCall(name="get_weather", arguments={"town": city})]
    query = f"What is the weather in {city}?"
    return Sample(id=city, messages=[{"role": "user", "content": query}], tools=[WEATHER], answer=calls,
                  reasoning=template_reasoning(query, [WEATHER], calls), meta={"reasoning_by": "template"})


def is_teacher(request):
    return "<previous_answer>" in request.prompt


def city_of(request):
    return request.prompt.split("What is the weather in ")[1].split("?")[0]


def outcome_reasons(out):
    with sqlite3.connect(out / STORE_FILE) as conn:
        return [row[0] for row in conn.execute("SELECT reason FROM outcomes ORDER BY seq")]


def teacher(server, **options):
    return TeacherRegenerator(EndpointGenerator(server.url, "teacher", **FAST), **options)


# --- replies ---------------------------------------------------------------------------------------


def test_replies_are_parsed_strictly_and_never_evaluated():
    reasoning, calls = parse_rewrite(GOOD.format(city="Paris"))
    assert calls == [ToolCall(name="get_weather", arguments={"city": "Paris"})] and reasoning.startswith("The user")
    json_answer = '<reasoning>r</reasoning><answer>[{"name": "f", "arguments": {"a": 1}}]</answer>'
    assert parse_rewrite(json_answer) == ("r", [ToolCall(name="f", arguments={"a": 1})])
    for text, why in [
        ("[get_weather(city='Paris')]", "one <reasoning>"),
        ("<think><reasoning>r</reasoning><answer>[f()]</answer></think>", "one <reasoning>"),
        ("<reasoning>r</reasoning><reasoning>s</reasoning><answer>[f()]</answer>", "found 2"),
        ("<reasoning>r</reasoning><answer>[f()]</answer><answer>[g()]</answer>", "found 2"),
        ("<reasoning> </reasoning><answer>[f()]</answer>", "is empty"),
        ("<reasoning>a <reasoning> b</reasoning><answer>[f()]</answer>", "tags inside"),
        ("<reasoning>r</reasoning><answer>[]</answer>", "holds no call"),
        ("<reasoning>r</reasoning><answer>I would call f.</answer>", "no call list"),
        ("<reasoning>r</reasoning><answer>[__import__('os').system('rm -rf /')]</answer>", "no call list"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_rewrite(text)


def test_the_prompt_shows_the_finding_and_what_failed():
    item = wrong_parameter("Paris").model_copy(update={"meta": {RAW_ANSWER: "get_weather(town='Paris')"}})
    regenerator = TeacherRegenerator(EndpointGenerator("http://127.0.0.1:9/v1", "t"))
    finding = Judgement("fail", "unexpected parameter: town costs $5")
    text = regenerator.prompt("function_params", item, finding)[0]["content"]
    assert "function & parameter identification" in text and "town costs $5" in text
    assert "What is the weather in Paris?" in text and '"get_weather"' in text and item.reasoning in text
    assert "[get_weather(town='Paris')]" in text and "<reasoning>" in text and "<answer>" in text
    assert "<previous_answer>\nget_weather(town='Paris')\n" in regenerator.prompt("format", item, finding)[0]["content"]
    assert regenerator.name == "llm:t" and regenerator.version.startswith("1:")


# --- through FCDR ----------------------------------------------------------------------------------


def test_a_stage_4_failure_is_rewritten_by_the_teacher_checked_again_and_kept(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out"
    write_jsonl(source, [wrong_parameter("Paris")])

    def script(request):
        if is_teacher(request):
            return Reply(text=GOOD.format(city=city_of(request)))
        return Reply(text="It leads to this call. <judge>True</judge>")  # the LLM judge

    with FakeServer(script) as server:
        hybrid = make_judge("hybrid", generator=EndpointGenerator(server.url, "judge", **FAST))
        summary = refine(source, out, hybrid, regenerator=teacher(server), progress=False)
    [kept] = read_samples(out / "refined.jsonl")
    assert kept.calls == [ToolCall(name="get_weather", arguments={"city": "Paris"})]
    assert kept.reasoning.startswith("The user wants") and kept.meta["reasoning_by"] == "llm:teacher"
    assert [h["field"] for h in kept.history] == ["answer", "reasoning"]
    # The template reasoning was the rules' to judge; the teacher's went to the LLM judge, once, at stage 3.
    judged = [r for r in server.requests if not is_teacher(r)]
    assert len(judged) == 1 and "The user wants the weather in Paris" in judged[0].prompt
    steps = [(v.stage, v.decision) for v in kept.verdicts]
    assert steps == [(s, "pass") for s in STAGES[:3]] + [("function_params", "fail")] + [(s, "pass") for s in STAGES]
    assert (summary.refined, summary.rewritten, summary.kept_after_regeneration, summary.given_up) == (1, 1, 1, 0)
    assert "## Regeneration (stages 4-5)" in (out / "report.md").read_text()
    with sqlite3.connect(out / STORE_FILE) as conn:
        [(attempt, prompt_hash, reply, new_key)] = conn.execute("SELECT attempt, prompt_hash, reply, new_key FROM attempts")
        assert (attempt, len(prompt_hash), reply) == (0, 64, GOOD.format(city="Paris"))
        assert new_key == verdict_key(kept.model_copy(update={"verdicts": [], "history": []}))
        assert conn.execute("SELECT COUNT(*) FROM verdicts WHERE key = ?", (new_key,)).fetchone()[0] == 5


def test_garbage_and_failed_replies_are_counted_attempts_then_the_hard_pool(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out"
    write_jsonl(source, [wrong_parameter("Paris"), wrong_parameter("Rome"), wrong_parameter("Oslo")])

    def script(request):
        city = city_of(request)
        if city == "Rome":
            return Reply(status=400, error="context too long")
        if city == "Oslo" and request.body["temperature"] > 0:  # the second attempt is fine
            return Reply(text=GOOD.format(city=city))
        return Reply(text="Sure! Here is the fixed call: get_weather(city=...)")

    with FakeServer(script) as server:
        summary = refine(source, out, make_judge("rules"), regenerator=teacher(server), max_regenerations=2,
                         progress=False)
    assert [s.id for s in read_samples(out / "hard.jsonl")] == ["Paris", "Rome"]
    assert [s.id for s in read_samples(out / "refined.jsonl")] == ["Oslo"]
    assert [r.body["temperature"] for r in server.requests if city_of(r) == "Paris"] == [0.0, 0.7]
    assert (summary.unusable, summary.rewritten, summary.given_up, summary.kept_after_regeneration) == (5, 1, 2, 1)
    paris = next(read_samples(out / "hard.jsonl"))
    assert paris.calls[0].arguments == {"town": "Paris"} and paris.history == []
    with sqlite3.connect(out / STORE_FILE) as conn:
        notes = dict(conn.execute("SELECT key || ':' || attempt, note FROM attempts WHERE answer IS NULL").fetchall())
    assert len(notes) == 5 and sum("no reply: HTTP 400" in note for note in notes.values()) == 2
    assert sum("unusable reply: expected one <reasoning>" in note for note in notes.values()) == 3
    report = (out / "report.md").read_text()
    assert "| function & parameter identification | 0 | 1 | 5 |" in report
    assert "3 samples had an attempt: 1 kept after regeneration, 2 given up" in report


def test_without_a_teacher_failures_go_to_the_hard_pool(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [wrong_parameter("Paris")])
    summary = refine(source, tmp_path / "out", make_judge("rules"), progress=False)
    [hard] = read_samples(tmp_path / "out" / "hard.jsonl")
    assert hard.verdicts[-1].stage == "function_params" and summary.given_up == 0 and summary.hard == 1
    [reason] = outcome_reasons(tmp_path / "out")
    assert reason.startswith("missing required:") and reason.endswith("(no correction, no regenerator)")


def test_a_run_stopped_by_the_teacher_resumes_without_asking_finished_attempts_again(tmp_path):
    source, out = tmp_path / "in.jsonl", tmp_path / "out"
    write_jsonl(source, [wrong_parameter(city) for city in ("Paris", "Rome", "Oslo")])
    down = {"Oslo"}

    def script(request):
        if city_of(request) in down:
            return Reply(status=404, error="model not found")  # the server went away mid-run
        return Reply(text=GOOD.format(city=city_of(request)))

    with FakeServer(script) as server:
        with pytest.raises(EndpointDown):
            refine(source, out, make_judge("rules"), regenerator=teacher(server), batch_size=1, concurrency=1,
                   progress=False)
        assert not (out / "refined.jsonl").exists()
        first = [city_of(r) for r in server.requests]
        down.clear()
        resumed = refine(source, out, make_judge("rules"), regenerator=teacher(server), batch_size=1,
                         concurrency=1, progress=False)
        second = [city_of(r) for r in server.requests[len(first):]]
    assert first == ["Paris", "Rome", "Oslo"] and second == ["Oslo"] and resumed.regenerator_asked == 1
    assert resumed.refined == 3 and resumed.kept_after_regeneration == 3
    with FakeServer(lambda request: Reply(text=GOOD.format(city=city_of(request)))) as server:
        refine(source, tmp_path / "fresh", make_judge("rules"), regenerator=teacher(server), progress=False)
    for name in FILES.values():
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name


# --- undecided ---------------------------------------------------------------------------------------


def test_undecided_is_never_a_silent_pass(tmp_path):
    """Under the rules judge alone an undecided verdict follows the policy, and the report says so when
    it is `pass`; the hybrid judge asks the LLM instead."""
    item = wrong_parameter("Paris").model_copy(update={
        "answer": [ToolCall(name="get_weather", arguments={"city": "Paris"})], "reasoning": "`get_weather` fits."})
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [item])
    passed = refine(source, tmp_path / "pass", make_judge("rules"), progress=False)
    [kept] = read_samples(tmp_path / "pass" / "refined.jsonl")
    assert kept.verdicts[2].decision == "undecided" and kept.verdicts[2].reason.endswith("[undecided, counted as pass]")
    assert passed.undecided_kept == 1
    assert "1 refined samples passed a stage on an undecided verdict" in (tmp_path / "pass" / "report.md").read_text()
    held = refine(source, tmp_path / "hard", make_judge("rules"), undecided="hard", progress=False)
    assert (held.refined, held.hard, held.undecided_kept) == (0, 1, 0)
    with FakeServer(lambda request: Reply(text="<judge>False</judge>")) as server:
        asked = refine(source, tmp_path / "hybrid", make_judge("hybrid", endpoint=server.url, model="m"),
                       progress=False)
    assert (asked.dropped, asked.undecided_kept, len(server.requests)) == (1, 0, 1)
    assert json.loads((tmp_path / "hybrid" / "run.json").read_text())["summary"]["undecided_kept"] == 0


def test_a_regenerator_that_breaks_makes_unusable_attempts_not_a_crash(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, [wrong_parameter("Paris")])

    class Broken:
        name, version = "broken", "1"

        async def regenerate(self, stage, samples, judgements, attempts):
            await asyncio.sleep(0)
            raise KeyError("boom")

    summary = refine(source, tmp_path / "out", make_judge("rules"), regenerator=Broken(), progress=False)
    assert (summary.hard, summary.unusable, summary.given_up) == (1, 2, 1)
    [reason] = outcome_reasons(tmp_path / "out")
    assert reason.endswith("(after 2 regeneration(s); the last was unusable: regenerator failed: KeyError: 'boom')")


# --- the command line --------------------------------------------------------------------------------


def test_funreason_refine_takes_a_teacher_and_reports_what_it_did(tmp_path):
    from typer.testing import CliRunner

    from funreason.cli import app

    source, out = tmp_path / "in.jsonl", tmp_path / "out"
    write_jsonl(source, [wrong_parameter("Paris"), wrong_parameter("Rome")])

    def script(request):
        return Reply(text=GOOD.format(city="Paris") if city_of(request) == "Paris" else "no idea")

    with FakeServer(script) as server:
        result = CliRunner().invoke(app, ["refine", str(source), "--out", str(out), "--judge", "rules", "--endpoint",
                                          server.url, "--teacher-model", "t", "--max-regenerations", "1"])
    assert result.exit_code == 0, result.output
    assert [s.meta["reasoning_by"] for s in read_samples(out / "refined.jsonl")] == ["llm:t"]
    table = " ".join(result.output.split())
    for row in ("answers regenerated (by the teacher) │ 1 (1) │", "unusable teacher replies │ 1 │",
                "kept after regeneration │ 1 │", "given up after regeneration │ 1 │"):
        assert row in table, result.output
    for args, message in [(["--teacher-model", "t"], "--teacher-model needs an endpoint"),
                          (["--teacher-endpoint", "http://x/v1"], "--teacher-endpoint needs --teacher-model")]:
        result = CliRunner().invoke(app, ["refine", str(source), "--out", str(tmp_path / "x"), *args])
        assert result.exit_code == 2 and message in result.output, result.output


@pytest.mark.parametrize(
    "build",
    [
        lambda n: "<reasoning>" * (n // 11) + "<answer>",
        lambda n: "<reasoning>r</reasoning><answer>[" + "f(a=1), " * (n // 8) + "]</answer>",
        lambda n: "<think>" * (n // 7),
    ],
    ids=["unclosed tags", "a long answer", "think tags"],
)
def test_rewrites_are_read_in_time_linear_in_the_reply(time_per_kb, build):
    time_per_kb(parse_rewrite, build, (ValueError,))
