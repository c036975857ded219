"""The BFCL reader on a hand-written pair of files, then on bfcl-eval's own data against its checker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from funreason.formats import NO_CALL_STATEMENT, bfcl, read
from funreason.records import Rejects, ToolCall

DATA = Path(__file__).parent / "data" / "bfcl"
AST_CATEGORIES = [
    "simple_python", "multiple", "parallel", "parallel_multiple",
    "live_simple", "live_multiple", "live_parallel", "live_parallel_multiple",
]  # fmt: skip
# BFCL entries no call can pass: a required parameter whose acceptable values are [] or [""], or
# a ground truth naming a parameter the function does not declare.
UNPASSABLE = {"live_simple_106-63-0", "live_simple_112-68-0", "live_multiple_507-149-4",
              "live_multiple_862-181-3", "live_multiple_964-207-0"}  # fmt: skip


def test_sample_file_first_acceptable_values_nested_and_irrelevance():
    rejects = Rejects()
    path = DATA / "BFCL_v4_sample.json"
    samples = {s.id: s for s in read(path, "bfcl", rejects)}

    triangle = samples["simple_python_0"]
    assert triangle.source == "bfcl" and triangle.meta == {"bfcl_category": "simple_python"}
    assert triangle.tools[0]["parameters"]["type"] == "object"  # BFCL's "dict", normalised
    assert triangle.answer == [ToolCall(name="calculate_triangle_area", arguments={"base": 10, "height": 5, "unit": "units"})]
    # "" first means "may be omitted": z is left out of both calls.
    assert [c.arguments for c in samples["parallel_multiple_2"].calls] == [{"x": 3, "y": 4}, {"x": 5, "y": 12}]
    drink = samples["live_multiple_0-0-0"]
    assert [m["role"] for m in drink.messages] == ["system", "user"]
    assert drink.calls[0].arguments == {
        "new_preferences": {"size": "large", "milk_type": "coconut", "special_instructions": "served boiling hot"}
    }
    assert samples["live_multiple_63-25-0"].calls[0].arguments == {
        "items": [{"item": "burgers", "quantity": 5}, {"item": "chicken wings", "quantity": 6}]
    }
    assert samples["irrelevance_0"].answer == NO_CALL_STATEMENT

    answers = DATA / "possible_answer" / "BFCL_v4_sample.json"
    assert rejects.examples == [
        f"{path}:6: invalid JSON: Expecting value (column 100)",
        f"{path}:7: question: 2 turns; multi-turn entries are not supported",
        f"{path}:8: ground_truth: no possible answer with id 'simple_python_9' in {answers}",
    ]


def test_required_parameter_skips_the_omit_marker():
    functions = [{"name": "f", "parameters": {"type": "dict", "properties": {
        "a": {"type": "float"}, "b": {"type": "integer"}}, "required": ["a"]}}]  # fmt: skip
    ground_truth = [{"f": {"a": ["", 25.0], "b": ["", 0], "undeclared": ["x", ""]}}]
    assert bfcl.answer_from_ground_truth(ground_truth, functions) == [ToolCall(name="f", arguments={"a": 25.0})]


def test_explicit_answer_file_must_exist(tmp_path):
    with pytest.raises(FileNotFoundError, match="possible-answer file not found"):
        bfcl.read(DATA / "BFCL_v4_sample.json", Rejects(), answers=tmp_path / "none.json")


def test_category_of():
    assert bfcl.category_of("simple_python_12") == "simple_python"
    assert bfcl.category_of("live_parallel_multiple_3-2-0") == "live_parallel_multiple"


# --- bfcl-eval's shipped data ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bfcl_data() -> Path:
    pytest.importorskip("bfcl_eval")
    import bfcl_eval

    return Path(bfcl_eval.__file__).parent / "data"


@pytest.fixture(scope="module")
def ast_checker(bfcl):
    """bfcl-eval's AST checker for Python answers (the `bfcl` fixture is in tests/conftest.py)."""

    def check(functions, output, ground_truth, category):
        return bfcl.ast_checker(functions, output, ground_truth, bfcl.Language.PYTHON, category, "funreason")

    return check


@pytest.mark.parametrize("category", AST_CATEGORIES)
def test_every_ast_entry_reads_and_its_answer_passes_the_official_checker(bfcl_data, ast_checker, category):
    path = bfcl_data / f"BFCL_v4_{category}.json"
    functions = {e["id"]: e["function"] for e in map(json.loads, path.read_text().splitlines())}
    answers = (path.parent / "possible_answer" / path.name).read_text().splitlines()
    truths = {e["id"]: e["ground_truth"] for e in map(json.loads, answers)}
    rejects = Rejects()
    samples = list(read(path, "bfcl", rejects))

    assert rejects.count == 0 and len(samples) == len(functions)
    failed = []
    for sample in samples:
        output = [{call.name: call.arguments} for call in sample.calls]
        verdict = ast_checker(functions[sample.id], output, truths[sample.id], category)
        if not verdict["valid"]:
            failed.append(sample.id)
    assert set(failed) <= UNPASSABLE


@pytest.mark.parametrize(
    ("category", "reason"),
    [
        ("multi_turn_base", "multi-turn entries are not supported"),
        ("memory", "function: missing (agentic categories"),
        ("live_relevance", "ground_truth: relevance entries have no possible answer"),
    ],
)
def test_unsupported_categories_are_rejected_with_the_reason(bfcl_data, category, reason):
    rejects = Rejects()
    assert list(read(bfcl_data / f"BFCL_v4_{category}.json", "bfcl", rejects)) == []
    assert rejects.count > 0 and reason in rejects.examples[0]


def test_irrelevance_needs_no_answer_file(bfcl_data):
    samples = list(read(bfcl_data / "BFCL_v4_irrelevance.json", "bfcl", Rejects(strict=True)))
    assert len(samples) == 240 and all(s.answer == NO_CALL_STATEMENT for s in samples)


def test_without_an_answer_file_only_irrelevance_reads(tmp_path):
    path = tmp_path / "BFCL_v4_sample.json"
    path.write_text((DATA / "BFCL_v4_sample.json").read_text())
    rejects = Rejects()
    assert [s.id for s in read(path, "bfcl", rejects)] == ["irrelevance_0"]
    assert f"{path}:1: ground_truth: no possible-answer file {tmp_path / 'possible_answer' / path.name}" in rejects.examples
