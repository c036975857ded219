"""Tool schema normalisation and call validation.

Every tool is stored in one form, whatever dialect it came in:
`{"name": str, "description": str, "parameters": {"type": "object", "properties": {...},
"required": [...]}}`, where `parameters` is a JSON schema (draft 2020-12) and every JSON-schema
keyword of the original (enum, items, nested properties, default, minimum, ...) is kept. Keys of
the tool itself beyond these stay on it (`returns`, ...; see `normalize_tool`).

Dialects read:
- OpenAI `{"type": "function", "function": {...}}`, plain `{name, description, parameters}`, and
  Anthropic's `input_schema` in place of `parameters`;
- BFCL function docs: `"type": "dict"`, `"float"`, `"tuple"`, `"any"`, and the Java/JavaScript
  type names of BFCL's java/javascript categories (see `_BASE_TYPES`);
- xLAM (function-calling-60k): `parameters` maps each parameter name straight to
  `{"description", "type": "str, optional", "default": ...}` with Python-style type strings.

Type names are mapped through one table (`_BASE_TYPES`, case-insensitive). A type that cannot be
mapped (a Java class such as `IResultSetController`, `Callable`, `any`) becomes *unconstrained*:
the `type` key is dropped and nothing else is guessed, so validation never rejects a value on a
type we only pretended to know. `Optional[X]` means "may be omitted" (not required); it does not
add `null` to the accepted types.

`validate_call` checks one call against the tools with `jsonschema`, reporting typed `CallError`s.
It reads calls by duck typing (`call.name`, `call.arguments`), so this module never imports
`records` (which imports it).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

import jsonschema
import regex
from jsonschema import Draft7Validator, Draft202012Validator
from jsonschema.exceptions import best_match


class Call(Protocol):
    """What a call is to the schema checks (`records.ToolCall` is one); `schema` sits below `records`."""

    name: str
    arguments: dict[str, Any]


# --- type names ---------------------------------------------------------------------------------

_UNCONSTRAINED = "<any>"
# Lower-cased type name in any dialect -> JSON-schema type (or no constraint).
_BASE_TYPES: dict[str, str] = {
    **dict.fromkeys(
        [
            "object",
            "dict",
            "map",
            "mapping",
            "hashmap",
            "hashtable",
            "treemap",
            "linkedhashmap",
            "jsonobject",
        ],
        "object",
    ),
    **dict.fromkeys(
        [
            "array",
            "list",
            "tuple",
            "set",
            "frozenset",
            "sequence",
            "iterable",
            "arraylist",
            "linkedlist",
            "hashset",
            "treeset",
            "queue",
            "stack",
            "vector",
            "deque",
            "collection",
            "jsonarray",
        ],
        "array",
    ),
    **dict.fromkeys(["string", "str", "char", "character"], "string"),
    **dict.fromkeys(["integer", "int", "long", "short", "byte", "bigint", "biginteger"], "integer"),
    **dict.fromkeys(["number", "float", "double", "decimal", "bigdecimal"], "number"),
    **dict.fromkeys(["boolean", "bool"], "boolean"),
    **dict.fromkeys(["null", "none", "nonetype"], "null"),
    **dict.fromkeys(["any", "", "callable", "function"], _UNCONSTRAINED),
}
_TYPE_NAME = re.compile(r"([A-Za-z_][\w.]*)\s*(?:\[(.*)\])?", re.S)
_OPTIONAL_MARK = re.compile(r"\boptional\b|\bdefault", re.I)
_DEFAULT_IN_TYPE = re.compile(r"default(?:s to|\s*[=:])\s*(.+)", re.I | re.S)
_NO_DEFAULT = object()


def _split_top(text: str, sep: str) -> list[str]:
    """Split `text` at `sep` outside brackets and quotes: `"Tuple[int, int], optional"` -> 2 parts."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _union(members: list[dict[str, Any]]) -> dict[str, Any]:
    if any(not m for m in members):  # one unconstrained member makes the union unconstrained
        return {}
    if all(set(m) == {"type"} and isinstance(m["type"], str) for m in members):
        types = list(dict.fromkeys(m["type"] for m in members))
        return {"type": types[0] if len(types) == 1 else types}
    return {"anyOf": members}


def _type_fragment(text: str) -> dict[str, Any]:
    """A Python/Java/BFCL type expression as a JSON-schema fragment; `{}` means unconstrained.

    `"List[int]"` -> `{"type": "array", "items": {"type": "integer"}}`; `"Union[int, str]"` ->
    `{"type": ["integer", "string"]}`; `"Literal['a', 'b']"` -> `{"enum": ["a", "b"]}`.
    Optional markers (`", optional"`, `", default=5"`) must be stripped first (`_parse_type`).
    """
    text = text.strip()
    base = _BASE_TYPES.get(text.lower())
    if base is not None:  # the common case: a bare name
        return {} if base == _UNCONSTRAINED else {"type": base}
    if "|" in text:
        members = _split_top(text, "|")
    elif " or " in text and not re.search(r"[\[('\"]", text):  # "int or float"
        members = text.split(" or ")
    else:
        members = [text]
    if len(members) > 1:
        return _union([_type_fragment(m) for m in members])
    if text.endswith("[]"):  # Java arrays: int[], String[][]
        return _with_items("array", [text[:-2]])
    match = _TYPE_NAME.fullmatch(text)
    if not match:
        return {}
    name = match[1].rsplit(".", 1)[-1].lower()  # typing.List -> list
    args = _split_top(match[2], ",") if match[2] else []
    if name == "optional" and len(args) == 1:
        return _type_fragment(args[0])
    if name == "union" and args:
        return _union([_type_fragment(a) for a in args])
    if name == "literal" and args:
        try:
            values = [ast.literal_eval(a) for a in args]
        except (ValueError, SyntaxError):
            return {}
        return {"enum": values}
    base = _BASE_TYPES.get(name, _UNCONSTRAINED)
    if base == _UNCONSTRAINED:
        return {}
    if base == "array":
        return _with_items(base, args, fixed=name == "tuple")
    if base == "object" and len(args) == 2:
        values = _type_fragment(args[1])
        return {"type": "object", "additionalProperties": values} if values else {"type": "object"}
    return {"type": base}


def _with_items(base: str, args: list[str], fixed: bool = False) -> dict[str, Any]:
    fragment: dict[str, Any] = {"type": base}
    if fixed and args and args[-1] != "...":  # Tuple[int, str]: exactly these items
        items = [_type_fragment(a) for a in args]
        if all(i == items[0] for i in items):
            if items[0]:
                fragment["items"] = items[0]
        else:
            fragment["prefixItems"] = items
        fragment["minItems"] = fragment["maxItems"] = len(items)
    elif args:  # List[int], Tuple[int, ...]
        items = _type_fragment(args[0])
        if items:
            fragment["items"] = items
    return fragment


def _parse_type(text: str) -> tuple[dict[str, Any], bool, Any]:
    """`"int, default=5"` -> (`{"type": "integer"}`, optional=True, default=5 or `_NO_DEFAULT`)."""
    head, *marks = _split_top(text, ",") if "," in text else [text]
    optional = bool(marks) and any(_OPTIONAL_MARK.search(m) for m in marks)
    default: Any = _NO_DEFAULT
    for mark in marks:
        found = _DEFAULT_IN_TYPE.search(mark)
        if found:
            try:
                default = ast.literal_eval(found[1].strip())
            except (ValueError, SyntaxError):
                default = found[1].strip()
    if not optional and head.lower().startswith(("optional[", "typing.optional[")):
        optional = True
    return _type_fragment(head), optional, default


# --- schema normalisation -----------------------------------------------------------------------

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("prefixItems", "anyOf", "oneOf", "allOf")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else")


def _schema(node: Any, where: str) -> Any:
    """One JSON-schema node in canonical form (types mapped, sub-schemas normalised), as a copy."""
    if isinstance(node, bool):
        return node
    if not isinstance(node, dict):
        raise ValueError(f"{where} must be a JSON schema object, got {type(node).__name__}")
    out: dict[str, Any] = {}
    raw_type = node.get("type")
    if isinstance(raw_type, str):
        fragment, _, default = _parse_type(raw_type)
        if default is not _NO_DEFAULT and "default" not in node:
            fragment["default"] = default
        out.update(fragment)
    elif isinstance(raw_type, list):
        mapped = [_BASE_TYPES.get(str(t).lower(), _UNCONSTRAINED) for t in raw_type]
        if mapped and _UNCONSTRAINED not in mapped:
            mapped = list(dict.fromkeys(mapped))
            out["type"] = mapped[0] if len(mapped) == 1 else mapped
    elif raw_type is not None:
        raise ValueError(f"{where}.type must be a type name or a list of them, got {type(raw_type).__name__}")
    for key, value in node.items():
        if key in ("type", "optional") or (key == "required" and isinstance(value, bool)):
            continue  # BFCL's "optional" and draft-3's `"required": true`: the parent's list says it
        if key == "items" and isinstance(value, list):  # draft-7 tuple form
            key = "prefixItems"
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            value = {k: _schema(v, f"{where}.{key}.{k}") for k, v in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            value = [_schema(v, f"{where}.{key}[{i}]") for i, v in enumerate(value)]
        elif key in _SCHEMA_ONE:
            value = _schema(value, f"{where}.{key}")
        out[key] = value  # an explicit keyword wins over what the type string implied
    required = out.get("required", [])
    if not isinstance(required, list):
        raise ValueError(f"{where}.required must be a list of parameter names")
    flagged = _flagged_required(node.get("properties"))
    if flagged:
        out["required"] = required + [name for name in flagged if name not in required]
    return out


def _flagged_required(properties: Any) -> list[str]:
    """Names of properties marked draft-3 style, `{"type": ..., "required": true}`."""
    if not isinstance(properties, dict):
        return []
    return [
        name for name, spec in properties.items() if isinstance(spec, dict) and spec.get("required") is True
    ]


def _is_param_map(params: dict[str, Any]) -> bool:
    """xLAM style: every value is one parameter's spec (`{"type": "str", "description": ...}`)."""
    if isinstance(params.get("type"), str):
        return False
    return all(
        isinstance(v, dict)
        and (not v or isinstance(v.get("type"), str | list) or isinstance(v.get("description"), str))
        for v in params.values()
    )


def _from_param_map(params: dict[str, Any], where: str) -> dict[str, Any]:
    properties, required = {}, []
    for name, spec in params.items():
        properties[name] = _schema(spec, f"{where}.{name}")
        flag = spec.get("required")
        optional = isinstance(spec.get("type"), str) and _parse_type(spec["type"])[1]
        if flag is True or (not isinstance(flag, bool) and not optional and "default" not in spec):
            required.append(name)
    return {"type": "object", "properties": properties, "required": required}


def _parameters(params: Any, where: str) -> dict[str, Any]:
    if params is None:
        return {"type": "object", "properties": {}, "required": []}
    if not isinstance(params, dict):
        raise ValueError(
            f"{where}: 'parameters' must be a JSON object (dict) or absent, got {type(params).__name__}"
        )
    if _is_param_map(params):
        return _from_param_map(params, f"{where}: parameters")
    node = _schema(params, f"{where}: parameters")
    kind = node.pop("type", "object")
    if kind != "object":
        raise ValueError(
            f"{where}: parameters.type must be 'object' (a JSON object of named arguments), got {kind!r}"
        )
    if not isinstance(node.get("properties", {}), dict):
        raise ValueError(f"{where}: parameters.properties must be a JSON object")
    return {
        "type": "object",
        "properties": node.pop("properties", {}),
        "required": node.pop("required", []),
        **node,
    }


def normalize_tool(tool: Any, index: int | None = None) -> dict[str, Any]:
    """One tool, in any supported dialect, as `{"name", "description", "parameters", ...}` (a new dict).

    Nothing the tool says is dropped: a `required` list written beside `parameters` (ToolACE, some
    xLAM exports) is moved into `parameters.required` (`"required": null` there says nothing);
    `returns` (or `return`) is kept as `returns`; any other key is kept as written. Only OpenAI's
    wrapper `{"type": "function", "function": {...}}` and a flat `"type": "function"` mark go.
    Idempotent: `normalize_tool(normalize_tool(t)) == normalize_tool(t)`.
    Raises `ValueError` naming the tool (`index`, name) and the field for a tool without a name or
    with `parameters` that is neither a JSON object nor absent.
    """
    where = "tool" if index is None else f"tools[{index}]"
    if not isinstance(tool, dict):
        raise ValueError(f"{where}: a tool must be a JSON object, got {type(tool).__name__}")
    if isinstance(tool.get("function"), dict):  # OpenAI {"type": "function", "function": {...}}
        beside = sorted(set(tool) - {"type", "function"})
        if beside:
            raise ValueError(f"{where}: keys {beside} beside 'function' in an OpenAI tool have no place in a tool")
        tool = tool["function"]
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: 'name' is missing or not a non-empty string")
    where = f"{where} ({name!r})"
    description = tool.get("description")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise ValueError(f"{where}: 'description' must be a string, got {type(description).__name__}")
    key = "parameters" if "parameters" in tool else "input_schema"
    parameters = _parameters(tool.get(key), where)
    parameters["required"] = _required_beside(parameters["required"], tool.get("required"), where)
    out = {"name": name, "description": description, "parameters": parameters}
    if "return" in tool and "returns" in tool:
        raise ValueError(f"{where}: both 'return' and 'returns' are given")
    for field, value in tool.items():
        if field in ("name", "description", key, "required") or (field == "type" and value == "function"):
            continue
        out["returns" if field == "return" else field] = value
    return out


def _required_beside(required: list[Any], beside: Any, where: str) -> list[Any]:
    """`parameters.required` with the names of a `required` list written beside `parameters` added."""
    if beside is None:
        return required
    if not isinstance(beside, list):
        raise ValueError(f"{where}: 'required' beside 'parameters' must be a list of parameter names")
    return required + [name for name in beside if name not in required]


def normalize_tools(tools: Any) -> list[dict[str, Any]]:
    """A tool list (or its JSON string, as xLAM stores it; `None` is no tools) in canonical form."""
    if tools is None:
        return []
    if isinstance(tools, str | bytes):
        if not tools.strip():
            return []
        try:
            tools = json.loads(tools)
        except json.JSONDecodeError as exc:
            raise ValueError(f"tools: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(tools, list | tuple):
        raise ValueError(f"tools must be a list of tools (or its JSON string), got {type(tools).__name__}")
    return [normalize_tool(tool, index) for index, tool in enumerate(tools)]


def to_openai_tools(tools: Any) -> list[dict[str, Any]]:
    """Tools in OpenAI's chat-completions form: `[{"type": "function", "function": {...}}]`."""
    return [{"type": "function", "function": tool} for tool in normalize_tools(tools)]


# --- call validation ----------------------------------------------------------------------------

ErrorKind = Literal[
    "unknown_function",
    "missing_required",
    "unexpected_parameter",
    "wrong_type",
    "not_in_enum",
    "invalid_value",
]


@dataclass(frozen=True)
class CallError:
    """Why one call does not fit its tool. `parameter` is a path (`"a.b[0]"`), None for the call."""

    kind: ErrorKind
    function: str
    parameter: str | None
    message: str

    def __str__(self) -> str:
        return self.message


def _is_integer(_checker: Any, value: Any) -> bool:
    # Python semantics, as BFCL's checker: 2.0 is not an integer, True is not an integer.
    return isinstance(value, int) and not isinstance(value, bool)


def _is_array(_checker: Any, value: Any) -> bool:
    return isinstance(value, list | tuple)  # the call parser yields tuples for `(1, 2)`


PATTERN_SECONDS = 0.1  # longest a tool schema's regex may run on one value


class PatternTimeout(ValueError):
    """A tool schema's regex ran past `PATTERN_SECONDS` on a value (catastrophic backtracking)."""


def search(pattern: str, text: str) -> bool:
    """`re.search` for patterns from tool schemas, bounded in time (the `regex` engine's timeout):
    `^(a+)+$` on a long string of a's would otherwise run for minutes."""
    try:
        return regex.search(pattern, text, timeout=PATTERN_SECONDS) is not None
    except TimeoutError:
        raise PatternTimeout(
            f"pattern {_describe(pattern)} ran past {PATTERN_SECONDS:g} s on {_describe(text)}; not checked"
        ) from None


def _pattern(validator: Any, pattern: str, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = search(pattern, instance)
    except PatternTimeout as exc:
        yield jsonschema.ValidationError(str(exc))
        return
    if not matched:
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            try:
                matched = search(pattern, key)
            except PatternTimeout as exc:
                yield jsonschema.ValidationError(str(exc))
                continue
            if matched:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, allowed: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
    patterns = schema.get("patternProperties")
    if not patterns or not validator.is_type(instance, "object"):
        yield from _ADDITIONAL(validator, allowed, instance, schema)
        return
    declared = schema.get("properties", {})
    extras = []
    for key in instance:
        if key in declared:
            continue
        try:
            if any(search(pattern, key) for pattern in patterns):
                continue
        except PatternTimeout as exc:
            yield jsonschema.ValidationError(str(exc))
            return
        extras.append(key)
    if validator.is_type(allowed, "object"):
        for key in extras:
            yield from validator.descend(instance[key], allowed, path=key)
    elif not allowed and extras:
        yield jsonschema.ValidationError(
            f"{', '.join(map(repr, sorted(extras)))} do not match any of the regexes: {', '.join(map(repr, sorted(patterns)))}"
        )


_ADDITIONAL = Draft202012Validator.VALIDATORS["additionalProperties"]
_Validator = jsonschema.validators.extend(
    Draft202012Validator,
    validators={"pattern": _pattern, "patternProperties": _pattern_properties,
                "additionalProperties": _additional_properties},
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "array": _is_array}
    ),
)  # fmt: skip


def _closed(parameters: dict[str, Any]) -> dict[str, Any]:
    """`parameters` rejecting argument names it does not declare, unless it says otherwise.

    Only the top level (the function's own parameter names) is closed, as BFCL's checker does:
    nested objects often list example keys only (BFCL's `"properties": {"param1", "param2"}`) and
    stay open unless their schema closes them. Names in `required` but not in `properties` pass.
    """
    if {"additionalProperties", "patternProperties", "unevaluatedProperties"} & parameters.keys():
        return parameters
    properties = dict(parameters.get("properties", {}))
    for name in parameters.get("required", []):
        properties.setdefault(name, True)
    return {**parameters, "properties": properties, "additionalProperties": False}


# Draft 7's metaschema checks every keyword tool schemas use, at ~1/7 the cost of 2020-12's
# ($dynamicRef resolution): a cache miss stays well under a millisecond.
_META = Draft7Validator(Draft7Validator.META_SCHEMA)


@lru_cache(maxsize=8192)
def _validator(key: str) -> Any:
    schema = _closed(_parameters(json.loads(key), "invalid schema"))
    error = best_match(_META.iter_errors(schema))
    if error is not None:
        where = _path(error.absolute_path) or "<root>"
        raise ValueError(f"invalid schema: parameters at {where}: {error.message}")
    return _Validator(schema)


def _path(parts: Iterable[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _join(base: str, name: str) -> str:
    return f"{base}.{name}" if base else name


def _describe(value: Any, limit: int = 60) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _matches(pattern: str, text: str) -> bool:
    try:
        return search(pattern, text)
    except PatternTimeout:
        return False  # the validator has reported the timeout itself


def _errors_from(function: str, error: jsonschema.ValidationError) -> list[CallError]:
    base = _path(error.absolute_path)
    at = f"parameter {base!r}" if base else "the arguments"
    if error.validator == "required":
        missing = [
            n for n in error.validator_value if isinstance(error.instance, dict) and n not in error.instance
        ]
        return [
            CallError(
                "missing_required",
                function,
                _join(base, n),
                f"{function}: missing required parameter {_join(base, n)!r}",
            )
            for n in missing
        ]
    if error.validator == "additionalProperties" and error.validator_value is False:
        declared = error.schema.get("properties", {})
        patterns = error.schema.get("patternProperties", {})
        return [
            CallError(
                "unexpected_parameter",
                function,
                _join(base, n),
                f"{function}: unexpected parameter {_join(base, n)!r}",
            )
            for n in error.instance
            if n not in declared and not any(_matches(p, n) for p in patterns)
        ]
    if error.validator == "type" or (
        error.validator in ("anyOf", "oneOf")
        and error.context
        and all(e.validator == "type" for e in error.context)
    ):
        expected = (
            error.validator_value if error.validator == "type" else [e.validator_value for e in error.context]
        )
        message = f"{function}: {at} should be of type {expected}, got {_describe(error.instance)}"
        return [CallError("wrong_type", function, base or None, message)]
    if error.validator == "enum":
        message = f"{function}: {at} is {_describe(error.instance)}, not one of {_describe(error.validator_value, 200)}"
        return [CallError("not_in_enum", function, base or None, message)]
    return [CallError("invalid_value", function, base or None, f"{function}: {at}: {error.message}")]


def _index(
    tools: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]],
) -> Mapping[str, Mapping[str, Any]]:
    return tools if isinstance(tools, Mapping) else {tool["name"]: tool for tool in tools}


def validate_call(
    call: Call, tools: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]]
) -> list[CallError]:
    """The ways `call` (anything with `.name` and `.arguments`) breaks its tool's schema; [] if none.

    `tools` are normalised tools (as `Sample.tools` holds them), or a `{name: tool}` mapping.
    Parameters not declared by the tool are `unexpected_parameter` even when the schema does not
    say `additionalProperties: false`. Integers pass where numbers are expected; booleans and
    floats such as 2.0 do not pass as integers. A tool whose schema is not valid JSON schema
    raises `ValueError`.
    """
    name, arguments = call.name, call.arguments
    tool = _index(tools).get(name)
    if tool is None:
        offered = ", ".join(sorted(_index(tools))) or "none"
        return [CallError("unknown_function", name, None, f"unknown function {name!r} (offered: {offered})")]
    key = json.dumps(tool.get("parameters") or {}, sort_keys=True, default=str)
    try:
        validator = _validator(key)
    except ValueError as exc:
        raise ValueError(f"tool {name!r}: {exc}") from None
    found: dict[tuple[str, str | None], CallError] = {}
    for error in validator.iter_errors(arguments):
        for item in _errors_from(name, error):
            found.setdefault((item.kind, item.parameter), item)
    return list(found.values())


def validate_calls(
    calls: Iterable[Call], tools: Sequence[Mapping[str, Any]] | Mapping[str, Mapping[str, Any]]
) -> list[CallError]:
    """All errors of all `calls`, in call order (see `validate_call`)."""
    index = _index(tools)
    return [error for call in calls for error in validate_call(call, index)]
