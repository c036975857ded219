"""decode_python against bfcl-eval's own python decoder, and its bounds on hostile answers.

bfcl-eval's decoder runs `eval` on arithmetic: it only ever sees strings built here, whose arithmetic
is over literals (`_answers.is_safe_for_bfcl`), and never one our decoder refuses for its limits.
"""

import importlib.util
import time
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from funreason.evaluate.decode_python import MAX_DEPTH, MAX_SIZE, PythonDecodeError, decode_python

_spec = importlib.util.spec_from_file_location("_answers", Path(__file__).with_name("_answers.py"))
answers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(answers)

# Refusals where BFCL computes a value (or hangs): the documented differences, kept from BFCL's eval.
REFUSALS = ("over the limits", "printf", "nested deeper")


def ours(text: str) -> str:
    try:
        return repr(decode_python(text))  # repr tells 1 from 1.0 and True, and a tuple from a list
    except PythonDecodeError:
        return "fails"


def theirs(bfcl, text: str) -> str:
    assert answers.is_safe_for_bfcl(text), text
    try:
        return repr(bfcl.decode(text, bfcl.ReturnFormat.PYTHON, False))
    except Exception:  # BFCL's runner counts any decoder exception as a failed decode
        return "fails"


SHAPES = [
    ("[f(a=1, b='x')]", [{"f": {"a": 1, "b": "x"}}]),
    ("f(a=1)", [{"f": {"a": 1}}]),
    ("[f(1, 2, a=unit)]", [{"f": {"a": "unit"}}]),
    ("[f(a=1, a=2)]", [{"f": {"a": 2}}]),
    ("[f(**kw)]", [{"f": {None: "kw"}}]),
    ("[a.b.c(x=1), g()(y=2), h[0](z=3)]", [{"a.b.c": {"x": 1}}, {"": {"y": 2}}, {"": {"z": 3}}]),
    ("[f(a=g(1, k=2), b=g(1), c=g(*a))]", [{"f": {"a": {"g": {"k": 2}}, "b": "g(1)", "c": "g(*a)"}}]),
    ("[f(a=(1, [2]), b=x[1:2], c=m[1, 2])]", [{"f": {"a": (1, [2]), "b": "x[1:2]", "c": "m[(1, 2)]"}}]),
    ("[f(a=+5, b=not True, c=~2, d=-1j, e=...)]", [{"f": {"a": -5, "b": -1, "c": -2, "d": -1j, "e": "..."}}]),
    ("[f(a={k: 1, 2: g(1)})]", [{"f": {"a": {"k": 1, 2: "g(1)"}}}]),
    ("[f(a=2*3, b=10/4, c=2**10, d='a'+'b', e=[1]*3, f=7//2 % 4, g=1 << 3 | 1)]",
     [{"f": {"a": 6, "b": 2.5, "c": 1024, "d": "ab", "e": [1, 1, 1], "f": 3, "g": 9}}]),  # fmt: skip
    ("[f(a=(1,) + (2,), b={'k': 1} | {'j': 2}, c=-(-2) * 1, d=(not 0) + 1, e=~1 ^ 3)]",
     [{"f": {"a": (1, 2), "b": {"k": 1, "j": 2}, "c": 2, "d": 2, "e": -3}}]),  # fmt: skip
    ("[]", []),
]
FAILURES = [
    "[f(a=-x)]",
    "[f(a=- -1)]",
    "[f(a=-'s')]",
    "[f(a=math.pi)]",
    "[f(a={1, 2})]",
    "[f(a=1 < 2)]",
    "[f(a=f'{1}')]",
    "[f(a={**k})]",
    "[f(a={[1]: 2})]",
    "[f(a=1 / 0)]",
    "[f(a='a' - 1)]",
    "[f(a=2.0 ** 5000)]",
    "[f(a=1), 2]",
    "[f(a=1)], [g(b=2)]",
    "[f(a=1)][0]",
    "<think>x</think>[f(a=1)]",
    "[f(a=1\x00)]",
    "'[f(a=1)]'",
]


@pytest.mark.parametrize(("text", "expected"), SHAPES)
def test_shapes_decode_as_bfcl(bfcl, text, expected):
    assert decode_python(text) == expected
    assert ours(text) == theirs(bfcl, text) == repr(expected)


@pytest.mark.parametrize("text", FAILURES)
def test_failures_fail_as_in_bfcl(bfcl, text):
    assert ours(text) == theirs(bfcl, text) == "fails"


def test_a_lambda_fails():
    # BFCL fails on `value.body[0]` before its eval: a lambda never decodes.
    with pytest.raises(PythonDecodeError, match="Lambda"):
        decode_python("[f(a=lambda: 1)]")


# --- random shapes, against bfcl-eval's decoder ---------------------------------------------------

NUMBERS = st.one_of(st.integers(-30, 30).map(str), st.sampled_from(["0.5", "2.25", "1e3", "0.0", "True"]))
LITERALS = st.one_of(
    NUMBERS,
    st.sampled_from(["1j", "False", "None", "..."]),
    st.text(alphabet="ab '\"é", max_size=3).map(repr),  # no "%": printf formatting is refused
    st.sampled_from(["[1, 2]", "(1,)", "()", "[]", "{'k': 1}", "{}", "'ab'"]),
)
OPERATORS = st.sampled_from(["+", "-", "*", "/", "//", "%", "&", "|", "^", ">>", "@"])


def _arithmetic(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, OPERATORS, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        # Powers and shifts of literals by small amounts: BFCL computes whatever we do not refuse.
        st.tuples(LITERALS, st.sampled_from(["**", "<<"]), st.integers(-2, 6)).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "%", "//"]), NUMBERS).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "+", "~", "not "]), inner).map(lambda t: f"({t[0]}{t[1]})"),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(inner, max_size=2).map(lambda xs: "(" + "".join(f"{x}, " for x in xs) + ")"),
        st.lists(st.tuples(LITERALS, inner), max_size=2).map(lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"),
    )


def _numeric(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "//", "%"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(NUMBERS, st.integers(-2, 6)).map(lambda t: f"({t[0]} ** {t[1]})"),
        st.tuples(st.sampled_from(["-", "+"]), inner).map(lambda t: f"({t[0]}{t[1]})"),
    )


# Mostly numbers (which mostly compute), and mixed literals (which mostly fail on a type).
EXPRESSIONS = st.one_of(st.recursive(NUMBERS, _numeric, max_leaves=8), st.recursive(LITERALS, _arithmetic, max_leaves=10))


@settings(max_examples=300, deadline=None)
@given(left=EXPRESSIONS, op=OPERATORS, right=EXPRESSIONS)
def test_literal_arithmetic_decodes_as_bfcl(bfcl, left, op, right):
    text = f"[f(a={left} {op} {right})]"  # a BinOp at the top: BFCL evaluates the whole expression
    try:
        expected = repr(decode_python(text))
    except PythonDecodeError as exc:
        assume(not any(reason in str(exc) for reason in REFUSALS))  # BFCL might hang or fill memory
        expected = "fails"
    assert theirs(bfcl, text) == expected


NAMES = st.sampled_from(["x", "celsius", "data", "true", "New_York", "m2"])
LEAVES = st.one_of(
    LITERALS,
    NAMES,
    st.sampled_from(["-5", "-2.5", "+5", "not True", "~3", "-x", "- -1", "-'s'", "-None", "x[0]", "x[1:2]",
                     "m[1, 2]", "math.pi", "{1, 2}", "1 < 2", "f'{x}'", "x if y else z", "[i for i in x]"]),
)  # fmt: skip


def _values(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(inner, max_size=2).map(lambda xs: "(" + "".join(f"{x}, " for x in xs) + ")"),
        st.lists(st.tuples(st.one_of(LITERALS, NAMES), inner), max_size=2).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
        ),
        _calls(inner),
    )


def _calls(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    keyword = st.one_of(st.tuples(NAMES, values).map(lambda kv: f"{kv[0]}={kv[1]}"), st.just("**kw"))
    return st.tuples(
        st.sampled_from(["f", "g", "mod.f", "a.b.c", "g()", "h[0]"]),
        st.lists(st.one_of(values, st.just("*args")), max_size=2),
        st.lists(keyword, max_size=3),
    ).map(lambda t: f"{t[0]}({', '.join(t[1] + t[2])})")


VALUES = st.recursive(LEAVES, _values, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(calls=st.lists(_calls(VALUES), max_size=3), wrap=st.sampled_from(["[{}]", "{}", "```\n[{}]\n```"]))
def test_call_shapes_decode_as_bfcl(bfcl, calls, wrap):
    text = wrap.format(", ".join(calls))
    assert ours(text) == theirs(bfcl, text)


# --- hostile answers: a decode failure, soon ------------------------------------------------------

HOSTILE = {
    "huge power": "[f(a=2**10**10)]",  # BFCL hangs
    "power tower": "[f(a=2**2**2**2**2**2)]",
    "huge shift": "[f(a=1 << 10**9)]",
    "int of 5,000 digits": "[f(a=10**5000)]",
    "long repetition": "[f(a='ab' * 10**9)]",
    "nested repetition": "[f(a=[[[0] * 1000] * 1000] * 1000)]",
    "deep arithmetic": "[f(a=" + "+".join(["1"] * (MAX_DEPTH + 50)) + ")]",
    "10k unary operators": "[f(a=" + "-" * 10_000 + "1)]",
    "10k nested lists": "[f(a=" + "[" * 10_000 + "]" * 10_000 + ")]",
    "10k nested calls": "[f(a=" + "g(a=" * 10_000 + "1" + ")" * 10_000 + ")]",
    "10k additions": "[f(a=" + "+".join(["1"] * 10_000) + ")]",
    "10k subscripts": "[f(a=x" + "[0]" * 10_000 + ")]",
    "10k attributes": "[" + ".".join(["a"] * 10_000) + "(x=1)]",
    "1 MB of repetitions": "[" + ", ".join(["f(a='x' * 1000, b=[1, 2, 3])"] * 36_000) + "]",
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_answers_fail_to_decode_in_bounded_time(text):
    start = time.perf_counter()
    with pytest.raises(PythonDecodeError):
        decode_python(text)
    assert time.perf_counter() - start < 10  # about 3 s for 1 MB on a loaded CI core, ms for the rest


def test_a_1mb_answer_decodes_in_bounded_time():
    text = "[" + ", ".join(["f(a='xxxxxxxxxxxxxxxxxxxx', b=[1, 2, 3], c=g(d=1))"] * 20_000) + "]"
    start = time.perf_counter()
    decoded = decode_python(text)
    assert time.perf_counter() - start < 15
    assert len(decoded) == 20_000 and decoded[-1] == {"f": {"a": "x" * 20, "b": [1, 2, 3], "c": {"g": {"d": 1}}}}


def test_arithmetic_up_to_the_limits_is_computed():
    assert decode_python(f"[f(a=10**4299, b='a' * {MAX_SIZE - 10})]")[0]["f"] == {"a": 10**4299, "b": "a" * (MAX_SIZE - 10)}
    chain = "+".join(["1"] * MAX_DEPTH)
    assert decode_python(f"[f(a={chain})]") == [{"f": {"a": MAX_DEPTH}}]


GROWING = {
    "many calls": lambda n: "[" + "f(a='x', b=[1, 2])," * (n // 20) + "]",
    "positional arguments": lambda n: "[f(" + "1," * (n // 2) + ")]",
    "nested calls": lambda n: "[f(a=" + "g(" * (n // 2) + ")]",
    "subscripts": lambda n: "[f(a=x" + "[0]" * (n // 3) + ")]",
    "long digit string": lambda n: "[f(a=" + "9" * n + ")]",
    "deep brackets": lambda n: "[" * n,
    "escaped quotes": lambda n: "[f(a='" + "\\'" * (n // 2) + "')]",
    "backtracking bait": lambda n: "a" * n + "!",
}


@pytest.mark.parametrize("build", GROWING.values(), ids=GROWING.keys())
def test_hostile_answers_decode_in_time_linear_in_their_size(time_per_kb, build):
    time_per_kb(decode_python, build, (PythonDecodeError,))
