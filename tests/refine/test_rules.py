"""The rules judge, stage by stage: what it passes, fails, corrects and leaves undecided."""

import asyncio
import importlib.util

import pytest

from funreason.calls import render_calls
from funreason.reasoning_template import template_reasoning
from funreason.records import Sample, ToolCall
from funreason.refine import STAGES, make_judge
from funreason.refine.rules import RAW_ANSWER, RulesJudge, last_call_list
from funreason.synth import generate

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "units": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            "days": {"type": "integer"},
            "budget": {"type": "number"},
            "alerts": {"type": "boolean", "default": False},
        },
        "required": ["city"],
    },
}
NEWS = {
    "name": "get_news",
    "description": "Headlines about a topic.",
    "parameters": {"type": "object", "properties": {"topic": {"type": "string"}}, "required": ["topic"]},
}


def call(name="get_weather", **arguments):
    return ToolCall(name=name, arguments=arguments)


def sample(query="What's the weather in Paris?", answer=None, tools=(WEATHER, NEWS), reasoning="", raw=None):
    meta = {RAW_ANSWER: raw} if raw is not None else {}
    return Sample(id="s", messages=[{"role": "user", "content": query}], tools=list(tools),
                  answer=[call(city="Paris")] if answer is None else answer, reasoning=reasoning, meta=meta)


def judge(stage, item, **options):
    return asyncio.run(RulesJudge(**options).judge(stage, [item]))[0]


def test_response_tells_calls_from_statements():
    assert judge("response", sample()).decision == "pass"
    assert judge("response", sample(answer="I cannot help with that.")).decision == "fail"


@pytest.mark.parametrize(("item", "decision", "words"), [
    (sample(), "pass", "solvable"),
    (sample(tools=[]), "fail", "no tools"),
    (sample(answer=[call("get_forecast", city="Paris")]), "fail", "tool not offered: get_forecast"),
    (sample(query=""), "undecided", "no query"),
    (sample(answer=[call(city="Tokyo")]), "undecided", "values not in query"),
    (sample(answer="No."), "undecided", "no calls"),
])
def test_query_and_tool(item, decision, words):
    verdict = judge("query_tool", item)
    assert (verdict.decision, verdict.correction) == (decision, None)
    assert verdict.reason.startswith(words)


@pytest.mark.parametrize(("reasoning", "answer", "decision", "words"), [
    ("Weather in Paris.\nSo the answer is: [get_weather(city='Paris')]", None, "pass", "concludes"),
    ("I could call [get_news(topic='x')] but no: [get_weather(city='Paris')] is right.", None, "pass", "concludes"),
    ("So: [get_weather(city='Rome')]", None, "fail", "leads elsewhere"),
    ("Two cities: [get_weather(city='Rome'), get_weather(city='Paris')]",
     [call(city="Paris"), call(city="Rome")], "pass", "concludes"),
    ("Use `get_weather` with city Paris.", None, "pass", "names calls"),
    ("Use `get_weather` for the city.", None, "undecided", "values not stated"),
    ("Use get_news: it knows Paris.", None, "fail", "leads elsewhere: the reasoning names get_news"),
    ("The weather tool fits.", None, "undecided", "unnamed function"),
    ("", None, "undecided", "no reasoning"),
    # A parameter given another value than the answer's, the answer's written nowhere.
    ("`get_weather` fits.\n- `city` = \"Rome\": stated in the request.", None, "fail",
     "leads elsewhere: the reasoning gives city = \"Rome\""),
    ("`get_weather` fits.\n- `city` = \"Paris\", not \"Rome\".", None, "pass", "names calls"),
    ("`get_weather` with city Paris.\n- `units` = \"kelvin\"", [call(city="Paris", units="celsius")], "fail",
     "leads elsewhere: the reasoning gives units = \"kelvin\", the answer 'celsius'"),  # even the default
    # A function put forward that is neither called nor offered.
    ("`get_weather_api` fits: it knows Paris.", None, "fail", "leads elsewhere: the reasoning names get_weather_api"),
    ("So I would write [get_forecast(city='Paris')] if I could", None, "fail", "leads elsewhere"),
])
def test_reasoning(reasoning, answer, decision, words):
    verdict = judge("reasoning", sample(answer=answer, reasoning=reasoning))
    assert verdict.decision == decision
    assert verdict.reason.startswith(words)


@pytest.mark.parametrize(("reasoning", "answer"), [
    # What a teacher LLM writes about values it does state: no other value is read into it.
    ("`get_weather` for Paris with a budget: `budget` = 20 euros.", [call(city="Paris", budget=20.0)]),
    ("`get_weather` for Paris. budget: 1,500 dollars, so 1500.", [call(city="Paris", budget=1500)]),
    ("Call get_weather(city='Paris') for Paris; units: the default, celsius.", [call(city="Paris", units="celsius")]),
    ("`get_weather` fits; city = \"paris\" (Paris).", None),
    ("I use print(x) to think: `get_weather` with Paris.", None),  # a stray call is no tool put forward
])
def test_reasoning_that_states_the_values_passes(reasoning, answer):
    verdict = judge("reasoning", sample(answer=answer, reasoning=reasoning))
    assert verdict.decision == "pass", verdict.reason


def test_a_shortened_dotted_name_is_the_same_function():
    dotted = {**WEATHER, "name": "weather.get_weather"}
    item = sample(answer=[call("weather.get_weather", city="Paris")], tools=[dotted],
                  reasoning="`get_weather` fits: the weather in Paris.")  # fmt: skip
    assert judge("reasoning", item).decision == "undecided"  # not named, but nothing else put forward



def test_last_call_list_skips_text_that_is_not_calls():
    assert last_call_list("see [1] and [f(a=1)] then [g(b=[2])] (done)") == [call("g", b=[2])]
    assert last_call_list("a list [x, y] and [f(a=] broken") is None


@pytest.mark.parametrize(("query", "calls", "decision", "words"), [
    ("Weather in Paris?", [call(city="Paris")], "pass", "fits"),
    ("Weather in Paris in fahrenheit for 3 days?", [call(city="Paris", units="fahrenheit", days=3)], "pass", "fits"),
    ("Weather in Paris?", [call(city="Paris", units="celsius")], "pass", "fits"),  # the default
    ("Paris, with 1,000 dollars and 3.50 euros?", [call(city="Paris", budget=1000)], "pass", "fits"),
    ("Paris, on a 5k budget", [call(city="Paris", budget=5000)], "pass", "fits"),
    ("Paris, budget 3.50", [call(city="Paris", budget=3.5)], "pass", "fits"),
    ("Weather in Paris?", [call(units="celsius")], "fail", "missing required"),
    ("Weather in Paris?", [call(city="Paris", country="FR")], "fail", "unexpected parameter"),
    ("Weather in Paris in kelvin?", [call(city="Paris", units="kelvin")], "fail", "not in enum"),
    ("Weather in Paris?", [call(city="Tokyo")], "fail", "value not in query"),
    ("Weather in Paris in fahrenheit?", [call(city="Paris", units="celsius")], "fail", "value not in query"),
    ("Weather in Paris for 3 days?", [call(city="Paris", days=4)], "fail", "value not in query"),
    ("Weather in Paris for ten days?", [call(city="Paris", days=10)], "undecided", "values need reading"),
    ("Weather in Paris for two weeks?", [call(city="Paris", days=14)], "undecided", "values need reading"),
    ("Weather in Paris with alerts?", [call(city="Paris", alerts=True)], "undecided", "values need reading"),
    ("Weather in Paris, France?", [call(city="Paris, Texas")], "undecided", "values need reading"),
    ("Weather in new   YORK?", [call(city="New York")], "pass", "fits"),
])
def test_function_and_parameters(query, calls, decision, words):
    verdict = judge("function_params", sample(query=query, answer=calls))
    assert (verdict.decision, verdict.correction) == (decision, None)
    assert verdict.reason.startswith(words)


def test_function_and_parameters_corrects_unambiguous_types():
    fixed = judge("function_params", sample(query="Paris for 5 days", answer=[call(city="Paris", days="5")]))
    assert fixed.decision == "fail" and "a mechanical fix corrects it" in fixed.reason
    assert fixed.correction == [call(city="Paris", days=5)]
    number = judge("function_params", sample(query="Paris, 2.5", answer=[call(city="Paris", budget="2.5", alerts="true")]))
    assert number.correction == [call(city="Paris", budget=2.5, alerts=True)]
    # "five" is no integer literal, and a fix that leaves another error standing is no correction.
    for calls in ([call(city="Paris", days="five")], [call(days="5")]):
        assert judge("function_params", sample(answer=calls)).correction is None


def test_function_and_parameters_undecided_when_another_tool_fits_as_well():
    forecast = {**WEATHER, "name": "get_forecast"}
    verdict = judge("function_params", sample(tools=[WEATHER, forecast]))
    assert verdict.decision == "undecided"
    assert verdict.reason.startswith("function ambiguous: the arguments of get_weather also fit get_forecast")


def test_function_and_parameters_fails_a_broken_tool_schema():
    broken = {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string", "minLength": "three"}}}}
    verdict = judge("function_params", sample(tools=[broken]))
    assert verdict.decision == "fail" and verdict.reason.startswith("invalid tool schema")


CANONICAL = "[get_weather(city='Paris')]"


@pytest.mark.parametrize(("raw", "decision", "words", "corrected"), [
    (None, "pass", "canonical", False),
    (CANONICAL, "pass", "canonical", False),
    (f"  {CANONICAL}\n", "pass", "canonical", False),
    ('[{"name": "get_weather", "arguments": {"city": "Paris"}}]', "fail", "not canonical: the text is json syntax, not python", True),
    ('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>', "fail",
     "not canonical: the text is hermes syntax, not python", True),
    ("[get_weather(city='Paris')", "fail", "not canonical: the text is python syntax, not written canonically", True),
    ('[get_weather(city="Paris")]', "fail", "not canonical", True),
    ("[get_weather(city='Rome')]", "fail", "text differs", False),
    ("get_weather(city=", "fail", "unparseable", False),
])
def test_format(raw, decision, words, corrected):
    verdict = judge("format", sample(raw=raw))
    assert verdict.decision == decision
    assert verdict.reason.startswith(words)
    assert verdict.correction == ([call(city="Paris")] if corrected else None)


FLIGHT = {
    "name": "book_flight",
    "description": "Book a flight.",
    "parameters": {"type": "object", "properties": {"from": {"type": "string"}, "class": {"type": "string"}},
                   "required": ["from"]},
}


@pytest.mark.parametrize(("answer", "tools"), [
    ([call("get-weather", city="Paris")], [{**WEATHER, "name": "get-weather"}]),
    ([call("book_flight", **{"from": "Paris", "class": "economy"})], [FLIGHT]),
])
def test_format_checks_calls_python_cannot_write_in_json(answer, tools):
    item = sample(tools=tools, answer=answer)
    passed = judge("format", item)
    assert (passed.decision, passed.reason) == (
        "pass", "canonical: the calls render and parse back in json syntax (python cannot write these names)")
    exact = judge("format", sample(tools=tools, answer=answer, raw=render_calls(answer, "json")))
    assert exact.decision == "pass" and exact.reason.startswith("canonical: the answer text is exact json syntax")
    hermes = judge("format", sample(tools=tools, answer=answer, raw=render_calls(answer, "hermes")))
    assert hermes.decision == "fail" and hermes.correction == answer
    assert hermes.reason.startswith("not canonical: the text is hermes syntax, not json (python cannot write")
    chosen = judge("format", item, syntax="hermes")  # a JSON syntax the user chose is kept
    assert chosen.reason == "canonical: the calls render and parse back in hermes syntax"
    assert RulesJudge(syntax="json").version != RulesJudge().version


@pytest.mark.parametrize("answer", [None, "It is sunny."])
def test_format_fails_reasoning_that_holds_a_think_tag(answer):
    """A model's own answer with a second think block inside its reasoning: no turn renders it."""
    nested = "The city is Paris.\n<think>\nAgain: Paris.\n</think>"
    verdict = judge("format", sample(answer=answer, reasoning=nested))
    assert verdict.decision == "fail" and "think tag in reasoning" in verdict.reason
    assert judge("format", sample(answer=answer, reasoning="The city is Paris.")).decision != "fail"


def test_format_fails_values_no_syntax_can_write():
    verdict = judge("format", sample(answer=[call(city="Paris", budget=float("nan"))]))
    assert verdict.decision == "fail" and verdict.reason.startswith("not writable: ")


def test_calls_python_cannot_write_pass_every_stage():
    query = "Book a flight from Paris, economy class."
    answer = [call("book_flight", **{"from": "Paris", "class": "economy"})]
    item = sample(query=query, tools=[FLIGHT], answer=answer, reasoning=template_reasoning(query, [FLIGHT], answer))
    for stage in STAGES:
        verdict = judge(stage, item)
        assert verdict.decision == "pass", (stage, verdict.reason)


def test_a_rule_that_breaks_is_an_error_not_a_verdict(monkeypatch):
    rules = RulesJudge()
    monkeypatch.setitem(rules._checks, "query_tool", lambda s: 1 / 0)
    verdict = asyncio.run(rules.judge("query_tool", [sample()]))[0]
    assert verdict.decision == "error" and "ZeroDivisionError" in verdict.reason


def test_clean_synthetic_data_passes_every_stage():
    rules = make_judge("rules")
    samples = [s for s in generate(400, seed=11) if s.is_call]
    for stage in STAGES:
        verdicts = asyncio.run(rules.judge(stage, samples))
        failed = [(s.id, v.reason) for s, v in zip(samples, verdicts, strict=True) if v.decision in ("fail", "error")]
        assert not failed, (stage, failed[:3])


def test_values_may_come_from_anywhere_in_the_conversation():
    messages = [{"role": "system", "content": "Units: fahrenheit."},
                {"role": "user", "content": [{"type": "text", "text": "I'm in Lisbon."}]},
                {"role": "assistant", "content": "How can I help?"},
                {"role": "user", "content": "What's the weather here?"}]
    item = Sample(id="m", messages=messages, tools=[WEATHER], answer=[call(city="Lisbon", units="fahrenheit")])
    assert judge("function_params", item).decision == "pass"
    assert judge("query_tool", item).decision == "pass"


def bfcl_sample(query, tools, calls, category="live_multiple"):
    return Sample(id="b", messages=[{"role": "user", "content": query}], tools=tools, answer=calls,
                  meta={"bfcl_category": category})


PREPARE_CALL = {"name": "ProxyConnection.prepareCall", "description": "Creates a CallableStatement.", "parameters": {
    "type": "dict", "required": ["sql", "concurrency"], "properties": {
        "sql": {"type": "String", "description": "The SQL statement."},
        "concurrency": {"type": "integer", "description": "One of ResultSet.CONCUR_READ_ONLY or ..."}}}}
SENSORS = {"name": "get_sensor_readings_latest", "description": "Latest readings.", "parameters": {
    "type": "dict", "required": ["perPage"], "properties": {
        "perPage": {"type": "integer"},
        "metrics": {"type": "array", "items": {"type": "string"}, "enum": ["temperature", "humidity", "co2"]}}}}
RENTAL = {"name": "RentalCars_3_GetCarsAvailable", "description": "Cars to rent.", "parameters": {
    "type": "dict", "required": ["city", "start_date", "pickup_time"], "properties": {
        "city": {"type": "string"}, "start_date": {"type": "string"}, "pickup_time": {"type": "string"}}}}


@pytest.mark.parametrize(("item", "decision"), [
    # BFCL's Java category passes values as Java source: a constant for an int
    (bfcl_sample("create a callable statement for `CALL totalSales(?)` with ResultSet.CONCUR_READ_ONLY",
                 [PREPARE_CALL], [call("ProxyConnection.prepareCall", sql="CALL totalSales(?)",
                                       concurrency="ResultSet.CONCUR_READ_ONLY")], "simple_java"), "pass"),
    (bfcl_sample("create a callable statement for `CALL totalSales(?)` that is read only", [PREPARE_CALL],
                 [call("ProxyConnection.prepareCall", sql="CALL totalSales(?)",
                       concurrency="ResultSet.CONCUR_READ_ONLY")], "simple_java"), "undecided"),
    # ... which in Python is a wrong type unless the query itself names that variable
    (bfcl_sample("create a callable statement for `CALL totalSales(?)` that is read only", [PREPARE_CALL],
                 [call("ProxyConnection.prepareCall", sql="CALL totalSales(?)",
                       concurrency="ResultSet.CONCUR_READ_ONLY")], "simple_python"), "fail"),
    # an enum on an array lists the allowed items
    (bfcl_sample("latest temperature and humidity readings, 100 entries per page", [SENSORS],
                 [call("get_sensor_readings_latest", perPage=100, metrics=["temperature", "humidity"])]), "pass"),
    # dates and times in words
    (bfcl_sample("I need to rent a car in Los Angeles, from March 9th to March 10th 2023. I want to pick up at 9 am.",
                 [RENTAL], [call("RentalCars_3_GetCarsAvailable", city="Los Angeles", start_date="2023-03-09",
                                 pickup_time="09:00")]), "pass"),
    # numbers right after Chinese characters (glaive zh)
    (sample(query="你好，我需要将500美元转换成欧元。", answer=[call(city="Paris", budget=500)],
            tools=[WEATHER]), "undecided"),  # 'Paris' may be knowledge: no other place is named
    # real faults still fail: a value another value of the request should have been
    (bfcl_sample("I need to rent a car in Los Angeles from March 9th 2023, pick up at 9 am.", [RENTAL],
                 [call("RentalCars_3_GetCarsAvailable", city="Los Angeles", start_date="2023-03-19",
                       pickup_time="09:00")]), "fail"),
    (bfcl_sample("latest temperature readings, 100 per page", [SENSORS],
                 [call("get_sensor_readings_latest", perPage=100, metrics=["pressure"])]), "fail"),
    (bfcl_sample("latest temperature readings", [SENSORS], [call("get_sensor_readings_latest", metrics=["co2"])]),
     "fail"),
])
def test_function_and_parameters_on_real_shapes(item, decision):
    verdict = judge("function_params", item)
    assert verdict.decision == decision, verdict.reason


def test_a_value_no_request_value_could_be_is_left_to_a_reader():
    verdict = judge("function_params", sample(query="Provide the crime rate in San Francisco in 2020.",
                                              answer=[call(city="San Francisco", units="celsius", days=2020,
                                                           budget=52)]))
    assert verdict.decision == "undecided" and "knowledge" in verdict.reason


def test_bfcl_ground_truth_booleans_for_string_flags_are_corrected():
    flags = {"name": "Services_1_FindProvider", "parameters": {"type": "dict", "required": ["city"], "properties": {
        "city": {"type": "string"}, "is_unisex": {"type": "string", "enum": ["True", "False", "dontcare"]}}}}
    item = bfcl_sample("a unisex salon in Walnut Creek", [flags],
                       [call("Services_1_FindProvider", city="Walnut Creek", is_unisex=True)])
    verdict = judge("function_params", item)
    assert verdict.decision == "fail" and verdict.reason.endswith("a mechanical fix corrects it")
    assert verdict.correction == [call("Services_1_FindProvider", city="Walnut Creek", is_unisex="True")]


@pytest.mark.skipif(importlib.util.find_spec("bfcl_eval") is None, reason="needs bfcl-eval")
def test_bfcl_ground_truth_is_kept():
    """BFCL's own answers are right by definition: the rules judge keeps at least 99% of them."""
    from funreason.evaluate.bfcl import bfcl_data_dir
    from funreason.formats import bfcl
    from funreason.records import Rejects
    from funreason.refine.stages import Track, run_stages

    data = bfcl_data_dir()
    samples = [s for f in sorted((data / "possible_answer").glob("BFCL_v4_*.json"))
               for s in bfcl.read(data / f.name, Rejects()) if s.is_call]
    rules = RulesJudge()

    async def ask(stage, tracks):
        return await rules.judge(stage, [t.sample for t in tracks])

    tracks = [Track(i, s) for i, s in enumerate(samples)]
    asyncio.run(run_stages(tracks, ask, rules.name))
    lost = [(t.sample.id, t.reason) for t in tracks if t.outcome != "refined"]
    assert len(samples) > 2000 and len(lost) / len(samples) <= 0.01, lost
