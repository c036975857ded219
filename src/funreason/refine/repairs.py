"""What the rules judge forgives or fixes in a call that breaks its tool's schema, and why it may.

- `readable`: a tool's parameters as their author meant them. An `enum` on an array whose members
  are no arrays can match no list at all; it lists the allowed items (BFCL's live tools write
  `{"type": "array", "enum": [...]}`), so it moves into `items`.
- `source_values`: the type errors of values written as source text. BFCL's Java and JavaScript
  categories pass every argument as a string of that language's source (`"ResultSet.CONCUR_READ_ONLY"`
  for an `int`, `"durations"` for an array, `"new int[]{1, 2}"`): such a string stands for a value
  of the declared type. In Python, a string naming a variable the query writes (`x=data['sales']`)
  is a variable reference, as BFCL's checker takes it.
- `repaired`: the calls with mechanical fixes that make them fit: a string holding the number or
  flag the schema asks for (`'5'` -> 5), a number or flag where the schema asks for a string
  (2 -> `'2'`, True -> `'True'` when the enum lists it), an allowed value in another case
  (`'horror'` -> `'Horror'`), a null given for an optional parameter that does not take null
  (left out, which means the same).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from funreason.records import Sample, ToolCall
from funreason.refine.words import fold, occurs
from funreason.schema import CallError, validate_calls

Language = Literal["python", "java", "javascript"]

_INTEGER = re.compile(r"[+-]?\d+")
_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENT = r"[A-Za-z_$][\w$]*"
# A variable, constant or member chain, with calls and subscripts: `a`, `A.B_C`, `data['x']`, `f(x).y`.
_CHAIN = re.compile(rf"{_IDENT}(?:\s*(?:\.\s*{_IDENT}|\[[^\[\]]*\]|\([^()]*\)))*")
# Java/JavaScript constructions and literals: `new T(...)`, `new int[]{...}`, `[...]`, `{...}`, lambdas.
_CONSTRUCTED = re.compile(r"new\s+[\w.$<>]+.*|\[.*\]|\{.*\}|\(.*\)\s*=>.*|function\s*\(.*|-?\d+(?:\.\d+)?[lLfFdD]?",
                          re.S)


def language(sample: Sample) -> Language:
    """The language of the sample's functions: BFCL's java and javascript categories, else python."""
    category = str(sample.meta.get("bfcl_category", ""))
    if "javascript" in category:
        return "javascript"
    return "java" if "java" in category else "python"


def readable(tools: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """`{name: tool}`, with array-level enums of non-array members moved into `items` (a copy only
    of the tools that have one)."""
    index: dict[str, Mapping[str, Any]] = {}
    for tool in tools:
        parameters = tool.get("parameters") or {}
        if _has_item_enum(parameters):
            tool = {**tool, "parameters": _items_enum(copy.deepcopy(parameters))}
        index[tool["name"]] = tool
    return index


def _is_item_enum(node: dict[str, Any]) -> bool:
    members = node.get("enum")
    return (node.get("type") == "array" and isinstance(members, list) and bool(members)
            and not any(isinstance(m, list) for m in members))


def _children(node: dict[str, Any]) -> list[Any]:
    properties = node.get("properties")
    found = list(properties.values()) if isinstance(properties, dict) else []
    return found + ([node["items"]] if isinstance(node.get("items"), dict) else [])


def _has_item_enum(node: Any) -> bool:
    """Whether a schema node (tools hold plain dicts) or one below it is an array with an item enum."""
    if not isinstance(node, dict) or not ("enum" in node or "properties" in node or "items" in node):
        return False  # the common case: a scalar parameter
    return _is_item_enum(node) or any(_has_item_enum(c) for c in _children(node))


def _items_enum(node: dict[str, Any]) -> dict[str, Any]:
    if _is_item_enum(node):
        items = dict(node.get("items") or {})
        items.setdefault("enum", node.pop("enum"))
        node["items"] = items
    for child in _children(node):
        _items_enum(child)
    return node


def source_values(errors: Sequence[tuple[ToolCall, CallError]], lang: Language,
                  query: str) -> tuple[list[CallError], list[str]]:
    """`(errors left, paths excused)` of `(call, error)` pairs: type errors of strings written as
    source text are dropped (see the module docstring); the paths name what was excused."""
    kept, excused = [], []
    for call, error in errors:
        value = _at(call.arguments, error.parameter) if error.parameter else None
        if error.kind == "wrong_type" and isinstance(value, str) and _is_source(value, lang, query):
            excused.append(f"{error.function}.{error.parameter}")
        else:
            kept.append(error)
    return kept, excused


def _is_source(value: str, lang: Language, query: str) -> bool:
    text = value.strip()
    if lang == "python":  # only a variable the query itself writes
        return bool(_CHAIN.fullmatch(text)) and occurs(fold(query), fold(text))
    return bool(_CHAIN.fullmatch(text) or _CONSTRUCTED.fullmatch(text))


def _at(arguments: Mapping[str, Any], path: str) -> Any:
    """The value at a `CallError` path (`a.b[0]`), or None."""
    value: Any = arguments
    for key, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if key and isinstance(value, Mapping):
            value = value.get(key)
        elif index and isinstance(value, list | tuple) and int(index) < len(value):
            value = value[int(index)]
        else:
            return None
    return value


def repaired(calls: Sequence[ToolCall], tools: Mapping[str, Mapping[str, Any]]) -> list[ToolCall] | None:
    """The calls with every mechanical fix applied (see the module docstring), when that makes them
    all fit their tools; None otherwise or when nothing changed."""
    fixed = []
    for call in calls:
        parameters = (tools.get(call.name) or {}).get("parameters") or {}
        arguments = _fix_object(call.arguments, parameters)
        fixed.append(ToolCall(name=call.name, arguments=arguments))
    return fixed if fixed != list(calls) and not validate_calls(fixed, tools) else None


def _fix_object(arguments: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    fixed = {}
    for name, value in arguments.items():
        sub = properties.get(name)
        if not isinstance(sub, Mapping):
            fixed[name] = value
        elif value is None and name not in required and not _takes_null(sub):
            continue  # null for an optional parameter: the same as leaving it out
        else:
            fixed[name] = _fix(value, sub)
    return fixed


def _takes_null(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind is None or kind == "null" or (isinstance(kind, list) and "null" in kind) or None in (
        schema.get("enum") or [])


def _fix(value: Any, schema: Mapping[str, Any]) -> Any:
    kind, allowed = schema.get("type"), schema.get("enum")
    if isinstance(value, dict):
        return _fix_object(value, schema)
    if isinstance(value, list):
        items = schema.get("items")
        return [_fix(v, items) for v in value] if isinstance(items, Mapping) else value
    if isinstance(allowed, list) and value not in allowed:
        same = [m for m in allowed if isinstance(m, str) and isinstance(value, str | int | float)
                and fold(m) == fold(str(value))]
        if len(same) == 1:
            return same[0]
    if isinstance(value, str):
        return _convert(value, kind)
    if kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _convert(text: str, kind: Any) -> Any:
    stripped = text.strip()
    if kind == "integer" and _INTEGER.fullmatch(stripped):
        return int(stripped)
    if kind == "number" and _FLOAT.fullmatch(stripped):
        return int(stripped) if _INTEGER.fullmatch(stripped) else float(stripped)
    if kind == "boolean" and stripped.lower() in ("true", "false"):
        return stripped.lower() == "true"
    return text
