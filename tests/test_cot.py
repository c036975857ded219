import json
import re

import fake_server
import pytest

from funreason.calls import render_calls
from funreason.cot import add_reasoning, teacher_reasoning
from funreason.llm import EndpointDown, Generation
from funreason.llm.endpoint import EndpointGenerator
from funreason.reasoning_template import template_reasoning
from funreason.records import NothingValid, Rejects, Sample, ToolCall, read_samples, write_jsonl
from funreason.refine.rules import reasoning as rules_reasoning
from funreason.synth import generate

FORECAST = {
    "name": "get_forecast",
    "description": "Get the weather forecast for a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "default": 3},
            "units": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "hourly": {"type": "boolean"},
        },
        "required": ["city"],
    },
}
TIME = {"name": "get_time", "description": "", "parameters": {"type": "object", "properties": {}}}


# --- the rule template (funreason.reasoning_template), which cot's template teacher writes --------


def test_reasoning_names_every_call_and_value():
    for s in generate(300, seed=5):
        if not s.is_call:
            continue
        for call in s.calls:
            assert f"`{call.name}`" in s.reasoning
            for value in call.arguments.values():
                assert json.dumps(value, ensure_ascii=False) in s.reasoning
        assert render_calls(s.calls) not in s.reasoning  # the answer follows; it is not written twice
        assert rules_reasoning(s).decision == "pass", rules_reasoning(s).reason


def test_walks_from_query_to_call_and_says_where_values_come_from():
    answer = [ToolCall(name="get_forecast", arguments={"city": "Paris", "days": 3, "units": "celsius", "hourly": True})]
    text = template_reasoning("Forecast for paris please, hour by hour.", [FORECAST, TIME], answer)
    lines = text.splitlines()
    assert lines[0] == "This needs one function call."
    assert "Forecast for paris" not in text  # the query is in the prompt; the reasoning does not repeat it
    assert "`get_forecast` fits: Get the weather forecast for a city." in text
    assert "The other tools (`get_time`) do not match what is asked." in text
    assert '- `city` = "Paris": stated in the request.' in text
    assert "- `days` = 3: the tool's default." in text
    assert '- `units` = "celsius": one of the allowed values (celsius, fahrenheit)' in text
    assert "- `hourly` = true: a yes/no option" in text
    assert lines[-1] == "- `hourly` = true: a yes/no option the request asks to turn on." and len(lines) == 7
    assert template_reasoning("Forecast for paris please, hour by hour.", [FORECAST, TIME], answer) == text


def test_numbers_match_whole_numbers_only():
    answer = [ToolCall(name="get_forecast", arguments={"city": "Oslo", "days": 5})]
    assert "`days` = 5: stated" in template_reasoning("Oslo, 5 days.", [FORECAST], answer)
    assert "`days` = 5: inferred" in template_reasoning("Oslo, 15 days or 5.5 days.", [FORECAST], answer)


def test_several_calls():
    answer = [ToolCall(name="get_forecast", arguments={"city": c}) for c in ("Rome", "Oslo")]
    text = template_reasoning("Rome and Oslo?", [FORECAST], answer)
    assert "This needs 2 calls" in text and "`get_forecast` is called once for each" in text
    assert "Call 1, `get_forecast`:" in text and "Call 2, `get_forecast`:" in text
    mixed = template_reasoning("Rome, and the time.", [FORECAST, TIME], [answer[0], ToolCall(name="get_time")])
    assert "separate parts" in mixed and "`get_time` fits this request." in mixed
    assert "it takes no arguments here" in mixed


def test_any_call_is_explained():
    text = template_reasoning("Do it.", [], [ToolCall(name="mystery", arguments={"x": [1, 2]})])
    assert "`mystery`" in text and "- `x` = [1, 2]: inferred from the request." in text
    # Names python syntax cannot print (xLAM has some) and NaN values are explained all the same.
    dashed = template_reasoning("Go.", [], [ToolCall(name="get-weather", arguments={"city": "Oslo"})])
    assert "`get-weather` fits this request." in dashed and '- `city` = "Oslo"' in dashed
    nan = template_reasoning("Go.", [], [ToolCall(name="f", arguments={"x": float("nan")})])
    assert "- `x` = NaN" in nan
    assert "`f` takes no arguments here." in template_reasoning("Go.", [], [ToolCall(name="f")])


def test_statement_answer_says_no_tool_fits():
    text = template_reasoning("Tell me a joke.", [FORECAST, TIME], "I can't help with that.")
    assert "`get_forecast` (get the weather forecast for a city)" in text
    assert "`get_time` (no description)" in text
    assert "None of them does what is asked" in text
    assert "needs a tool" not in text
    needed = template_reasoning("Book a taxi.", [FORECAST], "No.", need="book a taxi")
    assert "Answering it needs a tool that can book a taxi." in needed
    assert "No tools are offered" in template_reasoning("Hi", [], "Hello!")


# --- add_reasoning: the template and LLM teachers ----------------------------------------------------

FakeServer, Reply = fake_server.FakeServer, fake_server.Reply


def _dataset(tmp_path, n=12, keep_every=4):
    """Synth samples; every `keep_every`-th keeps its reasoning, the rest have none."""
    samples = [s if i % keep_every == 0 else s.model_copy(update={"reasoning": ""})
               for i, s in enumerate(generate(n, seed=11))]
    path = tmp_path / "in.jsonl"
    write_jsonl(path, samples)
    return path, samples


def test_template_teacher_fills_missing_reasoning_and_keeps_the_rest(tmp_path):
    path, samples = _dataset(tmp_path)
    summary = add_reasoning(path, tmp_path / "out.jsonl")
    out = list(read_samples(tmp_path / "out.jsonl"))
    assert (summary.read, summary.written, summary.kept, summary.generated, summary.errors) == (12, 12, 3, 9, 0)
    assert [s.id for s in out] == [s.id for s in samples]
    for before, after in zip(samples, out, strict=True):
        assert after.reasoning.strip()
        assert after.reasoning == before.reasoning or after.meta["reasoning_by"] == "template"
    assert not summary.errors_path.exists()


def test_overwrite_keeps_the_old_reasoning_in_history(tmp_path):
    sample = Sample(id="a", messages=[{"role": "user", "content": "Forecast for Oslo"}], tools=[FORECAST],
                    reasoning="old thoughts", answer=[ToolCall(name="get_forecast", arguments={"city": "Oslo"})])
    write_jsonl(tmp_path / "in.jsonl", [sample])
    add_reasoning(tmp_path / "in.jsonl", tmp_path / "out.jsonl", overwrite=True)
    (out,) = read_samples(tmp_path / "out.jsonl")
    assert out.reasoning.startswith("This needs one function call.\n`get_forecast` fits")
    assert out.history == [{"field": "reasoning", "value": "old thoughts", "reason": "overwritten by template"}]


def test_bad_arguments_and_records(tmp_path):
    path, _ = _dataset(tmp_path, n=2)
    with pytest.raises(ValueError, match="is the input"):
        add_reasoning(path, path)
    with pytest.raises(ValueError, match="teacher must be"):
        add_reasoning(path, tmp_path / "out.jsonl", "llm")
    with path.open("a") as handle:
        handle.write("{not json\n")
    rejects = Rejects()
    assert add_reasoning(path, tmp_path / "out.jsonl", rejects=rejects).rejected == 1


def test_a_run_that_writes_nothing_fails_and_leaves_no_output(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"id": "a"}\n{not json\n')
    with pytest.raises(NothingValid, match=r"in\.jsonl: all 2 record\(s\) were rejected"):
        add_reasoning(source, tmp_path / "out.jsonl", rejects=Rejects())
    assert not (tmp_path / "out.jsonl").exists()
    calls = [s.model_copy(update={"reasoning": ""}) for s in generate(20, seed=11) if s.is_call][:3]
    write_jsonl(source, calls)
    with FakeServer(lambda request: Reply(text="I would rather not say.")) as server:
        with pytest.raises(ValueError, match=r"no sample got reasoning: all 3 failed \(see .*out\.errors\.jsonl"):
            add_reasoning(source, tmp_path / "out.jsonl", _teacher(server), retries=0)
    assert not (tmp_path / "out.jsonl").exists()
    assert len(list(read_samples(tmp_path / "out.errors.jsonl"))) == 3


def _answer_block(prompt):
    return re.search(r"<answer>\n(.*?)\n</answer>", prompt, re.S).group(1)


def _teacher(server, **options):
    return EndpointGenerator(server.url, "teacher", backoff=0.01, max_backoff=0.05, timeout=2.0, **options)


def test_llm_teacher_writes_reasoning_that_ends_at_the_answer(tmp_path):
    path, samples = _dataset(tmp_path)

    def script(request):
        answer = _answer_block(request.prompt)
        return Reply(text=f"The request maps onto the tools.\n{answer}", reasoning="(the model's own musing)")

    with FakeServer(script) as server:
        summary = add_reasoning(path, tmp_path / "out.jsonl", _teacher(server), batch_size=4)
    out = list(read_samples(tmp_path / "out.jsonl"))
    assert (summary.written, summary.kept, summary.generated, summary.errors) == (12, 3, 9, 0)
    assert len(server.requests) == 9 and server.requests[0].body["temperature"] == 0.0
    for before, after in zip(samples, out, strict=True):
        if before.reasoning:
            assert after == before
        else:
            assert after.reasoning.startswith("The request maps onto the tools.\n")
            assert "musing" not in after.reasoning and after.meta["reasoning_by"] == "llm:teacher"
    prompt = next(r.prompt for r in server.requests if samples[1].query in r.prompt)
    assert samples[1].tools[0]["name"] in prompt


def test_llm_teacher_retries_then_records_errors(tmp_path):
    sample = Sample(id="a", messages=[{"role": "user", "content": "Forecast for Oslo in celsius"}],
                    tools=[FORECAST, TIME],
                    answer=[ToolCall(name="get_forecast", arguments={"city": "Oslo", "units": "celsius"})])
    cases = {
        "good-late": sample.model_copy(update={"id": "good-late"}),
        "no-name": sample.model_copy(update={"id": "no-name"}),
        "elsewhere": sample.model_copy(update={"id": "elsewhere"}),
        "cut": sample.model_copy(update={"id": "cut"}),
        "too-long": sample.model_copy(update={"id": "too-long"}),
    }
    def script(request):
        which = request.body["messages"][0]["content"]
        tries = sum(r.body["messages"][0]["content"] == which for r in server.requests)
        answer = _answer_block(request.prompt)
        if "[too-long]" in which:
            return Reply(status=400, error="context length exceeded")
        if "[good-late]" in which and tries == 3:
            return Reply(text=f"Oslo, celsius: so\n{answer}")
        if "[no-name]" in which or "[good-late]" in which:
            return Reply(text="Oslo in celsius, obviously.")
        if "[elsewhere]" in which:
            return Reply(text="get_forecast fits: Oslo, celsius.\nSo: [get_time()]")
        return Reply(text=f"Oslo, celsius\n{answer}", finish_reason="length")

    tagged = [s.model_copy(update={"messages": [{"role": "user", "content": f"[{s.id}] {s.query}"}]})
              for s in cases.values()]
    write_jsonl(tmp_path / "in.jsonl", tagged)
    with FakeServer(script) as server:
        summary = add_reasoning(tmp_path / "in.jsonl", tmp_path / "out.jsonl", _teacher(server), retries=2)
    assert [s.id for s in read_samples(tmp_path / "out.jsonl")] == ["good-late"]
    errors = {s.id: s.meta["cot_error"] for s in read_samples(summary.errors_path)}
    assert summary.errors == 4 and set(errors) == {"no-name", "elsewhere", "cut", "too-long"}
    assert "does not mention `get_forecast`" in errors["no-name"] and "after 3 tries" in errors["no-name"]
    assert "contradicts the answer" in errors["elsewhere"]
    assert "cut off at max_tokens" in errors["cut"]
    assert errors["too-long"] == "HTTP 400: context length exceeded"
    temperatures = [r.body["temperature"] for r in server.requests if "[no-name]" in r.prompt]
    assert temperatures == [0.0, 0.7, 0.7]
    # An errors file from an earlier run does not outlive a clean one.
    write_jsonl(tmp_path / "in.jsonl", [cases["good-late"].model_copy(update={"reasoning": "kept"})])
    add_reasoning(tmp_path / "in.jsonl", tmp_path / "out.jsonl", _teacher(server))
    assert not summary.errors_path.exists()


def test_endpoint_down_keeps_what_was_written_under_a_partial_name(tmp_path):
    path, _ = _dataset(tmp_path, n=10, keep_every=100)

    def script(request):
        return Reply(text=f"Fine.\n{_answer_block(request.prompt)}") if request.index < 4 else Reply(drop=True)

    with FakeServer(script) as server:
        with pytest.raises(EndpointDown, match=r"stopped with 4 samples written \(kept in .*out\.partial\.jsonl\)"):
            add_reasoning(path, tmp_path / "out.jsonl", _teacher(server, concurrency=2, max_retries=1), batch_size=4)
    assert not (tmp_path / "out.jsonl").exists()  # an unfinished output never looks finished
    assert len(list(read_samples(tmp_path / "out.partial.jsonl"))) == 4
    add_reasoning(path, tmp_path / "out.jsonl")  # a finished run supersedes the partial one
    assert not (tmp_path / "out.partial.jsonl").exists()
    assert len(list(read_samples(tmp_path / "out.jsonl"))) == 10


def test_teacher_reasoning_reads_think_tags():
    sample = Sample(id="a", messages=[{"role": "user", "content": "Time?"}], tools=[TIME],
                    answer=[ToolCall(name="get_time")])
    assert teacher_reasoning(Generation(text="<think>I use get_time.</think>\n\n[get_time()]"), sample) == "I use get_time."
    assert teacher_reasoning(Generation(text="<think>musing</think>\nI use get_time."), sample) == "I use get_time."
    statement = sample.model_copy(update={"answer": "No."})
    assert teacher_reasoning(Generation(text="<think>Nothing gives the time.</think> No."), statement) == "Nothing gives the time."
    for text, why in [("", "no reasoning"), ("<think></think>", "no reasoning"),
                      ("I use get_time_zone.", "does not mention `get_time`")]:
        with pytest.raises(ValueError, match=why):
            teacher_reasoning(Generation(text=text), sample)


@pytest.mark.parametrize("answer", ["I cannot help with that.", None])
def test_reasoning_about_nothing_is_refused_for_statements_and_calls(answer):
    sample = Sample(id="a", messages=[{"role": "user", "content": "Wie spät ist es in Tokio?"}], tools=[TIME],
                    answer=answer if answer else [ToolCall(name="get_time")])
    for text in ("I'm ready to help. What's the user asking for?", "<think>Sure, let me see what is needed.</think>"):
        with pytest.raises(ValueError, match="not about the query"):
            teacher_reasoning(Generation(text=text), sample)
    reasoning = "Tokio is the city asked about; get_time gives its time." if answer is None else "No tool tells the time in Tokio."
    assert teacher_reasoning(Generation(text=reasoning), sample) == reasoning
    chinese = sample.model_copy(update={"messages": [{"role": "user", "content": "东京现在几点？"}], "answer": "不能。"})
    assert teacher_reasoning(Generation(text="用户问东京的时间，没有合适的工具。"), chinese)
