"""Java/JavaScript answers and their values are read in time linear in their size, or bounded."""

import time

import pytest

from funreason.evaluate.checker import DecodeError, check_relevance, decode, remove_reasoning
from funreason.evaluate.java_js_types import VALUE_SECONDS, java_value, js_value

pytest.importorskip("tree_sitter_java")
pytest.importorskip("tree_sitter_javascript")

ANSWERS = {
    "deep parentheses": lambda n: "f(a=" + "(" * n,
    "deep brackets": lambda n: "f(a=" + "[" * n,
    "many named arguments": lambda n: "Cls.f(" + ", ".join(f"a{i}=1" for i in range(n // 7)) + ")",
    "escaped quotes": lambda n: 'f(a="' + '\\"' * (n // 2) + '")',
    "long string": lambda n: "f(a='" + "x" * n + "')",
    "nested array creation": lambda n: "f(a=" + "new int[]{" * (n // 20) + "}" * (n // 20) + ")",
    "backtracking bait": lambda n: "a" * n + "!",
}


@pytest.mark.parametrize("language", ["java", "javascript"])
@pytest.mark.parametrize("build", ANSWERS.values(), ids=ANSWERS.keys())
def test_answers_decode_in_time_linear_in_their_size(time_per_kb, build, language):
    time_per_kb(lambda text: decode(text, language), build, (DecodeError,))


VALUES = {
    "ArrayList": (lambda v: java_value(v, "ArrayList", "String"), lambda n: "new ArrayList<String>(Arrays.asList(" + '"a", ' * (n // 5) + "))"),
    "Array": (lambda v: java_value(v, "Array", "integer"), lambda n: "new int[]{" + "1, " * (n // 3) + "}"),
    "long": (lambda v: java_value(v, "long"), lambda n: "9" * n + "L"),
    "js dict": (lambda v: js_value(v, "dict"), lambda n: "{" + ", ".join(f"k{i}: {i}" for i in range(n // 9)) + "}"),
    "js dict bait": (lambda v: js_value(v, "dict"), lambda n: "{" + "a:" * (n // 2)),
    "js array": (lambda v: js_value(v, "array", "integer"), lambda n: "[" + "1, " * (n // 3) + "]"),
}


@pytest.mark.parametrize(("convert", "build"), VALUES.values(), ids=VALUES.keys())
def test_values_convert_in_time_linear_in_their_size(time_per_kb, convert, build):
    time_per_kb(convert, build, (ValueError,))


@pytest.mark.parametrize(
    "value",
    ["new HashMap<String, String>() {" + " " * 2000, "[" + "[1, 2], " * 4000 + "]"],
    ids=["HashMap without its brace", "2-D array with a trailing comma"],
)
def test_bfcl_patterns_that_backtrack_stop_at_their_time_bound(value):
    # BFCL's own patterns: super-linear on these, so each run is bounded instead (one pattern may
    # run twice on a value, and the 2-D array's is tried again as a 1-D one).
    start = time.perf_counter()
    try:
        java_value(value, "HashMap") if value.startswith("new") else js_value(value, "array")
    except ValueError:
        pass
    assert time.perf_counter() - start < 4 * VALUE_SECONDS + 2


@pytest.mark.parametrize("tag", ["</think>", "<think>"])
def test_whole_answers_are_judged_in_time_linear_in_their_size(time_per_kb, tag):
    time_per_kb(remove_reasoning, lambda n: tag * (n // 8))
    time_per_kb(lambda text: check_relevance(text, "irrelevance"), lambda n: tag * (n // 8) + "[f(a=1)]")
