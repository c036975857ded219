"""Parse and render function calls: BFCL python syntax, JSON, and Hermes/Qwen `<tool_call>` blocks.

This is the only module that reads or prints calls. Parsing walks `ast` nodes (python syntax) or
decoded JSON and accepts literals only: nothing is ever evaluated. Printing is canonical, so for
every syntax `render_calls(parse_calls(s))` is a fixed point and `parse_calls(render_calls(calls))
== calls` for JSON-compatible arguments (None, bool, int, finite float, str, list, str-keyed dict).
"""

from __future__ import annotations

import ast
import json
import keyword
import math
import re
import unicodedata
import warnings
from collections.abc import Sequence
from typing import Any, Literal

from funreason.records import ToolCall

Syntax = Literal["python", "json", "hermes"]
SYNTAXES: tuple[Syntax, ...] = ("python", "json", "hermes")

MAX_CHARS = 1_000_000  # a longer "call list" is garbage; bounding it bounds parser time and memory
MAX_DEPTH = 64  # nesting of argument values; deeper is pathological and would risk RecursionError

_FENCE_OPEN = re.compile(r"\A```(?:[\w+-]*[ \t]*\n)?")
_TOOL_CALL = re.compile(r"<tool_call>(.*?)(?:</tool_call>|\Z)", re.DOTALL)
_JSON_START = re.compile(r"\{|\[\s*\{")


class CallParseError(ValueError):
    """Text that is not a call list in the expected syntax; the message names the offending piece."""


# --- parsing ---------------------------------------------------------------------------------------


def parse_calls(text: str, syntax: Syntax | Literal["auto"] = "auto") -> list[ToolCall]:
    """Parse model output or a stored answer into calls; raise `CallParseError` if it is not one.

    python: `[f(a=1, b='x'), pkg.g(c=[1, 2])]`, keyword arguments only; the outer brackets may be
        missing and the list may sit in a markdown code fence.
    json: `[{"name": ..., "arguments": {...}}]` or one such object; `"parameters"` is accepted for
        `"arguments"`, arguments may be a JSON-encoded string, and OpenAI's `{"function": {...}}`
        wrapper is unwrapped.
    hermes: one or several `<tool_call>{json}</tool_call>` blocks, each holding one call object or a
        list of them; text outside the blocks is ignored, blank text is no calls (`[]`).
    auto: text starting with `{` or `[{` is json; otherwise `<tool_call>` means hermes; otherwise
        python. If that fails the other syntaxes are tried, and the first one's error is raised.
    Tuples become lists. Never evaluates code.
    """
    if not isinstance(text, str):
        raise CallParseError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise CallParseError(f"text is {len(text)} characters, more than the {MAX_CHARS} allowed")
    if syntax == "auto":
        return _parse_auto(text)
    if syntax not in _PARSERS:
        raise ValueError(f"unknown call syntax {syntax!r}; use one of {', '.join(SYNTAXES)} or auto")
    return _PARSERS[syntax](text)


def _parse_auto(text: str) -> list[ToolCall]:
    body = _strip_fence(text)
    if not body:
        raise CallParseError("empty text: no calls")
    if _JSON_START.match(body):
        first: Syntax = "json"
    elif "<tool_call>" in text and not body.startswith("["):
        first = "hermes"
    else:
        first = "python"
    try:
        return _PARSERS[first](text)
    except CallParseError as error:
        for other in SYNTAXES:
            if other != first:
                try:
                    return _PARSERS[other](text)
                except CallParseError:
                    pass
        raise error from None


def _strip_fence(text: str) -> str:
    """Drop surrounding whitespace and one enclosing ```lang ... ``` markdown fence."""
    text = text.strip()
    if text.startswith("```"):
        text = _FENCE_OPEN.sub("", text)
        text = text[:-3] if text.endswith("```") else text
    return text.strip()


def _parse_python(text: str) -> list[ToolCall]:
    return [ToolCall(name=name, arguments=arguments) for name, arguments in parse_python_calls(text)]


def parse_python_calls(text: str) -> list[tuple[str, dict[str, Any]]]:
    """`parse_calls(text, "python")` as `(name, arguments)` pairs, without building `ToolCall`s.

    For hot loops that only read the calls (the BFCL checker); same errors as `parse_calls`.
    """
    source = _strip_fence(text)
    if not source:
        raise CallParseError("empty text: expected a list of calls like [f(a=1)]")
    try:
        tree = _ast_parse(source)
    except CallParseError:
        # Models drop one of the outer brackets; BFCL's decoder adds it back, so do we.
        if source.startswith("[") == source.endswith("]"):
            raise
        source = source + "]" if source.startswith("[") else "[" + source
        tree = _ast_parse(source)
    body = tree.body
    if not isinstance(body, (ast.Call, ast.List, ast.Tuple)):
        raise CallParseError(f"expected a list of calls like [f(a=1)], got {_describe(body, source)}")
    nodes = [body] if isinstance(body, ast.Call) else body.elts
    for index, node in enumerate(nodes):
        if not isinstance(node, ast.Call):
            raise CallParseError(f"item {index} is not a function call: {_describe(node, source)}")
    return [_python_call(node, source) for node in nodes]


# The parser warns on invalid escapes ('\d') and on a number run into a name (`1if`, `0x1for`);
# both need a backslash or an ASCII digit followed by a letter. Silencing warnings costs as much as
# reading the calls, so it is only paid when one of them is there.
_DIGIT_LETTER = re.compile(r"[0-9][A-Za-z_]")


def _ast_parse(source: str) -> ast.Expression:
    try:
        if "\\" not in source and not _DIGIT_LETTER.search(source):
            return ast.parse(source, mode="eval")
        with warnings.catch_warnings():  # the string is still read, as python reads it
            warnings.simplefilter("ignore")
            return ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise CallParseError(f"not python call syntax: {exc.msg} (column {exc.offset})") from None
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes, too deep or too long
        raise CallParseError(f"not python call syntax: {type(exc).__name__} {exc}".strip()) from None


def _python_call(node: ast.Call, source: str) -> tuple[str, dict[str, Any]]:
    name = _dotted_name(node.func)
    if name is None:
        raise CallParseError(f"function name must be a dotted name, got {_describe(node.func, source)}")
    keyword_only = "; arguments are keyword-only: give each as name=value"
    if node.args:
        # At most three are quoted: each quote reads the whole source, so quoting all would take
        # time quadratic in the answer (`f(1,1,1,...)` of 64 KB took minutes).
        pieces = ", ".join(f"`{_segment(arg, source)}`" for arg in node.args[:3])
        more = f" and {len(node.args) - 3} more" if len(node.args) > 3 else ""
        raise CallParseError(f"{name}: positional argument {pieces}{more}{keyword_only}")
    arguments: dict[str, Any] = {}
    for kw in node.keywords:
        if kw.arg is None:
            raise CallParseError(f"{name}: `**{_segment(kw.value, source)}` is not allowed{keyword_only}")
        if kw.arg in arguments:
            raise CallParseError(f"{name}: argument '{kw.arg}' is given twice")
        arguments[kw.arg] = _literal(kw.value, source, f"argument '{kw.arg}' of {name}", 0)
    return name, arguments


def _dotted_name(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def _literal(node: ast.expr, source: str, where: str, depth: int) -> Any:
    """The JSON-compatible value of a literal node; anything else is a CallParseError."""
    if depth > MAX_DEPTH:
        raise CallParseError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, ast.Constant):  # the common case first: one type test per leaf
        kind = type(node.value)
        if kind is str or kind is int or kind is bool or node.value is None:
            return node.value
    negative, number = False, node
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        negative, number = isinstance(node.op, ast.USub), node.operand
    if isinstance(number, ast.Constant) and type(number.value) in (int, float):
        value = -number.value if negative else number.value
        if isinstance(value, float) and not math.isfinite(value):
            raise CallParseError(f"{where}: {_segment(node, source)} is not a finite number")
        return value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item, source, where, depth + 1) for item in node.elts]
    if isinstance(node, ast.Dict):
        result = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                piece = f"**{_segment(value, source)}" if key is None else _segment(key, source)
                raise CallParseError(f"{where}: dict key `{piece}` is not a string")
            result[key.value] = _literal(value, source, where, depth + 1)
        return result
    raise CallParseError(f"{where}: {_describe(node, source)} is not a literal")


def _segment(node: ast.AST, source: str) -> str:
    text = ast.get_source_segment(source, node) or ast.dump(node)
    return text if len(text) <= 80 else text[:77] + "..."


def _describe(node: ast.AST, source: str) -> str:
    kind = type(node.value).__name__ if isinstance(node, ast.Constant) else type(node).__name__
    return f"{kind} `{_segment(node, source)}`"


def _parse_json(text: str) -> list[ToolCall]:
    value = _load_json(_strip_fence(text), "call list")
    items = value if isinstance(value, list) else [value]
    return [_json_call(item, index) for index, item in enumerate(items)]


def _parse_hermes(text: str) -> list[ToolCall]:
    blocks = _TOOL_CALL.findall(text)
    if not blocks and text.strip():
        raise CallParseError("no <tool_call> block found")
    calls = []
    for number, block in enumerate(blocks, start=1):
        try:
            calls.extend(_parse_json(block))
        except CallParseError as exc:
            raise CallParseError(f"<tool_call> block {number}: {exc}") from None
    return calls


def _load_json(text: str, what: str) -> Any:
    try:
        return json.loads(text, parse_constant=_finite, parse_float=_finite, object_pairs_hook=_unique_keys)
    except CallParseError:
        raise
    except json.JSONDecodeError as exc:
        try:  # models also print python-style dicts: {'name': 'f', 'arguments': {'a': True}}
            return _literal(_ast_parse(text).body, text, what, 0)
        except CallParseError:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise CallParseError(f"{what} is not JSON: {exc.msg} ({where})") from None
    except (ValueError, RecursionError) as exc:  # huge ints, deep nesting
        raise CallParseError(f"{what} is not usable JSON: {type(exc).__name__} {exc}".strip()) from None


def _finite(text: str) -> float:
    """JSON number hook: NaN, Infinity and overflowing literals like 1e999 have no BFCL meaning."""
    value = float(text)
    if not math.isfinite(value):
        raise CallParseError(f"{text} is not a finite number")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise CallParseError(f"key '{key}' is given twice")
        seen.add(key)
    return dict(pairs)


def _json_call(item: Any, index: int) -> ToolCall:
    if isinstance(item, dict) and "name" not in item and isinstance(item.get("function"), dict):
        item = item["function"]  # OpenAI tool_calls: {"id", "type": "function", "function": {...}}
    if not isinstance(item, dict):
        raise CallParseError(f"call {index} is a {type(item).__name__}, not an object with a name")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise CallParseError(f"call {index} has no 'name' string")
    if "arguments" in item and "parameters" in item:
        raise CallParseError(f"{name}: both 'arguments' and 'parameters' are given")
    arguments = item.get("arguments", item.get("parameters", {}))
    if isinstance(arguments, str):
        arguments = _load_json(arguments, f"arguments of {name}") if arguments.strip() else {}
    if not isinstance(arguments, dict):
        raise CallParseError(f"arguments of {name} must be an object, got {type(arguments).__name__}")
    try:
        _check_value(arguments, f"arguments of {name}", 0)
    except ValueError as exc:
        raise CallParseError(str(exc)) from None
    return ToolCall(name=name, arguments=arguments)


_PARSERS = {"python": _parse_python, "json": _parse_json, "hermes": _parse_hermes}


# --- rendering -------------------------------------------------------------------------------------


def writable_syntax(calls: Sequence[ToolCall], preferred: Syntax = "python") -> Syntax:
    """The syntax `calls` are written in: `preferred`, or JSON where python cannot write a name.

    Python syntax needs identifiers that are not keywords (dotted for function names); a call with
    an argument named `from`, `class` or `a b`, or a function named `get-weather`, is still a valid
    call, and JSON carries it (BFCL's python decoder could not read it either). JSON and Hermes
    carry any name, so they are kept as asked. Values are not looked at: what no syntax carries
    (NaN, non-string dict keys) is `render_calls`' error in every syntax.
    """
    if preferred not in SYNTAXES:
        raise ValueError(f"unknown call syntax {preferred!r}; use one of {', '.join(SYNTAXES)}")
    if preferred == "python" and not all(_python_names(call) for call in calls):
        return "json"
    return preferred


def render_calls(calls: Sequence[ToolCall], syntax: Syntax = "python") -> str:
    """Print calls canonically in `syntax`; raise ValueError for what that syntax cannot carry.

    python: `[f(a=1, b='x')]` with repr-style literals, arguments in stored order; `[]` for none.
    json: `[{"name": ..., "arguments": {...}}]` (json.dumps, ensure_ascii=False).
    hermes: one `<tool_call>\\n{json}\\n</tool_call>` block per call, joined by newlines; "" for none.
    NaN/infinity, non-string dict keys and non-JSON types are rejected; in python syntax names and
    argument names must also be identifiers (dotted for function names): render in
    `writable_syntax(calls, syntax)` to write any valid call.
    """
    for call in calls:
        _check_value(call.arguments, f"arguments of {call.name}", 0)
    if syntax == "python":
        return "[" + ", ".join(_python_text(call) for call in calls) + "]"
    objects = [{"name": call.name, "arguments": call.arguments} for call in calls]
    if syntax == "json":
        return _json_text(objects)
    if syntax == "hermes":
        # "</" cannot be written raw inside a block: a string holding "</tool_call>" would end it.
        blocks = (_json_text(obj).replace("</", "<\\/") for obj in objects)
        return "\n".join(f"<tool_call>\n{block}\n</tool_call>" for block in blocks)
    raise ValueError(f"unknown call syntax {syntax!r}; use one of {', '.join(SYNTAXES)}")


def _check_value(value: Any, where: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValueError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: {value} is not representable; use a finite number or a string")
    if isinstance(value, (list, tuple)):
        for item in value:
            _check_value(item, where, depth + 1)
    elif isinstance(value, dict):
        for key, item in value.items():
            if type(key) is not str:
                raise ValueError(f"{where}: dict key {key!r} is not a string")
            _check_value(item, where, depth + 1)
    elif value is not None and type(value) not in (bool, int, float, str):
        raise ValueError(f"{where}: {type(value).__name__} value {value!r} is not JSON-compatible")


def _python_text(call: ToolCall) -> str:
    if not _is_identifier(call.name, dotted=True):
        raise ValueError(f"function name {call.name!r} cannot be written in python syntax; use json or hermes")
    for name in call.arguments:
        if not _is_identifier(name, dotted=False):
            raise ValueError(
                f"argument name of {call.name} {name!r} cannot be written in python syntax; use json or hermes"
            )
    arguments = ", ".join(f"{name}={_python_value(value)}" for name, value in call.arguments.items())
    return f"{call.name}({arguments})"


def _python_names(call: ToolCall) -> bool:
    """Whether python syntax can write the call's function name and every argument name."""
    if not _is_identifier(call.name, dotted=True):
        return False
    return all(_is_identifier(name, dotted=False) for name in call.arguments)


def _is_identifier(name: str, dotted: bool) -> bool:
    # Python reads identifiers NFKC-normalised, so a name that changes under NFKC cannot round trip.
    return all(
        part.isidentifier() and not keyword.iskeyword(part) and unicodedata.normalize("NFKC", part) == part
        for part in (name.split(".") if dotted else [name])
    )


def _python_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_python_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {_python_value(item)}" for key, item in value.items()) + "}"
    return repr(value)


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


# --- reasoning and the assistant turn --------------------------------------------------------------


def split_think(text: str) -> tuple[str, str]:
    """Split an assistant turn into `(reasoning, rest)`, both stripped, tags removed.

    `<think>r</think>rest` gives (r, rest); `<think>r` with no closing tag gives (r, "") (text before
    `<think>` stays in rest); `r</think>rest` without an opening tag (Qwen3 templates put `<think>`
    in the prompt) gives (r, rest); text with neither tag gives ("", text).
    """
    start, end = text.find("<think>"), text.find("</think>")
    if start == -1 or (end != -1 and end < start):
        if end == -1:
            return "", text.strip()
        return text[:end].strip(), text[end + len("</think>") :].strip()
    before, inside = text[:start], text[start + len("<think>") :]
    end = inside.find("</think>")
    if end == -1:
        return inside.strip(), before.strip()
    return inside[:end].strip(), (before + inside[end + len("</think>") :]).strip()


def format_turn(reasoning: str, answer: Sequence[ToolCall] | str, syntax: Syntax = "python") -> str:
    """The assistant turn as trained: `<think>\\n{reasoning}\\n</think>\\n\\n{answer}`.

    `answer` is rendered with `render_calls(answer, writable_syntax(answer, syntax))` unless it is a
    statement string: calls python cannot write come out in JSON. With empty reasoning the turn is
    the answer alone (no think segment). `split_think` inverts this:
    `split_think(format_turn(r, a)) == (r.strip(), rendered a.strip())`.
    """
    body = answer if isinstance(answer, str) else render_calls(answer, writable_syntax(answer, syntax))
    reasoning = reasoning.strip()
    if "<think>" in reasoning or "</think>" in reasoning:
        raise ValueError("reasoning must not contain <think> or </think>; pass the text between them")
    if not reasoning:
        return body
    return f"<think>\n{reasoning}\n</think>\n\n{body}"


def find_tags(text: str, name: str) -> list[tuple[int, int, str]]:
    """`(start, end, content)` of each `<name>content</name>` in `text`, tag names in any case.

    The same blocks as `re.findall(r"<name>(.*?)</name>", text, re.S | re.I)` finds, in time linear
    in the text: that pattern rescans the rest of the text from every opening tag that has no
    closing one, so a reply of many `<judge>` tags took time quadratic in its length.
    """
    tags = re.finditer(rf"<(/?){re.escape(name)}>", text, re.I)
    found, start, inner = [], -1, -1
    for tag in tags:
        if not tag.group(1) and start < 0:
            start, inner = tag.start(), tag.end()
        elif tag.group(1) and start >= 0:
            found.append((start, tag.end(), text[inner : tag.start()]))
            start = -1
    return found


def drop_tags(text: str, name: str) -> str:
    """`text` with every block `find_tags` finds replaced by one space."""
    pieces, last = [], 0
    for start, end, _ in find_tags(text, name):
        pieces.append(text[last:start])
        last = end
    return " ".join([*pieces, text[last:]])
