"""The quick schema check never calls valid what jsonschema rejects, and settles most clean calls."""

import pytest

from funreason.records import ToolCall
from funreason.refine.faults import inject_faults
from funreason.refine.fit import surely_valid
from funreason.schema import normalize_tool, validate_calls
from funreason.synth import generate

TOOL = normalize_tool({"name": "f", "parameters": {"type": "object", "properties": {
    "n": {"type": "integer"}, "x": {"type": "number"}, "flag": {"type": "boolean"},
    "mode": {"type": "string", "enum": ["a", "b"]}, "level": {"enum": [1, 2]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "guest": {"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]},
    "either": {"type": ["string", "null"]}, "short": {"type": "string", "maxLength": 3},
}, "required": ["n"]}})


@pytest.mark.parametrize(("arguments", "sure"), [
    ({"n": 1}, True),
    ({"n": 1, "x": 2, "flag": False, "mode": "a", "level": 2.0, "tags": ["t"], "guest": {"age": 3, "extra": 1},
      "either": None}, True),
    ({"n": True}, False),  # booleans are no integers
    ({"n": 2.0}, False),
    ({"n": 1, "level": True}, False),  # True is not the enum's 1
    ({"n": 1, "mode": "c"}, False),
    ({"n": 1, "guest": {}}, False),
    ({"n": 1, "tags": ["t", 3]}, False),
    ({"n": 1, "tags": ("t",)}, True),
    ({"n": 1, "other": 1}, False),  # the top level is closed
    ({}, False),
    ({"n": 1, "short": "ab"}, False),  # a keyword it does not know: jsonschema decides
])
def test_sure_only_when_jsonschema_agrees(arguments, sure):
    calls = [ToolCall(name="f", arguments=arguments)]
    assert surely_valid(calls, {"f": TOOL}) is sure
    if sure:
        assert validate_calls(calls, [TOOL]) == []


def test_on_synthetic_data_with_faults():
    settled = total = 0
    for sample in inject_faults(generate(800, seed=6), share=0.5, seed=6):
        if not sample.is_call:
            continue
        tools = {t["name"]: t for t in sample.tools}
        sure = surely_valid(sample.calls, tools)
        assert not sure or validate_calls(sample.calls, tools) == [], sample.id
        assert sure or "fault" in sample.meta, sample.id  # every clean call is settled here
        total += 1
        settled += sure
    assert settled / total > 0.6  # half the samples carry a fault, some of which still fit
