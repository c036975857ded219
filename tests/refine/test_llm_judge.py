"""The llm, hybrid and ensemble judges: strict verdicts, retries, errors, votes, over real loopback HTTP."""

import asyncio
import re
import socket

import fake_server
import pytest

from funreason.llm import EndpointDown
from funreason.llm.endpoint import EndpointGenerator
from funreason.records import Sample, ToolCall
from funreason.refine import STAGES, Judgement, make_judge
from funreason.refine import llm_judge as module
from funreason.refine.llm_judge import EnsembleJudge, HybridJudge, LLMJudge, parse_verdict

FakeServer, Reply = fake_server.FakeServer, fake_server.Reply

FAST = {"backoff": 0.01, "max_backoff": 0.05, "timeout": 2.0}
WEATHER = {"name": "get_weather", "description": "Weather for a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def sample(query, city="Paris", **fields):
    return Sample(id=query, messages=[{"role": "user", "content": query}], tools=[WEATHER],
                  answer=[ToolCall(name="get_weather", arguments={"city": city})], **fields)


def asked(request):
    """The conversation a judge prompt shows (the sample's query)."""
    return re.search(r"<conversation>\n(.*?)\n</conversation>", request.prompt, re.S).group(1)


def judge_with(server, **options):
    return LLMJudge(EndpointGenerator(server.url, "judge-model", **FAST), **options)


def run(judge, stage, samples):
    return asyncio.run(judge.judge(stage, samples))


# --- parsing ----------------------------------------------------------------------------------------


def test_verdicts_are_parsed_strictly():
    assert parse_verdict("Looks right.\n<judge>True</judge>", "reasoning") == Judgement("pass", "llm: Looks right.")
    assert parse_verdict("<think>hmm <judge>False</judge></think>Fine. <judge> true </judge>", "response").decision == "pass"
    failed = parse_verdict("Wrong city. <judge>False</judge>\n<NewFC>[get_weather(city='Rome')]</NewFC>", "function_params")
    assert failed == Judgement("fail", "llm: Wrong city.", [ToolCall(name="get_weather", arguments={"city": "Rome"})])
    json_fix = parse_verdict('<judge>False</judge><NewFC>[{"name": "f", "arguments": {}}]</NewFC>', "format")
    assert json_fix.correction == [ToolCall(name="f")]
    assert parse_verdict("<judge>False</judge>", "format") == Judgement("fail", "llm: no reason given")
    # A correction is only read where the stage corrects calls.
    assert parse_verdict("<judge>False</judge><NewFC>oops</NewFC>", "reasoning").correction is None
    for text, why in [
        ("True", "found 0"),
        ("<judge>True</judge> <judge>False</judge>", "found 2"),
        ("<judge>Maybe</judge>", "not True or False"),
        ("<think><judge>True</judge></think>", "found 0"),
        ("<judge>False</judge><NewFC>get_weather(city=</NewFC>", "no call list"),
        ("<judge>False</judge><NewFC>[]</NewFC>", "holds no call"),
        ("<judge>False</judge><NewFC>[f()]</NewFC><NewFC>[g()]</NewFC>", "at most one"),
    ]:
        with pytest.raises(ValueError, match=why):
            parse_verdict(text, "function_params")


def test_every_stage_prompt_shows_what_the_stage_judges():
    multi = Sample(id="m", tools=[WEATHER], reasoning="Paris is asked.",
                   messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather?"},
                             {"role": "assistant", "content": "Which city?"}, {"role": "user", "content": "Paris"}],
                   answer=[ToolCall(name="get_weather", arguments={"city": "Paris"})],
                   meta={"raw_answer": '[{"name": "get_weather", "arguments": {"city": "Paris"}}]'})
    judge = LLMJudge(EndpointGenerator("http://127.0.0.1:9/v1", "m"))
    texts = {stage: judge.prompt(stage, multi)[0]["content"] for stage in STAGES}
    for stage, text in texts.items():
        assert "<judge>True</judge>" in text and "<judge>False</judge>" in text and "$" not in text
        assert ("<NewFC>" in text) == (stage in ("function_params", "format"))
    assert "[system] Be brief.\n[user] Weather?\n[assistant] Which city?\n[user] Paris" in texts["query_tool"]
    assert '"get_weather"' in texts["query_tool"] and "[get_weather(city='Paris')]" not in texts["query_tool"]
    assert "Paris is asked." in texts["reasoning"] and "[get_weather(city='Paris')]" in texts["reasoning"]
    assert "[get_weather(city='Paris')]" in texts["function_params"]
    assert '[{"name": "get_weather"' in texts["format"] and '[{"name": "get_weather"' in texts["response"]


def test_version_follows_the_prompt_files(monkeypatch):
    generator = EndpointGenerator("http://127.0.0.1:9/v1", "m")
    before = LLMJudge(generator)
    original = module.load_prompt
    monkeypatch.setattr(module, "load_prompt", lambda package, name: original(package, name) + " ")
    after = LLMJudge(generator)
    assert before.name == after.name == "llm:m" and before.version != after.version


# --- over HTTP ------------------------------------------------------------------------------------


def test_llm_judge_answers_each_sample():
    def script(request):
        if "rome" in request.prompt:
            return Reply(text="The city is wrong. <judge>False</judge> <NewFC>[get_weather(city='Rome')]</NewFC>")
        return Reply(text="<think>checking</think>All good. <judge>True</judge>")

    with FakeServer(script) as server:
        judgements = run(judge_with(server), "function_params", [sample("paris now"), sample("in rome")])
    assert judgements[0] == Judgement("pass", "llm: All good.")
    assert judgements[1].decision == "fail" and judgements[1].correction[0].arguments == {"city": "Rome"}
    assert [r.body["temperature"] for r in server.requests] == [0.0, 0.0]


def test_garbage_verdicts_are_retried_then_errors_never_guesses():
    def script(request):
        if "always garbage" in request.prompt:
            return Reply(text="I think it is probably fine")
        if "once garbage" in request.prompt and request.body["temperature"] == 0.0:
            return Reply(text="<judge>Yes</judge>")
        if "too long" in request.prompt:
            return Reply(status=400, error="maximum context length exceeded")
        return Reply(text="<judge>False</judge>")

    with FakeServer(script) as server:
        judge = judge_with(server, retries=2, retry_temperature=0.9)
        once, always, long = run(judge, "query_tool", [sample("once garbage"), sample("always garbage"),
                                                       sample("too long")])
    assert once.decision == "fail"
    assert always.decision == "error" and "found 0" in always.reason and "after 3 tries" in always.reason
    assert long == Judgement("error", "llm: no verdict: HTTP 400: maximum context length exceeded")
    asked = [r.body["temperature"] for r in server.requests if "always garbage" in r.prompt]
    assert asked == [0.0, 0.9, 0.9]
    assert sum("too long" in r.prompt for r in server.requests) == 1


def test_faulty_server_still_gives_every_verdict():
    faults = [Reply(status=429, headers={"Retry-After": "0"}), Reply(drop=True), Reply(status=500),
              Reply(text="<judge>True</judge>", delay=5)]  # the last one outlasts the timeout

    def script(request):
        attempt = sum(r.prompt == request.prompt for r in server.requests) - 1
        if attempt < 2:  # each prompt meets two faults, in turn, before its answer
            return faults[(int(asked(request)[1:]) + attempt) % len(faults)]
        return Reply(text="<judge>True</judge>", delay=0.01)

    with FakeServer(script) as server:
        judge = LLMJudge(EndpointGenerator(server.url, "m", **{**FAST, "timeout": 0.3}))
        judgements = run(judge, "function_params", [sample(f"q{i}") for i in range(12)])
    assert [j.decision for j in judgements] == ["pass"] * 12
    # Two faults and the answer per prompt; on a loaded machine an answer may also outlast the 0.3 s.
    assert 36 <= len(server.requests) <= 40


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_endpoint_down_stops_the_judge():
    generator = EndpointGenerator(f"http://127.0.0.1:{_closed_port()}/v1", "m", max_retries=2, **FAST)
    with pytest.raises(EndpointDown, match="is the server running"):
        run(LLMJudge(generator), "response", [sample(f"q{i}") for i in range(5)])


def test_registered_and_built_from_options(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with FakeServer(lambda request: Reply(text="<judge>True</judge>")) as server:
        judge = make_judge("llm", endpoint=server.url, model="served", concurrency=4, timeout=5)
        assert judge.name == "llm:served" and judge.generator.concurrency == 4
        assert run(judge, "response", [sample("q")])[0].decision == "pass"
    with pytest.raises(ValueError, match="modle"):
        make_judge("llm", endpoint="http://x/v1", modle="m")
    with pytest.raises(ValueError, match="the llm judge needs an endpoint"):
        make_judge("llm")
    with pytest.raises(ValueError, match="not both"):
        LLMJudge(EndpointGenerator("http://x/v1", "m"), endpoint="http://y/v1")


# --- hybrid ---------------------------------------------------------------------------------------


class Scripted:
    """A judge that answers from a table: sample id -> decision (default pass)."""

    def __init__(self, name, table=None, correction=None, fail_with=None):
        self.name, self.version, self.table = name, "1", table or {}
        self.correction, self.fail_with, self.seen = correction, fail_with, []

    async def judge(self, stage, samples):
        self.seen.extend(s.id for s in samples)
        if self.fail_with:
            raise self.fail_with
        await asyncio.sleep(0)
        decisions = [self.table.get(s.id, "pass") for s in samples]
        return [Judgement(d, f"{self.name} says {d}", self.correction if d == "fail" else None) for d in decisions]


def test_hybrid_asks_the_llm_only_where_rules_are_undecided():
    rules = Scripted("rules", {"a": "fail", "b": "undecided", "c": "error", "d": "undecided"})
    with FakeServer(lambda request: Reply(text="<judge>False</judge>")) as server:
        hybrid = HybridJudge(rules, judge_with(server))
        judgements = run(hybrid, "query_tool", [sample(x) for x in "abcde"])
    assert [j.decision for j in judgements] == ["fail", "fail", "error", "fail", "pass"]
    assert judgements[0].reason == "rules says fail" and judgements[1].reason == "llm: no reason given"
    assert sorted(asked(r) for r in server.requests) == ["b", "d"]
    assert hybrid.name == "hybrid:judge-model" and hybrid.version == f"1+{hybrid.llm.version}+route2"


def test_hybrid_sends_stage_3_to_the_llm_unless_the_reasoning_is_our_template():
    reasoning = "`get_weather` fits.\n- `city` = \"Paris\": stated in the request."
    ours = sample("ours: weather in Paris?", reasoning=reasoning, meta={"reasoning_by": "template"})
    teacher = sample("teacher: weather in Paris?", reasoning=reasoning, meta={"reasoning_by": "llm:qwq"})
    unmarked = sample("unmarked: weather in Paris?", reasoning=reasoning)
    with FakeServer(lambda request: Reply(text="It leads elsewhere. <judge>False</judge>")) as server:
        hybrid = make_judge("hybrid", generator=EndpointGenerator(server.url, "judge-model", **FAST))
        judgements = run(hybrid, "reasoning", [ours, teacher, unmarked])
        assert [j.decision for j in judgements] == ["pass", "fail", "fail"]
        assert judgements[0].reason.startswith("names calls") and len(server.requests) == 2  # not ours
        # Elsewhere the rules settle a teacher's sample as any other (every value here is in the query).
        assert [j.decision for j in run(hybrid, "function_params", [teacher])] == ["pass"]
        assert len(server.requests) == 2


def test_hybrid_never_lets_undecided_through():
    unstated = sample("weather in Paris", reasoning="`get_weather` fits.", meta={"reasoning_by": "template"})
    assert asyncio.run(make_judge("rules").judge("reasoning", [unstated]))[0].decision == "undecided"
    with FakeServer(lambda request: Reply(text="<judge>True</judge>")) as server:
        hybrid = make_judge("hybrid", endpoint=server.url, model="m")
        [judgement] = run(hybrid, "reasoning", [unstated])
    assert judgement.decision == "pass" and len(server.requests) == 1


def test_hybrid_with_real_rules_and_registry():
    with FakeServer(lambda request: Reply(text="<judge>True</judge>")) as server:
        hybrid = make_judge("hybrid", endpoint=server.url, model="m", syntax="python")
        statement = Sample(id="s", messages=[{"role": "user", "content": "hi"}], answer="Hello!")
        judgements = run(hybrid, "response", [sample("Weather in Paris?"), statement])
    assert [j.decision for j in judgements] == ["pass", "fail"] and server.requests == []
    with pytest.raises(ValueError, match="not both"):
        HybridJudge(llm=Scripted("llm"), model="m")


# --- ensemble -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vote", "decisions", "expected"),
    [
        ("unanimous", ["pass", "pass", "pass"], "pass"),
        ("unanimous", ["pass", "fail", "error"], "fail"),
        ("unanimous", ["pass", "pass", "error"], "error"),
        ("unanimous", ["pass", "undecided", "pass"], "undecided"),
        ("majority", ["pass", "pass", "fail"], "pass"),
        ("majority", ["pass", "pass", "error"], "pass"),
        ("majority", ["pass", "fail", "error"], "error"),
        ("majority", ["fail", "fail", "error"], "fail"),
        ("majority", ["pass", "fail", "undecided"], "undecided"),
        ("mean>=0.6", ["pass", "pass", "fail"], "pass"),
        ("mean>=0.7", ["pass", "pass", "fail"], "fail"),
        ("mean >= 0.5", ["pass", "error", "fail"], "error"),
    ],
)
def test_ensemble_votes(vote, decisions, expected):
    judges = [Scripted(f"j{i}", {"x": d}) for i, d in enumerate(decisions)]
    assert run(EnsembleJudge(judges, vote), "reasoning", [sample("x")])[0].decision == expected


def test_ensemble_majority_tie_fails_and_keeps_a_correction():
    fix = [ToolCall(name="get_weather", arguments={"city": "Rome"})]
    judges = [Scripted("a"), Scripted("b", {"x": "fail"}), Scripted("c", {"x": "fail"}, correction=fix),
              Scripted("d")]
    ensemble = EnsembleJudge(judges, "majority")
    judgement = run(ensemble, "function_params", [sample("x")])[0]
    assert judgement.decision == "fail" and judgement.correction == fix
    assert judgement.reason.startswith("a: pass (a says pass); b: fail")
    assert ensemble.name == "ensemble(majority: a, b, c, d)"


def test_ensemble_over_http_and_from_specs():
    def script(request):
        return Reply(text="<judge>True</judge>" if request.body["model"] == "yes" else "<judge>False</judge>")

    with FakeServer(script) as server:
        specs = [{"kind": "llm", "endpoint": server.url, "model": m} for m in ("yes", "yes", "no")]
        majority = make_judge("ensemble", judges=specs, vote="majority")
        unanimous = make_judge("ensemble", judges=specs)
        assert run(majority, "reasoning", [sample("q")])[0].decision == "pass"
        assert run(unanimous, "reasoning", [sample("q")])[0].decision == "fail"
    assert majority.version != unanimous.version
    for bad in ("mean>=0", "mean>=1.5", "most", "mean>=x"):
        with pytest.raises(ValueError, match="ensemble vote"):
            EnsembleJudge([Scripted("a")], bad)
    with pytest.raises(ValueError, match="kind"):
        EnsembleJudge([{"model": "m"}])
    with pytest.raises(ValueError, match="weight"):
        make_judge("ensemble", judges=[{"kind": "rules"}], weight=2)


def test_ensemble_stops_when_one_judge_endpoint_is_down():
    slow = Scripted("slow")
    down = Scripted("down", fail_with=EndpointDown("gone"))
    with pytest.raises(EndpointDown, match="gone"):
        run(EnsembleJudge([slow, down]), "reasoning", [sample("q")])


TAG_FLOODS = {
    "many judge tags": lambda n: "<judge>" * (n // 7),
    "unclosed NewFC tags": lambda n: "<judge>False</judge>" + "<NewFC>" * (n // 7),
    "a long NewFC": lambda n: "<judge>False</judge><NewFC>[" + "f(a=1), " * (n // 8) + "]</NewFC>",
    "closing tags only": lambda n: "</judge>" * (n // 8),
}


@pytest.mark.parametrize("build", TAG_FLOODS.values(), ids=TAG_FLOODS.keys())
def test_verdicts_are_read_in_time_linear_in_the_reply(time_per_kb, build):
    time_per_kb(lambda text: parse_verdict(text, "format"), build, (ValueError,))
