import json
import keyword
import re
import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funreason.calls import (
    MAX_CHARS,
    SYNTAXES,
    CallParseError,
    drop_tags,
    find_tags,
    format_turn,
    parse_calls,
    render_calls,
    split_think,
    writable_syntax,
)
from funreason.records import ToolCall

FAST = settings(max_examples=200, deadline=None)


def call(name: str, **arguments) -> ToolCall:
    return ToolCall(name=name, arguments=arguments)


# --- python syntax -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[f(a=1, b='x')]", [call("f", a=1, b="x")]),
        (
            "[f(a=1, b='x'), g(c=[1, 2], d={'k': None})]",
            [call("f", a=1, b="x"), call("g", c=[1, 2], d={"k": None})],
        ),
        ("[math.factorial(number=5)]", [call("math.factorial", number=5)]),
        ("[a.b.c(x=True, y=False, z=None)]", [call("a.b.c", x=True, y=False, z=None)]),
        (
            "[f(a=-3, b=-0.5, c=1e-3, d=+2, e=2.0, f=1E6)]",
            [call("f", a=-3, b=-0.5, c=0.001, d=2, e=2.0, f=1e6)],
        ),
        ("[f(t=(1, 2), n=((1,), [()]))]", [call("f", t=[1, 2], n=[[1], [[]]])]),
        ("[f(d={'a': {'b': [1, {'c': 'd'}]}})]", [call("f", d={"a": {"b": [1, {"c": "d"}]}})]),
        ("[f()]", [call("f")]),
        ("[]", []),
        ("[f(s='it\\'s'), g(s=\"a\\nb\\t\\\\\")]", [call("f", s="it's"), call("g", s="a\nb\t\\")]),
        ("[f(s='café ☕ \\u00e9 \\N{EM DASH}')]", [call("f", s="café ☕ é \u2014")]),
        ("[f(s='a' 'b')]", [call("f", s="ab")]),
        ("[f(s=r'\\d+')]", [call("f", s="\\d+")]),
        ("[f(s='\\d')]", [call("f", s="\\d")]),  # an invalid escape still reads as python would
        ("[f(n=123456789012345678901234567890)]", [call("f", n=123456789012345678901234567890)]),
    ],
)
def test_python_syntax(text, expected):
    assert parse_calls(text, "python") == expected
    assert parse_calls(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "  \n[f(a=1), g(b='x')]\n\n",
        "f(a=1), g(b='x')",
        "[f(a=1), g(b='x')",
        "f(a=1), g(b='x')]",
        "(f(a=1), g(b='x'))",
        "```python\n[f(a=1), g(b='x')]\n```",
        "```py\nf(a=1), g(b='x')\n```",
        "```\n[f(a=1), g(b='x')]\n```",
        "```[f(a=1), g(b='x')]```",
        "```python\n[f(a=1), g(b='x')]",
        "[\n    f(\n        a=1,\n    ),\n    g(b='x'),\n]",
    ],
)
def test_python_tolerates_messy_output(text):
    expected = [call("f", a=1), call("g", b="x")]
    assert parse_calls(text, "python") == expected
    assert parse_calls(text) == expected
    assert render_calls(parse_calls(text)) == "[f(a=1), g(b='x')]"


def test_single_call_without_brackets():
    assert parse_calls("math.hypot(x=4, y=5)") == [call("math.hypot", x=4, y=5)]


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("[f(1)]", ["f", "positional", "`1`"]),
        ("[f(1, 'x', a=2)]", ["positional", "`1`", "`'x'`"]),
        ("[f(*args)]", ["`*args`"]),
        ("[f(**kw)]", ["`**kw`"]),
        ("[f(a=1+2)]", ["argument 'a' of f", "BinOp", "`1+2`"]),
        ("[f(a=__import__('os').system('ls'))]", ["Call", "__import__('os')"]),
        ("[f(a=x)]", ["Name", "`x`"]),
        ("[f(a=true)]", ["Name", "`true`"]),
        ("[f(a=lambda: 0)]", ["Lambda", "lambda: 0"]),
        ("[f(a=f'{x}')]", ["JoinedStr", "f'{x}'"]),
        ("[f(a=os.path)]", ["Attribute", "`os.path`"]),
        ("[f(a={1, 2})]", ["Set", "{1, 2}"]),
        ("[f(a=[1, y])]", ["argument 'a' of f", "Name", "`y`"]),
        ("[f(a={'k': v})]", ["Name", "`v`"]),
        ("[f(a={**d})]", ["dict key", "`**d`"]),
        ("[f(a={1: 'x'})]", ["dict key", "`1`", "not a string"]),
        ("[f(a=b'x')]", ["bytes", "b'x'"]),
        ("[f(a=...)]", ["ellipsis", "..."]),
        ("[f(a=1j)]", ["complex", "1j"]),
        ("[f(a=-x)]", ["UnaryOp", "`-x`"]),
        ("[f(a=--1)]", ["UnaryOp", "`--1`"]),
        ("[f(a=-True)]", ["UnaryOp", "`-True`"]),
        ("[f(a=not True)]", ["UnaryOp", "not True"]),
        ("[f(a=x[0])]", ["Subscript", "x[0]"]),
        ("[f(a=(x := 1))]", ["NamedExpr", "x := 1"]),
        ("[f(a=[i for i in y])]", ["ListComp"]),
        ("[f(a=1 if c else 2)]", ["IfExp"]),
        ("[f(a=1e999)]", ["1e999", "finite"]),
        ("[f(a=-1e999)]", ["-1e999", "finite"]),
        ("[f(a=1, a=2)]", ["'a' is given twice"]),
        ("[1, f(a=1)]", ["item 0", "not a function call", "int `1`"]),
        ("[f(a=1), 'g']", ["item 1", "str"]),
        ("[f(a=1) + g(b=2)]", ["item 0", "BinOp"]),
        ("[f()(a=1)]", ["function name", "Call `f()`"]),
        ("[x[0](a=1)]", ["function name", "Subscript"]),
        ("[f(a=1)][0]", ["expected a list of calls", "Subscript"]),
        ("f", ["expected a list of calls", "Name `f`"]),
        ("[f(a=1)", []),  # fixed by adding the bracket: not an error
        ("[f(a=1", ["not python call syntax"]),
        ("", ["empty"]),
        ("   \n ", ["empty"]),
    ],
)
def test_python_rejects_non_literals_naming_the_piece(text, pieces):
    if not pieces:
        assert parse_calls(text, "python")
        return
    with pytest.raises(CallParseError) as caught:
        parse_calls(text, "python")
    for piece in pieces:
        assert piece in str(caught.value)


def test_parsing_never_evaluates(tmp_path):
    target = tmp_path / "pwned"
    for text in (
        f"[f(a=open({str(target)!r}, 'w').write('x'))]",
        f"f(a=__import__('pathlib').Path({str(target)!r}).touch())",
        f"[{{'name': 'f', 'arguments': {{'a': open({str(target)!r}, 'w')}}}}]",
    ):
        with pytest.raises(CallParseError):
            parse_calls(text)
    assert not target.exists()


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "[" * 150 + "]" * 150,
        "[f(a=" + "[" * 150 + "]" * 150 + ")]",
        "-" * 100_000 + "1",
        "[f(a=" + "-" * 100_000 + "1)]",
        "1+" * 100_000 + "1",
        "[f(a=" + "1+" * 100_000 + "1)]",
        "a." * 100_000 + "f(x=1)",
        "[f(a=" + "1" * 5000 + ")]",
        "[f(a='x\x00')]",
        "[f(a=1)]" + " " * MAX_CHARS,
        '[{"name": "f", "arguments": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}]",
        '[{"name": "f", "arguments": {"a": ' + "[" * 100 + "]" * 100 + "}}]",
        '{"name": "f", "arguments": {"a": ' + "1" * 5000 + "}}",
        "<tool_call>" + "[" * 100_000 + "</tool_call>",
    ],
)
def test_pathological_input_is_a_parse_error(text):
    for syntax in (*SYNTAXES, "auto"):
        with pytest.raises(CallParseError):
            parse_calls(text, syntax)


# --- json and hermes ----------------------------------------------------------------------------------

F = call("f", a=1, b=[1.5, None])


@pytest.mark.parametrize(
    "text",
    [
        '[{"name": "f", "arguments": {"a": 1, "b": [1.5, null]}}]',
        '{"name": "f", "arguments": {"a": 1, "b": [1.5, null]}}',
        '[{"name": "f", "parameters": {"a": 1, "b": [1.5, null]}}]',
        '[{"name": "f", "arguments": "{\\"a\\": 1, \\"b\\": [1.5, null]}"}]',
        '[{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\\"a\\": 1, \\"b\\": [1.5, null]}"}}]',
        '```json\n[{"name": "f", "arguments": {"a": 1, "b": [1.5, null]}}]\n```',
        '  [ {"name":"f","arguments":{"a":1,"b":[1.5,null]}} ]  ',
        "[{'name': 'f', 'arguments': {'a': 1, 'b': [1.5, None]}}]",
    ],
)
def test_json_syntax(text):
    assert parse_calls(text, "json") == [F]
    assert parse_calls(text) == [F]


def test_json_without_arguments_is_a_call_with_none():
    assert parse_calls('[{"name": "f"}, {"name": "g", "arguments": ""}]') == [call("f"), call("g")]
    assert parse_calls("[]", "json") == []


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ('[{"name": "f", "arguments": {"a": NaN}}]', ["NaN", "finite"]),
        ('[{"name": "f", "arguments": {"a": -Infinity}}]', ["-Infinity", "finite"]),
        ('[{"name": "f", "arguments": {"a": 1e999}}]', ["1e999", "finite"]),
        ('[{"name": "f", "arguments": {"a": 1, "a": 2}}]', ["'a' is given twice"]),
        ('[{"name": "f", "arguments": [1]}]', ["arguments of f", "list"]),
        ('[{"name": "f", "arguments": "[1]"}]', ["arguments of f", "list"]),
        ('[{"name": "f", "arguments": "{oops"}]', ["arguments of f", "not JSON"]),
        ('[{"name": "f", "arguments": {}, "parameters": {}}]', ["both"]),
        ('[{"arguments": {}}]', ["call 0", "name"]),
        ('[{"name": 3}]', ["call 0", "name"]),
        ('[{"name": ""}]', ["call 0", "name"]),
        ('[{"name": "f"}, 3]', ["call 1", "int"]),
        ('[{"name": "f", "arguments": {"a": 1}', ["not JSON", "line 1"]),
    ],
)
def test_json_rejects_naming_the_piece(text, pieces):
    with pytest.raises(CallParseError) as caught:
        parse_calls(text, "json")
    for piece in pieces:
        assert piece in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>', [call("f", a=1)]),
        (
            '<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>\n'
            '<tool_call>\n[{"name": "g", "arguments": {}}, {"name": "h", "arguments": {"x": "y"}}]\n</tool_call>',
            [call("f", a=1), call("g"), call("h", x="y")],
        ),
        (
            'I will call it.\n<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>\n',
            [call("f", a=1)],
        ),
        ('<tool_call>\n{"name": "f", "arguments": {"a": 1}}', [call("f", a=1)]),  # stopped before the tag
        ('<tool_call>\n{"name": "f", "arguments": "{\\"a\\": 1}"}\n</tool_call>', [call("f", a=1)]),
    ],
)
def test_hermes_syntax(text, expected):
    assert parse_calls(text, "hermes") == expected
    assert parse_calls(text) == expected


def test_hermes_errors_and_blank():
    assert parse_calls("", "hermes") == [] == parse_calls(" \n", "hermes")
    with pytest.raises(CallParseError, match="no <tool_call> block"):
        parse_calls("just some words", "hermes")
    with pytest.raises(CallParseError, match="block 2: .*not JSON"):
        parse_calls('<tool_call>{"name": "f"}</tool_call><tool_call>{nope}</tool_call>', "hermes")
    with pytest.raises(CallParseError, match="block 1"):
        parse_calls("<tool_call></tool_call>", "hermes")


# --- auto detection -----------------------------------------------------------------------------------


def test_auto_detection_and_fallback():
    inner = call("f", a="<tool_call>", b="</tool_call>")
    for syntax in SYNTAXES:  # a tag inside an argument does not fool the detector
        assert parse_calls(render_calls([inner], syntax)) == [inner]
    assert parse_calls("f(a='<tool_call>')") == [call("f", a="<tool_call>")]  # hermes fails, python wins
    with pytest.raises(CallParseError, match="empty"):
        parse_calls("  ")
    with pytest.raises(CallParseError, match="Name `hello`"):  # the detected syntax's error is reported
        parse_calls("hello")
    with pytest.raises(CallParseError, match="not JSON"):
        parse_calls('{"name": "f", ')
    with pytest.raises(ValueError, match="unknown call syntax"):
        parse_calls("[]", "yaml")  # type: ignore[arg-type]


# --- rendering ----------------------------------------------------------------------------------------

CALLS = [call("f", a=1, b="x"), call("pkg.g", c=[1, 2.5, -0.0], d={"k": None, "t": True, "é": "caf\u00e9\n"})]


def test_render_python_is_canonical():
    assert render_calls(CALLS) == (
        "[f(a=1, b='x'), pkg.g(c=[1, 2.5, -0.0], d={'k': None, 't': True, 'é': 'café\\n'})]"
    )
    assert render_calls([call("f", z=1, a=2)]) == "[f(z=1, a=2)]"  # stored order is kept
    assert render_calls([call("f", s='it\'s "q"')]) == "[f(s='it\\'s \"q\"')]"
    assert render_calls([call("f", x=1e16, y=1e-7, z=0.1)]) == "[f(x=1e+16, y=1e-07, z=0.1)]"
    assert render_calls([]) == "[]"


def test_render_json_and_hermes_are_canonical():
    assert render_calls(CALLS[:1], "json") == '[{"name": "f", "arguments": {"a": 1, "b": "x"}}]'
    assert render_calls([call("f", s="é</tool_call>")], "hermes") == (
        '<tool_call>\n{"name": "f", "arguments": {"s": "é<\\/tool_call>"}}\n</tool_call>'
    )
    assert render_calls(CALLS, "hermes").count("<tool_call>\n") == 2
    assert render_calls([], "json") == "[]"
    assert render_calls([], "hermes") == ""


@pytest.mark.parametrize(
    ("arguments", "piece"),
    [
        ({"a": float("nan")}, "nan"),
        ({"a": [float("inf")]}, "inf"),
        ({"a": {1: "x"}}, "dict key 1"),
        ({"a": {1, 2}}, "set"),
        ({"a": b"x"}, "bytes"),
        ({"a": object()}, "object"),
    ],
)
def test_render_rejects_what_no_syntax_carries(arguments, piece):
    for syntax in SYNTAXES:
        with pytest.raises(ValueError, match=piece):
            render_calls([ToolCall(name="f", arguments=arguments)], syntax)


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("my-func", {}),
        ("class", {}),
        ("a..b", {}),
        ("a.", {}),
        ("ﬁ", {}),
        ("f", {"from": 1}),
        ("f", {"a b": 1}),
    ],
)
def test_python_render_rejects_names_it_cannot_write(name, arguments):
    calls = [ToolCall(name=name, arguments=arguments)]
    with pytest.raises(ValueError, match="cannot be written in python syntax"):
        render_calls(calls)
    for syntax in ("json", "hermes"):  # the JSON syntaxes carry any name
        assert parse_calls(render_calls(calls, syntax), syntax) == calls
        assert writable_syntax(calls, syntax) == syntax
    assert writable_syntax(calls) == writable_syntax([call("f", a=1), *calls], "python") == "json"


def test_writable_syntax_keeps_python_where_it_can_and_knows_the_syntaxes():
    assert writable_syntax([call("pkg.f", from_=1, klass="x")]) == "python"
    assert writable_syntax([]) == "python"
    assert writable_syntax([call("f", a=float("nan"))]) == "python"  # values are render_calls' business
    with pytest.raises(ValueError, match="unknown call syntax 'yaml'"):
        writable_syntax([], "yaml")  # type: ignore[arg-type]


def test_format_turn_writes_calls_python_cannot_in_json():
    calls = [ToolCall(name="book", arguments={"from": "Oslo", "class": "economy"})]
    assert format_turn("plan", calls) == (
        '<think>\nplan\n</think>\n\n[{"name": "book", "arguments": {"from": "Oslo", "class": "economy"}}]'
    )
    assert format_turn("", calls, "hermes") == render_calls(calls, "hermes")  # a chosen JSON syntax is kept


@pytest.mark.parametrize(
    "text",
    [
        '  f(a=(1, 2), b=+3, c="x")  ',
        '```json\n{"name": "f", "parameters": "{\\"a\\": [1, 2], \\"b\\": 3, \\"c\\": \\"x\\"}"}\n```',
        "<tool_call>\n{'name': 'f', 'arguments': {'a': (1, 2), 'b': 3, 'c': 'x'}}",
    ],
)
def test_render_of_parse_is_a_fixed_point(text):
    calls = parse_calls(text)
    assert calls == [call("f", a=[1, 2], b=3, c="x")]
    for syntax in SYNTAXES:
        rendered = render_calls(calls, syntax)
        assert render_calls(parse_calls(rendered, syntax), syntax) == rendered


# --- think blocks and the assistant turn ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>\nplan it\n</think>\n\n[f(a=1)]", ("plan it", "[f(a=1)]")),
        ("  <think>plan</think>[f(a=1)]  ", ("plan", "[f(a=1)]")),
        ("<think>\nstill thinking when cut off", ("still thinking when cut off", "")),
        ("plan it\n</think>\n\n[f(a=1)]", ("plan it", "[f(a=1)]")),  # Qwen3: <think> was in the prompt
        ("</think>\n\n[f(a=1)]", ("", "[f(a=1)]")),
        ("<think>\n\n</think>\n\nHello.", ("", "Hello.")),
        ("  [f(a=1)]\n", ("", "[f(a=1)]")),
        ("", ("", "")),
        ("Sure. <think>x</think> [f()]", ("x", "Sure.  [f()]")),
        ("<think>a</think>b</think>c", ("a", "b</think>c")),
    ],
)
def test_split_think(text, expected):
    assert split_think(text) == expected


def test_format_turn():
    calls = [call("f", a=1)]
    assert format_turn("plan it", calls) == "<think>\nplan it\n</think>\n\n[f(a=1)]"
    assert format_turn("\n plan it \n", calls, "json") == (
        '<think>\nplan it\n</think>\n\n[{"name": "f", "arguments": {"a": 1}}]'
    )
    assert format_turn("", calls) == "[f(a=1)]"  # no reasoning: no think segment
    assert format_turn("no tool fits", "I cannot help with that.") == (
        "<think>\nno tool fits\n</think>\n\nI cannot help with that."
    )
    with pytest.raises(ValueError, match="must not contain"):
        format_turn("a </think> b", calls)


# --- properties ---------------------------------------------------------------------------------------

_WORD = string.ascii_letters + string.digits + "_"
identifiers = st.builds(
    str.__add__, st.sampled_from(string.ascii_letters + "_"), st.text(alphabet=_WORD, max_size=6)
).filter(lambda s: not keyword.iskeyword(s))
names = st.lists(identifiers, min_size=1, max_size=3).map(".".join)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)
call_lists = st.lists(
    st.builds(ToolCall, name=names, arguments=st.dictionaries(identifiers, values, max_size=4)), max_size=4
)


@FAST
@given(call_lists, st.sampled_from(SYNTAXES))
def test_round_trip_every_syntax(calls, syntax):
    text = render_calls(calls, syntax)
    parsed = parse_calls(text, syntax)
    assert parsed == calls
    assert render_calls(parsed, syntax) == text  # exact types survive: 1 vs 1.0 vs True, -0.0
    if calls or syntax != "hermes":  # blank text is "no calls" only when hermes is asked for
        assert parse_calls(text) == calls


@FAST
@given(
    st.lists(
        st.builds(
            ToolCall,
            name=st.text(min_size=1, max_size=10),
            arguments=st.dictionaries(st.text(max_size=8), values, max_size=4),
        ),
        max_size=3,
    ),
    st.sampled_from(["json", "hermes"]),
)
def test_json_syntaxes_round_trip_any_names(calls, syntax):
    text = render_calls(calls, syntax)
    assert parse_calls(text, syntax) == calls
    assert render_calls(parse_calls(text, syntax), syntax) == text


any_names = identifiers | st.sampled_from(keyword.kwlist) | st.text(max_size=8)


@FAST
@given(
    st.lists(
        st.builds(
            ToolCall,
            name=names | st.sampled_from(["get-weather", "class", "a.from"]),
            arguments=st.dictionaries(any_names, values, max_size=4),
        ),
        max_size=4,
    ),
    st.sampled_from(SYNTAXES),
)
def test_every_call_round_trips_in_its_writable_syntax(calls, preferred):
    try:
        render_calls(calls, "python")
        python_writes = True
    except ValueError:  # `values` are all JSON: only a name can stop python
        python_writes = False
    syntax = writable_syntax(calls, preferred)
    assert syntax == ("json" if preferred == "python" and not python_writes else preferred)
    text = render_calls(calls, syntax)
    assert parse_calls(text, syntax) == calls
    assert render_calls(parse_calls(text, syntax), syntax) == text
    if calls or syntax != "hermes":
        assert parse_calls(text) == calls  # what a model writes in it is read back without being told
    assert split_think(format_turn("why", calls, preferred)) == ("why", text)


@FAST
@given(call_lists.filter(bool), st.sampled_from(["plain", "no-brackets", "fence", "spaces"]))
def test_messy_python_parses_to_the_same_calls(calls, mess):
    text = render_calls(calls)
    messy = {
        "plain": text,
        "no-brackets": text[1:-1],
        "fence": f"```python\n{text}\n```",
        "spaces": f"\n\t {text} \n",
    }[mess]
    assert parse_calls(messy) == calls
    assert render_calls(parse_calls(messy)) == text


def _outcome(text, syntax):
    try:
        calls = parse_calls(text, syntax)
    except CallParseError as exc:
        assert str(exc)
        return None
    assert isinstance(calls, list) and all(isinstance(c, ToolCall) for c in calls)
    return calls


@FAST
@given(st.text(), st.sampled_from([*SYNTAXES, "auto"]))
def test_any_text_parses_or_raises_call_parse_error(text, syntax):
    _outcome(text, syntax)
    reasoning, rest = split_think(text)
    assert isinstance(reasoning, str) and isinstance(rest, str)


fragments = st.sampled_from(
    [
        "[",
        "]",
        "(",
        ")",
        "{",
        "}",
        ",",
        ":",
        "=",
        ".",
        "*",
        "**",
        "-",
        "+",
        " ",
        "\n",
        "'",
        '"',
        "\\",
        "f",
        "a",
        "g.h",
        "a=",
        "1",
        "-0.5",
        "1e-3",
        "1e999",
        "True",
        "None",
        "null",
        "'x'",
        '"y"',
        "lambda",
        "__import__",
        "```",
        "```python\n",
        "<tool_call>",
        "</tool_call>",
        "<think>",
        "</think>",
        '"name"',
        '"arguments"',
        '"parameters"',
        '"function"',
        "NaN",
        "Infinity",
        "\x00",
        "é",
        "(1,)",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(fragments, max_size=30).map("".join), st.sampled_from([*SYNTAXES, "auto"]))
def test_call_like_text_parses_or_raises_call_parse_error(text, syntax):
    calls = _outcome(text, syntax)
    if calls is not None:  # whatever parses, renders, and rendering is then a fixed point
        for target in ("json", "hermes"):
            rendered = render_calls(calls, target)
            assert render_calls(parse_calls(rendered, target), target) == rendered


@FAST
@given(st.text().filter(lambda s: "<think>" not in s and "</think>" not in s), call_lists)
def test_split_think_inverts_format_turn(reasoning, calls):
    turn = format_turn(reasoning, calls)
    assert split_think(turn) == (reasoning.strip(), render_calls(calls))


# --- agreement with BFCL's reference decoder --------------------------------------------------------


def _ground_truth_calls(file_name: str, count: int) -> list[list[ToolCall]]:
    import bfcl_eval

    path = Path(bfcl_eval.__file__).parent / "data" / "possible_answer" / file_name
    lists = []
    for line in path.read_text(encoding="utf-8").splitlines()[:count]:
        truth = json.loads(line)["ground_truth"]
        lists.append(
            [
                ToolCall(name=name, arguments={param: options[0] for param, options in params.items()})
                for entry in truth
                for name, params in entry.items()
            ]
        )
    return lists


def test_python_parse_agrees_with_bfcl_reference_decoder():
    # BFCL's decoder calls eval on some nodes; it only ever sees our own rendered strings here.
    utils = pytest.importorskip("bfcl_eval.model_handler.utils", reason="bfcl-eval is not installed")
    lists = _ground_truth_calls("BFCL_v4_simple_python.json", 30)
    lists += _ground_truth_calls("BFCL_v4_parallel_multiple.json", 10)
    for calls in lists:
        text = render_calls(calls)
        for variant in (text, text[1:-1], f"```\n{text}\n```", f"\n {text}\n"):
            ours = parse_calls(variant, "python")
            assert ours == calls
            assert [{c.name: c.arguments} for c in ours] == utils.default_decode_ast_prompting(variant)


# --- hostile answers: time linear in their size ---------------------------------------------------

HOSTILE_CALLS = {
    "positional arguments": lambda n: "[f(" + "1," * (n // 2) + ")]",
    "many calls": lambda n: "[" + "f(a=1), " * (n // 8) + "]",
    "deep brackets": lambda n: "[" * n,
    "long digit string": lambda n: "[f(a=" + "9" * n + ")]",
    "escaped quotes": lambda n: '[f(a="' + '\\"' * (n // 2) + '")]',
    "backtracking bait": lambda n: "a" * n + "!",
    "unclosed tool_call tags": lambda n: "<tool_call>" * (n // 11),
    "many tool_call blocks": lambda n: '<tool_call>{"name": "f", "arguments": {}}</tool_call>' * (n // 52),
    "deep JSON arguments": lambda n: '[{"name": "f", "arguments": ' + "[" * n,
    "JSON-encoded arguments": lambda n: '[{"name": "f", "arguments": "' + '{\\"a\\": ' * (n // 9) + '"}]',
    "backtick runs": lambda n: "`" * n,
}


@pytest.mark.parametrize("build", HOSTILE_CALLS.values(), ids=HOSTILE_CALLS.keys())
def test_hostile_answers_parse_in_time_linear_in_their_size(time_per_kb, build):
    # auto: a text that is none of the syntaxes is tried in all three
    time_per_kb(parse_calls, build, (CallParseError,))


@pytest.mark.parametrize("tag", ["<think>", "</think>", "<think></think>"])
def test_split_think_takes_time_linear_in_the_text(time_per_kb, tag):
    time_per_kb(split_think, lambda n: tag * (n // len(tag)) + "x" * (n % 7))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["<judge>", "</judge>", "<JUDGE>", "</Judge>", "x", "\n", "<judge", "/"])))
def test_find_tags_finds_what_the_lazy_pattern_finds(parts):
    text = "".join(parts)
    pattern = re.compile(r"<judge>(.*?)</judge>", re.S | re.I)
    assert [content for _, _, content in find_tags(text, "judge")] == pattern.findall(text)
    assert drop_tags(text, "judge") == pattern.sub(" ", text)


def test_many_unclosed_tags_are_found_in_linear_time(time_per_kb):
    time_per_kb(lambda text: find_tags(text, "judge"), lambda n: "<judge>" * (n // 7))
