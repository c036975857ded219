"""Whether a value is written in (or derivable from) a text: found, missing, or unknown."""

import pytest

from funreason.refine.grounding import ground, leaves, text_facts

CITY = {"type": "string"}
UNITS = {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"}


@pytest.mark.parametrize(("value", "schema", "text", "finding"), [
    ("Paris", CITY, "weather in paris please", "found"),
    ("New York", CITY, "weather in New\n  York", "found"),
    ("France, Paris", CITY, "Paris in France", "found"),  # all its words
    ("Tokyo", CITY, "weather in Paris", "missing"),
    ("San Diego", CITY, "weather in San Francisco", "unknown"),  # some words
    ("", CITY, "anything", "unknown"),
    ("fahrenheit", UNITS, "in Fahrenheit", "found"),
    ("celsius", UNITS, "in fahrenheit", "missing"),  # the text names another allowed value
    ("celsius", UNITS, "no units named", "found"),  # the default
    ("fahrenheit", UNITS, "no units named", "unknown"),
    ("low", {"enum": ["low", "high"]}, "a slow and high road", "missing"),  # 'slow' does not write 'low'...
    ("high", {"enum": ["low", "high"]}, "a slow road", "unknown"),  # ... nor name it
    (1000, {}, "costs 1,000 dollars", "found"),
    (5000, {}, "a 5k budget", "found"),
    (3.5, {}, "at 3.50 each", "found"),
    (-2, {}, "c is -2", "found"),
    (2, {}, "c is -2", "found"),
    (4, {}, "for 3 days", "missing"),
    (7, {}, "for 3 days", "unknown"),  # 1 x 7: "a week"
    (7, {"default": 7}, "for 3 days", "found"),
    (10, {}, "for ten days", "unknown"),
    (25, {}, "twenty five of them", "unknown"),
    (14, {}, "for two weeks", "unknown"),
    (120, {}, "in 2 hours", "unknown"),
    (0.05, {}, "a 5% fee", "unknown"),
    (True, {"type": "boolean", "default": False}, "with alerts", "unknown"),
    (False, {"type": "boolean", "default": False}, "anything", "found"),
    (None, {}, "anything", "unknown"),
    (float("nan"), {}, "nan", "missing"),
])
def test_ground(value, schema, text, finding):
    assert ground(value, schema, text_facts(text))[0] == finding


def test_leaves_follow_the_schema_into_lists_and_objects():
    schema = {"properties": {"rooms": {"type": "array", "items": {"enum": ["a", "b"]}}, "n": {"type": "integer"}}}
    found = list(leaves({"rooms": ["a", "b"], "n": 2}, schema, "f.x"))
    assert found == [("f.x.rooms[0]", "a", {"enum": ["a", "b"]}), ("f.x.rooms[1]", "b", {"enum": ["a", "b"]}),
                     ("f.x.n", 2, {"type": "integer"})]
