"""BFCL's function-calling ("FC") mode: functions sent as the OpenAI `tools` field, calls read
from the server's `tool_calls`, as bfcl-eval's OpenAI-compatible FC handlers do.

- `openai_tools(functions)`: the entry's function docs (language hints included) as bfcl-eval's
  `convert_to_tool(functions, GORILLA_TO_OPENAPI, OPENAI_COMPLETIONS)` writes them: dots in
  names become `_` (OpenAI's name pattern), the parameters' type is `object`, every BFCL type name
  is mapped to JSON schema (`dict` -> `object`, `float` -> `number` with `format: float` and a
  sentence in the description, unknown names -> `string`), nested properties and items alike;
- `decode_fc(result)`: a result `[{name: arguments_json}]` (what bfcl-eval writes for an FC model,
  and what `Generation.tool_calls` holds) as BFCL's decoded calls; a text result (the model
  answered without a call) does not decode, as in BFCL.

The checker then compares names with `.` read as `_` (`underscore_to_dot`), as BFCL does for
these models.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from funreason.evaluate.ast_rules import Calls

__all__ = ["GORILLA_TO_OPENAPI", "FcDecodeError", "decode_fc", "openai_tools"]

# bfcl_eval/constants/type_mappings.py
GORILLA_TO_OPENAPI = {
    "integer": "integer", "number": "number", "float": "number", "string": "string", "boolean": "boolean",
    "bool": "boolean", "array": "array", "list": "array", "dict": "object", "object": "object",
    "tuple": "array", "any": "string", "byte": "integer", "short": "integer", "long": "integer",
    "double": "number", "char": "string", "ArrayList": "array", "Array": "array", "HashMap": "object",
    "Hashtable": "object", "Queue": "array", "Stack": "array", "Any": "string", "String": "string",
    "Bigint": "integer",
}  # fmt: skip


class FcDecodeError(ValueError):
    """A result that is not a list of `{name: arguments_json}` tool calls."""


def openai_tools(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The OpenAI `tools` field for BFCL function docs, as bfcl-eval's `convert_to_tool` writes it."""
    tools = []
    for item in copy.deepcopy(functions):
        item["name"] = re.sub(r"\.", "_", item["name"])
        item["parameters"]["type"] = "object"
        item["parameters"]["properties"] = _cast(item["parameters"]["properties"])
        tools.append({"type": "function", "function": item})
    return tools


def _cast(properties: dict[str, Any]) -> dict[str, Any]:
    # utils._cast_to_openai_type, with GORILLA_TO_OPENAPI: two levels of items, any depth of properties.
    for value in properties.values():
        kind = value.get("type")
        if kind is None:
            value["type"] = "string"
        else:
            if kind == "float":
                value["format"] = "float"
                value["description"] += " This is a float type value."
            value["type"] = GORILLA_TO_OPENAPI.get(kind, "string")
        if value["type"] in ("array", "object"):
            if "properties" in value:
                value["properties"] = _cast(value["properties"])
            elif "items" in value:
                items = value["items"]
                items["type"] = GORILLA_TO_OPENAPI[items["type"]]
                if items["type"] == "array" and "items" in items:
                    items["items"]["type"] = GORILLA_TO_OPENAPI[items["items"]["type"]]
                elif items["type"] == "object" and "properties" in items:
                    items["properties"] = _cast(items["properties"])
    return properties


def decode_fc(result: Any) -> Calls:
    """`[{name: arguments_json}]` as `[{name: arguments}]` (the FC handlers' `decode_ast`)."""
    if not isinstance(result, list):
        raise FcDecodeError(f"no tool calls: the answer is {type(result).__name__}, not a list of calls")
    decoded = []
    for index, call in enumerate(result):
        if not isinstance(call, dict) or not call:
            raise FcDecodeError(f"tool call {index} is not a {{name: arguments}} object")
        name = next(iter(call))
        arguments = call[name]
        if not isinstance(arguments, str):
            raise FcDecodeError(f"tool call {index} ({name}): arguments are not a JSON text")
        try:
            decoded.append({name: json.loads(arguments)})
        except (json.JSONDecodeError, RecursionError) as exc:
            raise FcDecodeError(f"tool call {index} ({name}): arguments are not JSON ({exc})") from None
    return decoded
