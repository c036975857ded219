"""Model-like answers to BFCL entries, for comparing our checker with the official one.

For each entry: the possible answer rendered as a call (python syntax for python categories, Java /
JavaScript source syntax for those), and corrupted or model-like variants of it, including the
python shapes BFCL's decoder reads beyond literals (positional arguments, bare names, nested calls,
tuples, subscripts, unary operators, `...` and literal arithmetic). Every string here is built by us
from the data, so it is safe to hand to bfcl-eval's python decoder (which runs `eval` on arithmetic);
`is_safe_for_bfcl` double-checks that only literal arithmetic reaches its `eval`.
"""

from __future__ import annotations

import ast
import json
import keyword
import re
from collections.abc import Callable, Iterator
from typing import Any

from funreason.calls import render_calls
from funreason.records import ToolCall

PROSE = [
    "I'm sorry, but none of the provided functions can answer this question.",
    "The question lacks the required parameters. Could you tell me the location?",
    "",
    "[]",
]
BROKEN = ["[get_weather(city='Paris'", '[{"name": "f", "arguments": {}}]', "[f(a=]"]
IDENT = re.compile(r"^[A-Za-z_$][\w$.]*(\(\))?$")


_LITERAL_ARITHMETIC = (
    ast.BinOp, ast.UnaryOp, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.operator, ast.unaryop, ast.expr_context
)


def is_safe_for_bfcl(text: str) -> bool:
    """True unless bfcl-eval's python decoder would `eval` more than arithmetic over literals."""
    try:
        tree = ast.parse(text.strip("`\n ").strip().strip("'"), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda):
            return False
        if isinstance(node, ast.BinOp) and not all(isinstance(n, _LITERAL_ARITHMETIC) for n in ast.walk(node)):
            return False
    return True


def _choose(options: list[Any], pick: str) -> tuple[bool, Any]:
    values = [option for option in options if option != ""]
    if not values or (pick == "first" and "" in options):
        return False, None  # optional: leave it out
    return True, values[0] if pick == "first" else values[-1]


def answer_calls(possible_answer: list[dict[str, Any]], pick: str = "first") -> list[tuple[str, dict]]:
    """The ground truth as (name, arguments), one accepted value per parameter."""
    calls = []
    for call in possible_answer:
        ((name, params),) = call.items()
        args = {}
        for param, options in params.items():
            keep, value = _choose(options, pick)
            if keep:
                args[param] = _nested_pick(value, pick)
        calls.append((name, args))
    return calls


def _nested_pick(value: Any, pick: str) -> Any:
    # Dict values in possible answers hold lists of accepted values for each key.
    if isinstance(value, dict):
        out = {}
        for key, options in value.items():
            keep, inner = _choose(options, pick) if isinstance(options, list) else (True, options)
            if keep:
                out[key] = inner
        return out
    if isinstance(value, list):
        return [_nested_pick(item, pick) for item in value]
    return value


# --- rendering in each language -------------------------------------------------------------------


def render(calls: list[tuple[str, dict]], language: str, functions: list[dict]) -> str:
    if language == "python":
        return render_calls([ToolCall(name=name, arguments=args) for name, args in calls])
    docs = {f["name"]: f["parameters"]["properties"] for f in functions}
    value = _java if language == "java" else _js
    parts = []
    for name, args in calls:
        props = docs.get(name, {})
        text = ", ".join(f"{k}={value(v, props.get(k, {}))}" for k, v in args.items())
        parts.append(f"{name}({text})")
    return "[" + ", ".join(parts) + "]"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _java_plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quote(value)
    return str(value)


def _java(value: Any, prop: dict) -> str:
    kind, items = prop.get("type", "String"), prop.get("items", {}).get("type")
    if isinstance(value, str):
        if kind in ("String", "any", "char") or not IDENT.match(value):
            return _quote(value)
        return value  # a variable name where an object is expected
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "long" and isinstance(value, int):
        return f"{value}L"
    if kind == "float" and isinstance(value, (int, float)):
        return f"{float(value)}f"
    if kind == "double" and isinstance(value, (int, float)):
        return repr(float(value))
    if isinstance(value, dict):
        puts = "".join(f'put("{k}", {_java_plain(v)}); ' for k, v in value.items())
        return "new HashMap<String, Object>() {{ " + puts + "}}"
    if isinstance(value, list):
        elements = ", ".join(
            _java(v, {"type": items or "any"}) if not isinstance(v, str) else _quote(v) for v in value
        )
        if kind == "Array":
            java_type = {"integer": "int", "String": "String", "long": "long", "char": "char"}.get(
                items, "Object"
            )
            return f"new {java_type}[]{{{elements}}}"
        return f"new ArrayList<>(Arrays.asList({elements}))" if value else "new ArrayList<>()"
    return str(value)


def _js(value: Any, prop: dict) -> str:
    kind = prop.get("type", "String")
    if isinstance(value, str):
        if kind in ("String", "any") or not IDENT.match(value):
            return _quote(value)
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "Bigint" and isinstance(value, int):
        return f"{value}n"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_js(v, {'type': 'any'})}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_js(v, {"type": "any"}) for v in value) + "]"
    return str(value)


# --- variants -------------------------------------------------------------------------------------


def _wrong_value(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 7
    if isinstance(value, float):
        return value + 0.37
    if isinstance(value, str):
        return value + " extra"
    if isinstance(value, list):
        return [*value, value[0]] if value else ["x"]
    if isinstance(value, dict):
        return {**value, "unexpected_key": 1}
    return "changed"


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return 12345
    if isinstance(value, list):
        return "not a list"
    return "not a dict"


def _edit(
    calls: list[tuple[str, dict]], change: Callable[[str, dict], tuple[str, dict] | None]
) -> list | None:
    if not calls:
        return None
    result = change(*calls[0])
    return None if result is None else [result, *calls[1:]]


def _first_param(args: dict, change: Callable[[Any], Any]) -> dict | None:
    if not args:
        return None
    key = next(iter(args))
    return {**args, key: change(args[key])}


def _upper(value: Any) -> Any:
    if isinstance(value, str):
        return value.upper().replace(" ", "  ")
    if isinstance(value, list):
        return [_upper(v) for v in value]
    return value


def _float_as_int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def variants(possible_answer: list[dict], language: str, functions: list[dict]) -> Iterator[tuple[str, str]]:
    """(name, answer text) pairs: the ground truth and model-like or corrupted versions of it."""
    truth = answer_calls(possible_answer, "first")
    full = answer_calls(possible_answer, "last")

    def out(name: str, calls: list | None) -> Iterator[tuple[str, str]]:
        if calls is not None:
            yield name, render(calls, language, functions)

    text = render(truth, language, functions)
    yield "truth", text
    yield from out("last_options", full)
    yield from out(
        "wrong_value", _edit(truth, lambda n, a: (n, p) if (p := _first_param(a, _wrong_value)) else None)
    )
    yield from out(
        "wrong_type", _edit(truth, lambda n, a: (n, p) if (p := _first_param(a, _wrong_type)) else None)
    )
    yield from out("missing_param", _edit(full, lambda n, a: (n, dict(list(a.items())[1:])) if a else None))
    yield from out("extra_param", _edit(truth, lambda n, a: (n, {**a, "unexpected_arg": 1})))
    yield from out("wrong_name", _edit(truth, lambda n, a: (n + "_v2", a)))
    yield from out("case_and_spaces", [(n, {k: _upper(v) for k, v in a.items()}) for n, a in truth])
    yield from out("float_as_int", [(n, {k: _float_as_int(v) for k, v in a.items()}) for n, a in truth])
    if len(truth) > 1:
        yield from out("reversed_calls", truth[::-1])
        yield from out("missing_call", truth[:-1])
    yield from out("duplicated_call", [*truth, truth[0]])
    yield "think", f"<think>\nThe user wants {truth[0][0]}; I will call it.\n</think>\n\n{text}"
    yield "unclosed_think", f"<think>\nLet me think about {truth[0][0]}..."
    yield "fence", f"```\n{text}\n```"
    yield "fence_python", f"```python\n{text}\n```"
    yield "no_brackets", text[1:-1]
    yield "truncated", text[: max(1, len(text) // 2)]
    yield "prose_then_call", f"Sure! Here is the call: {text}"
    as_json = json.dumps([{"name": n, "arguments": a} for n, a in truth])
    yield "json_format", as_json
    yield "partial_json", as_json[: len(as_json) // 2]
    yield (
        "hermes",
        "".join(f"<tool_call>\n{json.dumps({'name': n, 'arguments': a})}\n</tool_call>" for n, a in truth),
    )
    if language == "python":
        yield from python_shapes(truth)
    for index, prose in enumerate(PROSE + BROKEN):
        yield f"fixed_{index}", prose


# --- python shapes that BFCL's decoder reads beyond literals --------------------------------------


def _call_text(name: str, pieces: list[str]) -> str:
    return f"{name}({', '.join(pieces)})"


def _keywords(args: dict, value: Callable[[Any], str] = repr) -> list[str]:
    return [f"{key}={value(item)}" for key, item in args.items()]


def _bare(value: Any) -> str:
    # A string that is a python identifier, written as a bare name (BFCL reads it back as the string).
    if isinstance(value, str) and value.isidentifier() and not keyword.iskeyword(value):
        return value
    if isinstance(value, list):
        return "[" + ", ".join(_bare(item) for item in value) + "]"
    return repr(value)


def _arithmetic(value: Any) -> str:
    # The same value written as literal arithmetic: BFCL evaluates it back to the value.
    if isinstance(value, int) and not isinstance(value, bool):
        return f"({value - 1} + 1)"
    if isinstance(value, float):
        return f"({value!r} * 1)"
    if isinstance(value, (str, list)) and len(value) > 1:
        return f"({value[:1]!r} + {value[1:]!r})"
    return repr(value)


def _unary(value: Any) -> str:
    # BFCL negates the operand whatever the operator: `+5` is -5, `not True` is -1.
    if isinstance(value, bool):
        return f"not {value}"
    if isinstance(value, (int, float)):
        return f"+{value!r}"
    return repr(value)


def python_shapes(truth: list[tuple[str, dict]]) -> Iterator[tuple[str, str]]:
    """The ground truth with its first call rewritten in shapes BFCL's python decoder reads."""
    (name, args), rest = truth[0], [_call_text(n, _keywords(a)) for n, a in truth[1:]]

    def shape(label: str, pieces: list[str]) -> tuple[str, str]:
        return label, "[" + ", ".join([_call_text(name, pieces), *rest]) + "]"

    values = [repr(value) for value in args.values()]
    yield shape("positional", values)
    if args:
        yield shape("positional_then_keywords", [values[0], *_keywords(dict(list(args.items())[1:]))])
        first = next(iter(args))
        others = _keywords({k: v for k, v in args.items() if k != first})
        for label, text in [
            ("nested_call", f"{name}_helper({values[0]})"),
            ("nested_call_keywords", f"helper(value={values[0]})"),
            ("subscript", "values[0]"),
            ("ellipsis", "..."),
            ("minus_name", "-x"),
            ("division_by_zero", "1 / 0"),
        ]:
            yield shape(label, [f"{first}={text}", *others])
    for label, value in [("bare_identifiers", _bare), ("arithmetic", _arithmetic), ("unary", _unary)]:
        pieces = _keywords(args, value)
        if pieces != _keywords(args):
            yield shape(label, pieces)
    if any(isinstance(value, list) for value in args.values()):
        yield shape("tuples", _keywords({k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}))
    yield shape("keyword_unpack", [*_keywords(args), "**extra"])


def relevance_variants(functions: list[dict]) -> Iterator[tuple[str, str]]:
    """Answers for the relevance categories: calls, no calls, and things in between."""
    call = [(functions[0]["name"], _dummy_arguments(functions[0]))] if functions else [("f", {})]
    text = render(call, "python", functions)
    yield "call", text
    yield "think_call", f"<think>\nThis needs a tool.\n</think>\n\n{text}"
    yield "fence_call", f"```\n{text}\n```"
    yield "fence_python_call", f"```python\n{text}\n```"
    yield "no_arguments", render([(call[0][0], {})], "python", functions)
    yield from python_shapes(call)
    yield "think_prose", "<think>\nNo tool fits.\n</think>\n\nNone of the functions can help."
    yield "truncated", text[: max(1, len(text) // 2)]
    as_json = json.dumps([{"name": n, "arguments": a} for n, a in call])
    yield "json_format", as_json
    yield "partial_json", as_json[: len(as_json) // 2]
    for index, prose in enumerate(PROSE + BROKEN):
        yield f"fixed_{index}", prose


def _dummy_arguments(function: dict) -> dict:
    props = function["parameters"].get("properties", {})
    dummy = {"string": "x", "integer": 1, "float": 1.5, "boolean": True, "array": [], "dict": {}, "tuple": []}
    return {
        name: dummy.get(props[name].get("type"), "x")
        for name in function["parameters"].get("required", [])
        if name in props
    }
