"""What the rules judge forgives or fixes in calls that break their schema (BFCL's own quirks among them)."""

import pytest

from funreason.records import Sample, ToolCall
from funreason.refine.repairs import language, readable, repaired, source_values
from funreason.schema import normalize_tool, validate_call


def tool(**properties):
    required = [name for name, spec in properties.items() if spec.pop("required", False)]
    return normalize_tool({"name": "f", "parameters": {"type": "object", "properties": properties,
                                                         "required": required}})


def call(**arguments):
    return ToolCall(name="f", arguments=arguments)


def test_an_enum_on_an_array_lists_its_items():
    metrics = {"type": "array", "items": {"type": "string"}, "enum": ["temperature", "humidity", "co2"]}
    original = tool(metrics=metrics)
    tools = readable([original])
    schema = tools["f"]["parameters"]["properties"]["metrics"]
    assert schema["items"] == {"type": "string", "enum": ["temperature", "humidity", "co2"]} and "enum" not in schema
    assert "enum" in original["parameters"]["properties"]["metrics"]  # the sample's tool is left alone
    assert validate_call(call(metrics=["temperature", "humidity"]), tools) == []
    assert validate_call(call(metrics=["pressure"]), tools)[0].kind == "not_in_enum"
    plain = tool(n={"type": "integer"})
    assert readable([plain])["f"] is plain


@pytest.mark.parametrize(("category", "value", "kind", "excused"), [
    ("simple_java", "ResultSet.CONCUR_READ_ONLY", "integer", True),
    ("simple_java", "durations", "array", True),
    ("simple_java", "new int[]{1, 2}", "array", True),
    ("simple_java", "user:online:both", "array", False),  # a string literal is no array
    ("simple_javascript", "responseData", "object", True),
    ("simple_javascript", "[1, 2, 3]", "array", True),
    ("simple_python", "data['sales']", "array", True),  # written in the query: a variable
    ("simple_python", "sales_data", "array", False),  # not in the query: a wrong type
    ("simple_python", "5", "integer", False),  # a type error to fix, not a variable
])
def test_source_text_stands_for_a_typed_value(category, value, kind, excused):
    sample = Sample(id="s", messages=[{"role": "user", "content": "fit x=data['sales'] please"}],
                    tools=[tool(x={"type": kind})], answer=[call(x=value)], meta={"bfcl_category": category})
    errors = [(sample.calls[0], e) for e in validate_call(sample.calls[0], sample.tools)]
    assert errors and errors[0][1].kind == "wrong_type"
    left, paths = source_values(errors, language(sample), sample.query)
    assert (paths == ["f.x"], left == []) == (excused, excused)


@pytest.mark.parametrize(("schema", "value", "fixed"), [
    ({"type": "integer"}, "5", 5),
    ({"type": "number"}, "2.5", 2.5),
    ({"type": "boolean"}, "true", True),
    ({"type": "string"}, 2, "2"),
    ({"type": "string", "enum": ["True", "False", "dontcare"]}, True, "True"),
    ({"type": "string", "enum": ["1", "2", "3", "dontcare"]}, 2, "2"),
    ({"type": "string", "enum": ["Horror", "Drama"]}, "horror", "Horror"),
    ({"type": "array", "items": {"type": "string", "enum": ["Rock", "Pop"]}}, ["rock"], ["Rock"]),
])
def test_mechanical_fixes(schema, value, fixed):
    tools = {"f": tool(x=dict(schema))}
    assert repaired([call(x=value)], tools) == [call(x=fixed)]


def test_a_null_for_an_optional_parameter_is_left_out():
    tools = {"f": tool(name={"type": "string", "required": True}, start={"type": "string", "default": None})}
    assert repaired([call(name="a", start=None)], tools) == [call(name="a")]
    assert repaired([call(name=None)], tools) is None  # a required one is not


@pytest.mark.parametrize(("schema", "value"), [
    ({"type": "integer"}, "five"),
    ({"type": "string", "enum": ["Reggae", "Rock"]}, "Reggaeton"),  # outside the enum in any case
    ({"type": "string", "enum": ["a", "A"]}, "À"),
    ({"type": "string"}, True),  # which spelling of true? not guessed
])
def test_no_fix_is_guessed(schema, value):
    assert repaired([call(x=value)], {"f": tool(x=dict(schema))}) is None
