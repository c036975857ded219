"""Tool schema normalisation (every dialect into one JSON-schema form) and call validation."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator, Draft202012Validator

from funreason.evaluate.bfcl import CATEGORIES, bfcl_data_dir, load_category
from funreason.records import Sample, ToolCall
from funreason.schema import (
    CallError,
    normalize_tool,
    normalize_tools,
    to_openai_tools,
    validate_call,
    validate_calls,
)

# --- real tool docs, copied from bfcl_eval's data files -----------------------------------------

BFCL_SIMPLE_PYTHON_0 = {
    "name": "calculate_triangle_area",
    "description": "Calculate the area of a triangle given its base and height.",
    "parameters": {
        "type": "dict",
        "properties": {
            "base": {"type": "integer", "description": "The base of the triangle."},
            "height": {"type": "integer", "description": "The height of the triangle."},
            "unit": {
                "type": "string",
                "description": "The unit of measure (defaults to 'units' if not specified)",
            },
        },
        "required": ["base", "height"],
    },
}
BFCL_SIMPLE_PYTHON_83 = {
    "name": "calculate_distance",
    "description": "Calculate the distance between two GPS coordinates.",
    "parameters": {
        "type": "dict",
        "properties": {
            "coord1": {
                "type": "tuple",
                "description": "The first coordinate as (latitude, longitude).",
                "items": {"type": "float"},
            },
            "coord2": {
                "type": "tuple",
                "description": "The second coordinate as (latitude, longitude).",
                "items": {"type": "float"},
            },
            "unit": {
                "type": "string",
                "description": "The unit of distance. Options: 'miles', 'kilometers'.",
            },
        },
        "required": ["coord1", "coord2", "unit"],
    },
}
BFCL_SIMPLE_JAVA_1 = {
    "name": "SQLCompletionAnalyzer.makeProposalsFromObject",
    "description": "Generates SQL completion proposals based on the given database object, name preference, and additional parameters.",
    "parameters": {
        "type": "dict",
        "properties": {
            "object": {"type": "any", "description": "The database object for which to generate proposals."},
            "useShortName": {
                "type": "boolean",
                "description": "Indicates whether to use short names for the proposals.",
            },
            "params": {
                "type": "HashMap",
                "description": "A map of additional parameters to customize the proposals.",
            },
        },
        "required": ["object", "useShortName", "params"],
    },
}
BFCL_SIMPLE_JAVA_22 = {
    "name": "PmsProductServiceImpl.updateNewStatus",
    "description": "Updates the new status for a list of product IDs in the product management system.",
    "parameters": {
        "type": "dict",
        "properties": {
            "ids": {
                "type": "ArrayList",
                "description": "A list of product IDs to update the new status for. Product ID is Long type",
                "items": {"type": "long"},
            },
            "newStatus": {
                "type": "integer",
                "description": "The new status to be set for the given product IDs.",
            },
        },
        "required": ["ids", "newStatus"],
    },
}
BFCL_SIMPLE_JAVASCRIPT_0 = {
    "name": "validateUserInput",
    "description": "This function is called after a user has finished typing in a form field, to validate the input provided.",
    "parameters": {
        "type": "dict",
        "properties": {
            "inputField": {
                "type": "String",
                "description": "The form field whose input needs to be validated.",
            },
            "isComplete": {
                "type": "Boolean",
                "description": "Indicates if the user has finished typing in the input field.",
            },
        },
        "required": ["inputField", "isComplete"],
    },
}
BFCL_LIVE_SIMPLE_85 = {
    "name": "open_meteo_api.fetch_weather_data",
    "description": "Fetches the current temperature from the Open-Meteo API for a specified location using latitude and longitude coordinates.",
    "parameters": {
        "type": "dict",
        "required": ["coordinates"],
        "properties": {
            "coordinates": {
                "type": "array",
                "items": {"type": "float"},
                "description": "An array containing the latitude and longitude of the location for which the weather data is requested. Latitude and longitude should be in decimal degrees.",
            },
            "units": {
                "type": "string",
                "description": "The unit system in which the temperature will be returned.",
                "enum": ["Celsius", "Fahrenheit", "Kelvin"],
                "default": "Celsius",
            },
        },
    },
}

# --- xLAM function-calling-60k: `tools` is a JSON string; parameters map names to specs ----------

XLAM_TOOLS = json.dumps(
    [
        {
            "name": "live_giveaways_by_type",
            "description": "Retrieve live giveaways from the GamerPower API based on the specified type.",
            "parameters": {
                "type": {
                    "description": "The type of giveaways to retrieve (e.g., game, loot, beta).",
                    "type": "str",
                    "default": "game",
                }
            },
        },
        {
            "name": "find_first_non_repeating_char",
            "description": "Finds the first non-repeating character in a string.",
            "parameters": {"s": {"description": "The input string.", "type": "str"}},
        },
        {
            "name": "search",
            "description": "Searches for entries with specified filters.",
            "parameters": {
                "text": {
                    "description": "The headword text to search for.",
                    "type": "str, optional",
                    "default": "",
                },
                "page": {
                    "description": "Page number of results to return (1-indexed). Defaults to 1.",
                    "type": "int, optional",
                    "default": "",
                },
            },
        },
        {
            "name": "calculate_grade",
            "description": "Calculates the weighted average grade based on scores and their corresponding weights.",
            "parameters": {
                "scores": {"description": "A list of scores.", "type": "List[float]"},
                "weights": {
                    "description": "A list of weights corresponding to each score.",
                    "type": "List[float]",
                },
            },
        },
    ]
)


def _params(tool):
    return normalize_tool(tool)["parameters"]


# --- dialects ------------------------------------------------------------------------------------


def test_bfcl_python_dict_float_tuple_become_json_schema():
    triangle = normalize_tool(BFCL_SIMPLE_PYTHON_0)
    assert triangle == {
        "name": "calculate_triangle_area",
        "description": "Calculate the area of a triangle given its base and height.",
        "parameters": {
            "type": "object",
            "properties": BFCL_SIMPLE_PYTHON_0["parameters"]["properties"],
            "required": ["base", "height"],
        },
    }
    coord = _params(BFCL_SIMPLE_PYTHON_83)["properties"]["coord1"]
    assert coord == {
        "type": "array",
        "description": "The first coordinate as (latitude, longitude).",
        "items": {"type": "number"},
    }


def test_bfcl_java_and_javascript_types_are_mapped():
    java = _params(BFCL_SIMPLE_JAVA_1)["properties"]
    assert "type" not in java["object"]  # "any": no constraint, description kept
    assert java["object"]["description"].startswith("The database object")
    assert java["params"]["type"] == "object"  # HashMap
    ids = _params(BFCL_SIMPLE_JAVA_22)["properties"]["ids"]
    assert ids["type"] == "array" and ids["items"] == {"type": "integer"}  # ArrayList of long
    js = _params(BFCL_SIMPLE_JAVASCRIPT_0)["properties"]
    assert js["inputField"]["type"] == "string" and js["isComplete"]["type"] == "boolean"


@pytest.mark.parametrize(
    ("given_type", "expected"),
    [
        ("String", {"type": "string"}),
        ("char", {"type": "string"}),
        ("long", {"type": "integer"}),
        ("double", {"type": "number"}),
        ("Boolean", {"type": "boolean"}),
        ("Array", {"type": "array"}),
        ("HashMap", {"type": "object"}),
        ("Bigint", {"type": "integer"}),
        ("int[]", {"type": "array", "items": {"type": "integer"}}),
        ("any", {}),
        ("", {}),
        # a type we cannot map is left unconstrained rather than guessed
        ("IResultSetController", {}),
        ("Callable[[int], int]", {}),
    ],
)
def test_type_names_of_all_dialects(given_type, expected):
    node = _params({"name": "f", "parameters": {"type": "dict", "properties": {"x": {"type": given_type}}}})
    assert node["properties"]["x"] == expected


def test_unmappable_type_accepts_any_value():
    tools = normalize_tools(
        [{"name": "f", "parameters": {"type": "dict", "properties": {"c": {"type": "IController"}}}}]
    )
    for value in ("ctrl", 3, [1], {"a": 1}, None):
        assert validate_call(ToolCall(name="f", arguments={"c": value}), tools) == []


def test_openai_plain_and_anthropic_dialects_agree():
    schema = {"type": "object", "properties": {"q": {"type": "string", "minLength": 1}}, "required": ["q"]}
    plain = {"name": "search", "description": "Search.", "parameters": schema}
    openai = {"type": "function", "function": plain}
    anthropic = {"name": "search", "description": "Search.", "input_schema": schema}
    flat = {"type": "function", **plain}  # the Responses API's flat form
    assert normalize_tool(openai) == normalize_tool(plain) == normalize_tool(anthropic) == normalize_tool(flat) == plain
    assert to_openai_tools([BFCL_SIMPLE_PYTHON_0]) == [
        {"type": "function", "function": normalize_tool(BFCL_SIMPLE_PYTHON_0)}
    ]


def test_nothing_beside_the_parameters_is_dropped():
    # ToolACE and some xLAM exports write `required` beside `parameters`; `null` there says nothing.
    beside = {"name": "f", "parameters": {"type": "dict", "properties": {"a": {"type": "str"}, "b": {"type": "int"}},
                                          "required": ["a"]}, "required": ["b", "a"]}  # fmt: skip
    assert normalize_tool(beside)["parameters"]["required"] == ["a", "b"]
    assert normalize_tool({**beside, "required": None})["parameters"]["required"] == ["a"]
    returns = {"type": "object", "properties": {"temp": {"type": "number"}}}
    kept = normalize_tool({"type": "function", "function": {"name": "g", "return": returns, "strict": True}})
    assert kept == {"name": "g", "description": "", "parameters": {"type": "object", "properties": {}, "required": []},
                    "returns": returns, "strict": True}  # fmt: skip
    assert normalize_tool(kept) == kept
    with pytest.raises(ValueError, match=r"tool \('f'\): 'required' beside 'parameters' must be a list"):
        normalize_tool({**beside, "required": "b"})
    with pytest.raises(ValueError, match="both 'return' and 'returns'"):
        normalize_tool({"name": "g", "return": {}, "returns": {}})
    with pytest.raises(ValueError, match=r"keys \['id'\] beside 'function'"):
        normalize_tool({"type": "function", "id": 3, "function": {"name": "g"}})


def test_json_schema_keywords_are_kept():
    schema = {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 9, "default": 3, "description": "count"},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "minItems": 1},
            "where": {
                "type": "object",
                "properties": {"city": {"type": "string", "pattern": "^[A-Z]"}},
                "required": ["city"],
                "additionalProperties": False,
            },
            "when": {"type": "string", "format": "date"},
        },
        "required": ["n"],
    }
    assert _params({"name": "f", "parameters": schema}) == schema


def test_xlam_tools_json_string():
    tools = normalize_tools(XLAM_TOOLS)
    assert [t["name"] for t in tools] == [
        "live_giveaways_by_type",
        "find_first_non_repeating_char",
        "search",
        "calculate_grade",
    ]
    giveaways, first, search, grade = (t["parameters"] for t in tools)
    # a parameter named "type" is not mistaken for the schema's own "type"
    assert giveaways == {
        "type": "object",
        "properties": {
            "type": {
                "type": "string",
                "description": "The type of giveaways to retrieve (e.g., game, loot, beta).",
                "default": "game",
            }
        },
        "required": [],  # it has a default
    }
    assert first["required"] == ["s"] and first["properties"]["s"]["type"] == "string"
    assert search["required"] == []
    assert search["properties"]["page"] == {
        "type": "integer",
        "description": "Page number of results to return (1-indexed). Defaults to 1.",
        "default": "",
    }
    assert grade["properties"]["scores"]["type"] == "array" and grade["properties"]["scores"]["items"] == {
        "type": "number"
    }
    assert grade["required"] == ["scores", "weights"]


@pytest.mark.parametrize(
    ("py_type", "expected", "required"),
    [
        ("str", {"type": "string"}, True),
        ("int", {"type": "integer"}, True),
        ("float", {"type": "number"}, True),
        ("bool", {"type": "boolean"}, True),
        ("List[int]", {"type": "array", "items": {"type": "integer"}}, True),
        ("List[str]", {"type": "array", "items": {"type": "string"}}, True),
        ("list", {"type": "array"}, True),
        ("dict", {"type": "object"}, True),
        ("Dict[str, Any]", {"type": "object"}, True),
        ("Dict[str, int]", {"type": "object", "additionalProperties": {"type": "integer"}}, True),
        ("List[Dict[str, Any]]", {"type": "array", "items": {"type": "object"}}, True),
        (
            "Tuple[int, int]",
            {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
            True,
        ),
        (
            "Tuple[int, str]",
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
            },
            True,
        ),
        ("Union[int, float]", {"type": ["integer", "number"]}, True),
        ("int or float", {"type": ["integer", "number"]}, True),
        ("Literal['asc', 'desc']", {"enum": ["asc", "desc"]}, True),
        ("Any", {}, True),
        ("Optional[str]", {"type": "string"}, False),
        ("str, optional", {"type": "string"}, False),
        ("List[int], optional", {"type": "array", "items": {"type": "integer"}}, False),
        ("int, default=5", {"type": "integer", "default": 5}, False),
        ("str, default='en'", {"type": "string", "default": "en"}, False),
    ],
)
def test_xlam_python_types(py_type, expected, required):
    params = _params({"name": "f", "parameters": {"x": {"type": py_type}}})
    assert params["properties"]["x"] == expected
    assert params["required"] == (["x"] if required else [])
    Draft202012Validator.check_schema(params)


def test_xlam_default_is_kept_and_makes_optional():
    params = _params(
        {"name": "f", "parameters": {"n": {"description": "How many.", "type": "int", "default": 10}}}
    )
    assert params["properties"]["n"] == {"type": "integer", "description": "How many.", "default": 10}
    assert params["required"] == []


def test_per_property_required_flags_become_a_list():
    tool = {
        "name": "f",
        "parameters": {
            "type": "object",
            "properties": {
                "a": {"type": "string", "required": True},
                "b": {"type": "string", "required": False},
            },
        },
    }
    params = _params(tool)
    assert params["required"] == ["a"]
    assert params["properties"] == {"a": {"type": "string"}, "b": {"type": "string"}}


def test_absent_parameters_and_empty_tools():
    assert _params({"name": "ping"}) == {"type": "object", "properties": {}, "required": []}
    assert normalize_tools(None) == [] and normalize_tools("") == [] and normalize_tools("[]") == []


def test_bad_tools_raise_naming_tool_and_field():
    with pytest.raises(ValueError, match=r"tools\[1\].*'name'"):
        normalize_tools([BFCL_SIMPLE_PYTHON_0, {"description": "no name"}])
    with pytest.raises(ValueError, match=r"tools\[0\] \('f'\).*'parameters'.*str"):
        normalize_tools([{"name": "f", "parameters": "a=1"}])
    with pytest.raises(ValueError, match=r"'g'.*parameters\.properties\.x"):
        normalize_tool({"name": "g", "parameters": {"type": "object", "properties": {"x": "string"}}})
    with pytest.raises(ValueError, match="not valid JSON"):
        normalize_tools("[{")
    with pytest.raises(ValueError, match="list of tools"):
        normalize_tools({"name": "f"})


def test_sample_stores_normalised_tools():
    sample = Sample(id="1", messages=[{"role": "user", "content": "hi"}], answer="hello", tools=XLAM_TOOLS)
    assert sample.tools == normalize_tools(XLAM_TOOLS)
    assert Sample.model_validate(sample.model_dump()).tools == sample.tools


# --- idempotence ---------------------------------------------------------------------------------

TYPE_NAMES = st.sampled_from(
    [
        "string",
        "integer",
        "number",
        "boolean",
        "array",
        "object",
        "dict",
        "float",
        "tuple",
        "any",
        "String",
        "HashMap",
        "ArrayList",
        "long",
        "char",
        "Boolean",
        "double",
        "str",
        "int",
        "bool",
        "list",
        "List[int]",
        "List[str]",
        "Dict[str, Any]",
        "Dict[str, float]",
        "Tuple[int, int]",
        "Tuple[str, float]",
        "Union[int, float]",
        "Optional[str]",
        "str, optional",
        "int, default=5",
        "Literal['a', 'b']",
        "int | None",
        "Foo",
        "",
    ]
) | st.text(max_size=12)
JSON_VALUES = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
NAMES = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=6)


@st.composite
def specs(draw, depth=0):
    spec = {"type": draw(TYPE_NAMES)}
    if draw(st.booleans()):
        spec["description"] = draw(st.text(max_size=10))
    if draw(st.booleans()):
        spec["default"] = draw(JSON_VALUES)
    if draw(st.booleans()):
        spec["enum"] = draw(st.lists(JSON_VALUES, min_size=1, max_size=3))
    if depth < 1 and draw(st.booleans()):
        spec["type"] = draw(st.sampled_from(["dict", "object", "HashMap"]))
        spec["properties"] = draw(st.dictionaries(NAMES, specs(depth + 1), max_size=3))
        spec["required"] = draw(
            st.lists(st.sampled_from(sorted(spec["properties"]) or ["x"]), max_size=2, unique=True)
        )
    if depth < 1 and draw(st.booleans()):
        spec["items"] = draw(specs(depth + 1))
    return spec


@st.composite
def tools(draw):
    name = draw(NAMES)
    properties = draw(st.dictionaries(NAMES, specs(), max_size=4))
    dialect = draw(st.sampled_from(["xlam", "bfcl", "openai", "none"]))
    if dialect == "xlam":
        return {"name": name, "description": "d", "parameters": properties}
    if dialect == "none":
        return {"name": name}
    required = draw(st.lists(st.sampled_from(sorted(properties) or ["x"]), max_size=3, unique=True))
    tool = {
        "name": name,
        "description": "d",
        "parameters": {"type": "dict", "properties": properties, "required": required},
    }
    return {"type": "function", "function": tool} if dialect == "openai" else tool


@settings(max_examples=80, deadline=None)
@given(tools())
def test_normalize_is_idempotent_and_yields_json_schema(tool):
    once = normalize_tool(tool)
    assert normalize_tool(once) == once
    assert normalize_tools(json.dumps([tool])) == [once]
    assert set(once) == {"name", "description", "parameters"}
    assert once["parameters"]["type"] == "object"
    Draft202012Validator.check_schema(once["parameters"])


# --- validation ----------------------------------------------------------------------------------

TOOLS = normalize_tools(
    [
        BFCL_SIMPLE_PYTHON_0,
        BFCL_SIMPLE_PYTHON_83,
        BFCL_LIVE_SIMPLE_85,
        {
            "name": "book",
            "parameters": {
                "type": "dict",
                "properties": {
                    "seats": {"type": "integer", "minimum": 1},
                    "where": {
                        "type": "dict",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                    "id": {"type": "Union[List[int], str]"},
                },
            },
        },
    ]
)


def _errors(name, **arguments):
    return [(e.kind, e.parameter) for e in validate_call(ToolCall(name=name, arguments=arguments), TOOLS)]


def test_valid_calls_have_no_errors():
    assert _errors("calculate_triangle_area", base=10, height=5) == []
    assert _errors("calculate_triangle_area", base=10, height=5, unit="cm") == []
    assert (
        _errors("open_meteo_api.fetch_weather_data", coordinates=[37, -122.4], units="Kelvin") == []
    )  # int is a number
    assert (
        _errors("calculate_distance", coord1=(1.0, 2.0), coord2=[3.0, 4.0], unit="miles") == []
    )  # tuples are arrays
    assert _errors("book", where={"city": "Oslo", "note": "nested objects stay open"}, id=[1, 2]) == []


def test_unknown_function():
    (error,) = validate_call(ToolCall(name="nope", arguments={}), TOOLS)
    assert error == CallError("unknown_function", "nope", None, error.message)
    assert "'nope'" in error.message and "calculate_triangle_area" in error.message


def test_missing_required():
    assert _errors("calculate_triangle_area") == [
        ("missing_required", "base"),
        ("missing_required", "height"),
    ]
    assert _errors("book", where={}) == [("missing_required", "where.city")]


def test_unexpected_parameter_without_additional_properties_in_schema():
    (error,) = validate_call(
        ToolCall(name="calculate_triangle_area", arguments={"base": 1, "height": 2, "colour": "red"}), TOOLS
    )
    assert (error.kind, error.parameter) == ("unexpected_parameter", "colour")
    assert "calculate_triangle_area" in error.message and "'colour'" in error.message


def test_required_name_missing_from_properties_is_not_unexpected():
    # BFCL has such docs (parallel_29's nested "required" without "properties"); a top-level one too
    tools = normalize_tools(
        [{"name": "f", "parameters": {"type": "dict", "properties": {}, "required": ["a"]}}]
    )
    assert validate_call(ToolCall(name="f", arguments={"a": 1}), tools) == []
    assert [e.kind for e in validate_call(ToolCall(name="f", arguments={}), tools)] == ["missing_required"]


def test_wrong_type():
    assert _errors("calculate_triangle_area", base="10", height=5) == [("wrong_type", "base")]
    assert _errors("calculate_triangle_area", base=True, height=5) == [
        ("wrong_type", "base")
    ]  # bool is not int
    assert _errors("calculate_triangle_area", base=10.0, height=5) == [("wrong_type", "base")]  # nor is 10.0
    assert _errors("open_meteo_api.fetch_weather_data", coordinates=[True, 1]) == [
        ("wrong_type", "coordinates[0]")
    ]
    assert _errors("book", where={"city": 7}) == [("wrong_type", "where.city")]
    assert _errors("book", id={"x": 1}) == [("wrong_type", "id")]  # no member of the union fits
    (error,) = validate_call(
        ToolCall(name="calculate_triangle_area", arguments={"base": "10", "height": 5}), TOOLS
    )
    assert (
        "calculate_triangle_area" in error.message
        and "'base'" in error.message
        and "integer" in error.message
    )


def test_not_in_enum():
    (error,) = validate_call(
        ToolCall(
            name="open_meteo_api.fetch_weather_data", arguments={"coordinates": [1, 2], "units": "Rankine"}
        ),
        TOOLS,
    )
    assert (error.kind, error.parameter) == ("not_in_enum", "units")
    assert "'Rankine'" in error.message and "Kelvin" in error.message


def test_invalid_value_for_other_keywords():
    assert _errors("book", seats=0) == [("invalid_value", "seats")]
    assert (
        _errors("calculate_distance", coord1=[1.0], coord2=[1.0, 2.0], unit="km") == []
    )  # BFCL tuple: no length
    tools = normalize_tools([{"name": "g", "parameters": {"p": {"type": "Tuple[int, int]"}}}])
    errors = validate_call(ToolCall(name="g", arguments={"p": [1, 2, 3]}), tools)
    assert [(e.kind, e.parameter) for e in errors] == [("invalid_value", "p")]


def test_validate_calls_accepts_duck_typed_calls_and_a_name_index():
    calls = [
        SimpleNamespace(name="calculate_triangle_area", arguments={"base": 1, "height": 2}),
        ToolCall(name="calculate_triangle_area", arguments={"base": 1}),
        ToolCall(name="missing", arguments={}),
    ]
    errors = validate_calls(calls, TOOLS)
    assert [e.kind for e in errors] == ["missing_required", "unknown_function"]
    assert validate_calls(calls, {t["name"]: t for t in TOOLS}) == errors


def test_invalid_schema_raises_naming_the_tool():
    tools = [
        {
            "name": "bad",
            "description": "",
            "parameters": {"type": "object", "properties": {"a": {"minimum": "x"}}, "required": []},
        }
    ]
    with pytest.raises(ValueError, match="'bad'.*invalid schema"):
        validate_call(ToolCall(name="bad", arguments={"a": 1}), tools)


# --- every BFCL v4 single-turn function doc ------------------------------------------------------

JSON_TYPES = {"object", "array", "string", "integer", "number", "boolean", "null"}


def _types(node):
    if isinstance(node, dict):
        if "type" in node and not isinstance(node["type"], dict):
            yield from node["type"] if isinstance(node["type"], list) else [node["type"]]
        for key, value in node.items():
            if key not in ("enum", "default", "const", "examples"):
                yield from _types(value)
    elif isinstance(node, list):
        for item in node:
            yield from _types(item)


def test_every_bfcl_function_doc_normalises_to_valid_json_schema():
    try:
        bfcl_data_dir()
    except FileNotFoundError:
        pytest.skip("bfcl-eval is not installed (pip install --no-deps bfcl-eval)")
    unique: dict[str, dict] = {}
    for category in CATEGORIES:
        for entry in load_category(category):
            for tool in normalize_tools(entry.source_functions):
                assert normalize_tool(tool) == tool, entry.id
                assert set(_types(tool["parameters"])) <= JSON_TYPES, entry.id
                unique[json.dumps(tool["parameters"], sort_keys=True)] = tool["parameters"]
    assert len(unique) > 1000
    # ~3k distinct schemas: all against Draft 7's metaschema (what validate_call checks), and a
    # spread of them against 2020-12's, which is ~7x slower (the validator's own draft)
    for i, parameters in enumerate(unique.values()):
        Draft7Validator.check_schema(parameters)
        if i % 10 == 0:
            Draft202012Validator.check_schema(parameters)


EVIL = "^(a+)+$"


@pytest.mark.parametrize(
    "parameters",
    [
        {"type": "object", "properties": {"s": {"type": "string", "pattern": EVIL}}},
        {"type": "object", "patternProperties": {EVIL: {"type": "string"}}, "additionalProperties": False},
    ],
)
def test_a_catastrophic_schema_regex_is_bounded_and_said(parameters):
    tool = {"name": "f", "description": "", "parameters": parameters}
    hostile = "a" * 5000 + "!"
    arguments = {"s": hostile} if "properties" in parameters else {hostile: "x"}
    started = time.monotonic()
    errors = validate_call(ToolCall(name="f", arguments=arguments), [tool])
    assert time.monotonic() - started < 2  # re.search alone takes minutes here
    assert any("ran past 0.1 s" in error.message and "not checked" in error.message for error in errors), errors


def test_schema_regexes_still_match_and_refuse_as_before():
    tool = {"name": "f", "description": "", "parameters": {
        "type": "object", "properties": {"code": {"type": "string", "pattern": r"^[A-Z]{3}$"}},
        "patternProperties": {r"^x_\d+$": {"type": "integer"}}, "additionalProperties": False}}
    assert validate_call(ToolCall(name="f", arguments={"code": "ABC", "x_1": 2}), [tool]) == []
    [bad_code] = validate_call(ToolCall(name="f", arguments={"code": "abcd"}), [tool])
    assert "does not match" in bad_code.message
    [extra] = validate_call(ToolCall(name="f", arguments={"code": "ABC", "y": 1}), [tool])
    assert extra.kind == "unexpected_parameter"
    [wrong] = validate_call(ToolCall(name="f", arguments={"x_1": "two"}), [tool])
    assert wrong.kind == "wrong_type"
