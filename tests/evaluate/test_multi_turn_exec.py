"""The multi-turn executor: BFCL's result texts, and nothing outside the API instances' public methods."""

from __future__ import annotations

import copy
import importlib.util
import json

import pytest

from funreason.evaluate.checker import DecodeError, decode
from funreason.evaluate.multi_turn_exec import Executor, decoded_calls, execution_text, parse_call

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bfcl_eval") is None, reason="needs bfcl-eval (pip install --no-deps bfcl-eval)"
)

CONFIG = {
    "GorillaFileSystem": {
        "root": {"alex": {"type": "directory", "contents": {"notes.txt": {"type": "file", "content": "hi"}}}}
    }
}


@pytest.fixture
def executor() -> Executor:
    return Executor(["MathAPI", "GorillaFileSystem"], CONFIG)


def _state(executor: Executor) -> dict:
    fs = executor.instances["GorillaFileSystem"]
    return copy.deepcopy({key: value for key, value in vars(fs).items() if not key.startswith("_")})


def _run(executor: Executor, text: str) -> list[str]:
    return executor.execute(decoded_calls(decode(text)))


def test_public_methods_run_with_bfcl_result_texts(executor: Executor) -> None:
    assert _run(executor, "[ls()]") == [json.dumps({"current_directory_content": ["notes.txt"]})]
    assert _run(executor, "[cat(file_name='notes.txt'), add(a=1, b=2)]") == [
        json.dumps({"file_content": "hi"}),
        json.dumps({"result": 3}),
    ]
    assert executor.call("sort", ["notes.txt"]) == json.dumps(
        {"sorted_content": "hi"}
    )  # ground truth's positional form


def test_state_persists_between_calls(executor: Executor) -> None:
    _run(executor, "[mkdir(dir_name='new')]")
    assert "new" in json.loads(_run(executor, "[ls()]")[0])["current_directory_content"]


def test_bad_arguments_give_pythons_type_error_text(executor: Executor) -> None:
    assert _run(executor, "[ls(bogus=1)]") == [
        "Error during execution: GorillaFileSystem.ls() got an unexpected keyword argument 'bogus'"
    ]
    assert _run(executor, "[cat()]") == [
        "Error during execution: GorillaFileSystem.cat() missing 1 required positional argument: 'file_name'"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[_load_scenario(scenario={}, long_context=True)]", "name '_load_scenario' is not defined"),
        ("[__init__()]", "name '__init__' is not defined"),
        ("[__import__(name='os')]", "name '__import__' is not defined"),
        ("[open(file='/etc/passwd')]", "name 'open' is not defined"),
        ("[print(value='x')]", "name 'print' is not defined"),
        ("[no_such_function(x=1)]", "name 'no_such_function' is not defined"),
        ("[os.system(command='echo hi')]", "name 'os' is not defined"),
        ("[GorillaFileSystem.rm(file_name='notes.txt')]", "name 'GorillaFileSystem' is not defined"),
        ("[json.dumps(obj=1)]", "name 'json' is not defined"),
        ("[kill(pid=1)]", "Function call kill is not allowed."),
        ("[subprocess.run(args='ls')]", "Function call run is not allowed."),
        ("[os.remove(path='notes.txt')]", "Function call remove is not allowed."),
    ],
)
def test_names_outside_the_public_methods_are_refused_without_effect(
    executor: Executor, text: str, expected: str
) -> None:
    before = _state(executor)
    assert _run(executor, text) == [f"Error during execution: {expected}"]
    assert _state(executor) == before


def test_nested_calls_are_values_never_run(executor: Executor) -> None:
    # BFCL's decoder reads a nested call with keywords as {name: {args}} and one without as its text;
    # its executor then evals the rendered string, running the inner call. Ours passes values only.
    assert decode("[rm(file_name=cat(file_name='notes.txt'))]") == [
        {"rm": {"file_name": {"cat": {"file_name": "notes.txt"}}}}]
    assert decode("[rm(file_name=__import__('os'))]") == [{"rm": {"file_name": "__import__('os')"}}]
    before = _state(executor)
    for text in ("[rm(file_name=__import__('os'))]", "[rm(file_name=ls())]"):
        [result] = _run(executor, text)
        assert result.startswith("Error during execution:") or "No such file" in result, result
    assert _state(executor) == before


def test_arithmetic_is_computed_not_evaluated() -> None:
    assert decode("[rm(file_name='a' + 'b')]") == [{"rm": {"file_name": "ab"}}]
    with pytest.raises(DecodeError):
        decode("[rm(file_name=open('x').read() + 'b')]")


def test_entries_do_not_share_state() -> None:
    first, second = Executor(["GorillaFileSystem"], CONFIG), Executor(["GorillaFileSystem"], CONFIG)
    _run(first, "[rm(file_name='notes.txt')]")
    assert _run(second, "[ls()]") == [json.dumps({"current_directory_content": ["notes.txt"]})]
    assert CONFIG["GorillaFileSystem"]["root"]["alex"]["contents"]  # the config itself is untouched


def test_parse_call_reads_ground_truth_literals_only() -> None:
    assert parse_call("sort('a.txt')") == ("sort", ["a.txt"], {})
    assert parse_call("cd(folder='x', n=(1, 2))") == ("cd", [], {"folder": "x", "n": (1, 2)})
    for bad in ["cd(folder=x)", "cd(folder=f())", "a.b()", "cd(*x)", "cd(**k)", "1 + 2", "cd("]:
        with pytest.raises(ValueError):
            parse_call(bad)


def test_results_are_converted_as_bfcl_converts_them() -> None:
    assert execution_text("text") == "text"
    assert execution_text({"a": 1}) == '{"a": 1}'
    assert execution_text({"a": object}) == str({"a": object})
    assert execution_text([1, 2]) == "[1, 2]"
    assert execution_text(None) == "None"


def test_unknown_class_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown BFCL multi-turn class"):
        Executor(["NoSuchAPI"], {})
