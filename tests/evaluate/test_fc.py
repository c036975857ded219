"""BFCL's function-calling mode: the tools field as bfcl-eval writes it, FC results judged as it judges them."""

import importlib.util
import json

import fake_server as fake
import pytest
from typer.testing import CliRunner

from funreason.cli import app
from funreason.evaluate import bfcl as data
from funreason.evaluate.checker import check_fc
from funreason.evaluate.fc import FcDecodeError, decode_fc, openai_tools

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bfcl_eval") is None, reason="needs bfcl-eval (pip install --no-deps bfcl-eval)"
)



def fc_result(entry):
    """The ground truth as an FC model's result: dots written `_`, arguments as JSON text."""
    calls = []
    for call in entry.possible_answer:
        ((name, params),) = call.items()
        arguments = {key: values[0] for key, values in params.items() if values and values[0] != ""}
        calls.append({name.replace(".", "_"): json.dumps(arguments)})
    return calls


def test_tools_are_bfcls_own_conversion_for_every_entry():
    utils = pytest.importorskip("bfcl_eval.model_handler.utils")
    from bfcl_eval.constants.enums import ModelStyle
    from bfcl_eval.constants.type_mappings import GORILLA_TO_OPENAPI

    compared = 0
    for entry in data.load_bfcl("all"):
        theirs = utils.convert_to_tool(entry.functions, GORILLA_TO_OPENAPI, ModelStyle.OPENAI_COMPLETIONS)
        assert openai_tools(entry.functions) == theirs, entry.id
        compared += 1
    assert compared == 3641


@pytest.mark.parametrize("category", ["simple_python", "multiple", "parallel", "live_simple", "irrelevance", "live_relevance"])
def test_fc_verdicts_are_bfcls(bfcl, category):
    entries = data.load_category(category)[:40]
    for entry in entries:
        results = [[], "I cannot call anything.", [{"f": "{not json"}]]
        if entry.possible_answer is not None:
            truth = fc_result(entry)
            results += [truth, truth[:-1] + [{next(iter(truth[-1])): json.dumps({"wrong": 1})}]]
        else:
            function = entry.source_functions[0]
            results.append([{function["name"].replace(".", "_"): "{}"}])
        for result in results:
            ours = check_fc(entry, result)
            try:  # bfcl-eval's FC decode_ast, then its checker as for an FC model ("dotted-model": "_" for ".")
                decoded = [{next(iter(c)): json.loads(c[next(iter(c))])} for c in result]
                has_call = not bfcl.is_empty_output(decoded)
            except Exception:
                decoded, has_call = None, False
            if entry.is_relevance:
                expected = (not has_call) if "irrelevance" in category else has_call
                assert ours.valid == expected, (entry.id, result)
            elif decoded is None:
                assert (ours.valid, ours.error_type) == (False, "ast_decoder:decoder_failed"), (entry.id, result)
            else:
                theirs = bfcl.ast_checker(entry.source_functions, decoded, entry.possible_answer,
                                          bfcl.Language.PYTHON, category, "dotted-model")  # fmt: skip
                expected = (True, "") if theirs["valid"] else (False, theirs["error_type"])
                assert (ours.valid, ours.error_type if not ours.valid else "") == expected, (entry.id, result)


def test_decode_fc_refuses_what_is_not_a_call_list():
    assert decode_fc([{"f": '{"a": 1}'}]) == [{"f": {"a": 1}}]
    for bad in ("text", [{"f": {"a": 1}}], [{}], ["f"], [{"f": "{"}]):
        with pytest.raises(ValueError):
            decode_fc(bad)


def test_evaluate_fc_mode_sends_tools_and_scores_tool_calls(tmp_path):
    entries = {e.id: e for e in data.load_category("simple_python")[:3] + data.load_category("irrelevance")[:3]}
    by_question = {json.dumps(e.question): e for e in entries.values()}

    def script(request):
        entry = by_question[json.dumps(request.body["messages"])]
        if entry.category == "irrelevance":
            return fake.Reply(text="None of the tools fits.")
        calls = fc_result(entry)
        return fake.Reply(tool_calls=[{"name": next(iter(c)), "arguments": next(iter(c.values()))} for c in calls])

    with fake.FakeServer(script) as server:
        result = CliRunner().invoke(app, ["evaluate", "--endpoint", server.url, "--served-model", "m", "--mode", "fc",
                                          "--categories", "simple_python,irrelevance", "--limit", "3", "--out", str(tmp_path)])  # fmt: skip
        bodies = [r.body for r in server.requests]
    assert result.exit_code == 0, result.output
    assert all(body["messages"][0]["role"] == "user" for body in bodies)  # no prompting system prompt
    asked = {body["tools"][0]["function"]["name"] for body in bodies}
    assert asked == {e.functions[0]["name"].replace(".", "_") for e in entries.values()}
    doc = json.loads((tmp_path / "scores.json").read_text())
    assert doc["categories"]["simple_python"] == {"correct": 3, "total": 3, "accuracy": 1.0}
    assert doc["categories"]["irrelevance"]["correct"] == 3
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
    assert all(row["tool_calls"] for row in rows if row["category"] == "simple_python")
    refused = CliRunner().invoke(app, ["evaluate", "--model", "smollm2-135m", "--mode", "fc", "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2


def test_bfcl_fc_result_files_are_scored(tmp_path):
    entry = data.load_category("simple_python")[0]
    path = tmp_path / "BFCL_v4_simple_python_result.json"
    path.write_text(json.dumps({"id": entry.id, "result": fc_result(entry)}) + "\n")
    from funreason.evaluate.run import score_responses

    summary = score_responses(path, tmp_path / "scored")
    assert summary.scores["simple_python"].correct == 1


def test_fc_results_decode_in_time_linear_in_their_size(time_per_kb):
    time_per_kb(decode_fc, lambda n: [{"f": '{"a": [1, 2]}'}] * (n // 22), (FcDecodeError,))
    time_per_kb(lambda text: decode_fc([{"f": text}]), lambda n: "[" * n, (FcDecodeError,))
    time_per_kb(lambda text: decode_fc([{"f": text}]), lambda n: '{"a": "' + '\\"' * (n // 2) + '"}', (FcDecodeError,))
