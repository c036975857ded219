"""Inputs are read-only: no command writes its outputs, rejects or errors over the file it reads."""

import hashlib
import os

import fake_server as fake
import pytest
from typer.testing import CliRunner

from funreason.cli import app
from funreason.records import read_samples, write_jsonl
from funreason.synth import generate


def invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def data(tmp_path):
    """Five samples and a malformed line, so every command has a reject to write."""
    def make(name):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_jsonl(path, generate(5, seed=3))
        with path.open("a", encoding="utf-8") as handle:
            handle.write("{not json\n")
        return path
    return make


@pytest.mark.parametrize(
    "case",
    [
        "convert --rejects input",
        "convert default rejects is the input",
        "convert output is the input",
        "cot errors file is the input",
        "cot default rejects is the input",
        "refine input inside its own output folder",
        "train input is its rejects file",
        "evaluate --responses is the rejects file of its own output folder",
    ],
)
def test_an_output_that_is_the_input_is_refused_and_the_input_is_untouched(tmp_path, data, case):
    if case == "convert --rejects input":
        source = data("in.jsonl")
        args = ["convert", source, tmp_path / "out.jsonl", "--rejects", source]
    elif case == "convert default rejects is the input":
        source = data("x.rejects.jsonl")
        args = ["convert", source, tmp_path / "x.jsonl"]
    elif case == "convert output is the input":
        source = data("in.jsonl")
        args = ["convert", source, tmp_path / "." / "in.jsonl"]
    elif case == "cot errors file is the input":
        source = data("data.errors.jsonl")
        args = ["cot", source, tmp_path / "data.jsonl"]
    elif case == "cot default rejects is the input":
        source = data("d.rejects.jsonl")
        args = ["cot", source, tmp_path / "d.jsonl"]
    elif case == "refine input inside its own output folder":
        source = data("o/rejects.jsonl")
        args = ["refine", source, "--out", tmp_path / "o"]
    elif case == "train input is its rejects file":
        source = data("o/rejects.jsonl")
        args = ["train", "--data", source, "--output", tmp_path / "o", "--model", "no-such-model-is-loaded"]
    else:
        source = data("o/rejects.jsonl")
        args = ["evaluate", "--responses", source, "--out", tmp_path / "o"]
    before = digest(source)
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert "is the input" in result.output and "Traceback" not in result.output
    assert digest(source) == before
    leftovers = {p.name for p in source.parent.iterdir()} - {source.name}
    assert not leftovers - {"o"}, leftovers


def test_a_hard_link_to_the_input_is_the_input(tmp_path, data):
    source = data("in.jsonl")
    os.link(source, tmp_path / "alias.jsonl")
    result = invoke("convert", source, tmp_path / "out.jsonl", "--rejects", tmp_path / "alias.jsonl")
    assert result.exit_code == 2 and "is the input" in result.output


@pytest.mark.parametrize("store", ["garbage", "truncated", "folder"])
def test_a_broken_refine_store_is_one_clear_line(tmp_path, data, store):
    source = data("in.jsonl")
    out = tmp_path / "o"
    out.mkdir()
    path = out / "refine.sqlite"
    if store == "garbage":
        path.write_bytes(b"this is not sqlite at all" * 100)
    elif store == "truncated":
        assert invoke("refine", source, "--out", out).exit_code == 0
        path.write_bytes(path.read_bytes()[:100])
        for extra in ("refine.sqlite-wal", "refine.sqlite-shm"):
            (out / extra).unlink(missing_ok=True)
    else:
        path.mkdir()
    result = invoke("refine", source, "--out", out)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "refine.sqlite" in result.output
    assert "refine store" in result.output


def test_request_timeout_reaches_every_endpoint_client(tmp_path, data, monkeypatch):
    seen = []

    class Capture:
        def __init__(self, *args, **kwargs):
            seen.append(kwargs["timeout"])
            raise RuntimeError("client built")

    monkeypatch.setattr("funreason.llm.endpoint.EndpointGenerator", Capture)
    source, url = data("in.jsonl"), "http://127.0.0.1:9/v1"
    for args in (
        ["evaluate", "--endpoint", url, "--served-model", "m", "--out", tmp_path / "e"],
        ["cot", source, tmp_path / "cot.jsonl", "--teacher", "llm", "--endpoint", url, "--teacher-model", "m"],
        ["refine", source, "--out", tmp_path / "r", "--judge", "llm", "--endpoint", url, "--judge-model", "m"],
    ):
        result = invoke(*args, "--request-timeout", "7.5")
        assert result.exit_code == 2 and "client built" in result.output, result.output
    assert seen == [7.5, 7.5, 7.5]


def test_openai_environment_variables_fill_in_the_endpoint(tmp_path, data, monkeypatch):
    from funreason.pipeline import PipelineConfig

    seen = []

    class Capture:
        def __init__(self, url, model, **kwargs):
            seen.append((url, model, kwargs["api_key"]))
            raise RuntimeError("client built")

    monkeypatch.setattr("funreason.llm.endpoint.EndpointGenerator", Capture)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    result = invoke("cot", data("in.jsonl"), tmp_path / "cot.jsonl", "--teacher", "llm", "--teacher-model", "m")
    assert result.exit_code == 2 and "client built" in result.output, result.output
    config = PipelineConfig(cot={"teacher": "llm", "model": "teacher"})
    with pytest.raises(RuntimeError, match="client built"):
        config.cot.generator()
    assert seen == [("http://127.0.0.1:9/v1", "m", "sk-test"), ("http://127.0.0.1:9/v1", "teacher", "sk-test")]


def test_refine_with_an_ensemble_of_llm_judges_from_the_cli(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, generate(4, seed=5))

    def script(request):  # both judges pass every stage of every sample
        return fake.Reply(text="<judge>True</judge>")

    with fake.FakeServer(script) as server:
        result = invoke("refine", source, "--out", tmp_path / "o", "--judge", "ensemble", "--endpoint", server.url,
                        "--judge-model", "judge-a,judge-b", "--vote", "majority")
        models = {r.body["model"] for r in server.requests}
    assert result.exit_code == 0, result.output
    assert models == {"judge-a", "judge-b"}
    verdicts = [v for s in read_samples(tmp_path / "o" / "refined.jsonl") for v in s.verdicts]
    assert verdicts and {v.judge for v in verdicts} == {"ensemble(majority: llm:judge-a, llm:judge-b)"}
    one = invoke("refine", source, "--out", tmp_path / "p", "--judge", "ensemble", "--endpoint", server.url,
                 "--judge-model", "judge-a")
    assert one.exit_code == 2 and "two or more judge models" in one.output


def test_the_served_model_is_found_when_the_server_lists_one(tmp_path, data):
    listed = ["only-model"]

    def script(request):
        return fake.Reply(text=listed) if request.path.endswith("/models") else fake.Reply(text="<judge>True</judge>")

    source = data("in.jsonl")
    with fake.FakeServer(script) as server:
        result = invoke("refine", source, "--out", tmp_path / "o", "--judge", "llm", "--endpoint", server.url)
        asked = {r.body.get("model") for r in server.requests if not r.path.endswith("/models")}
        listed[:] = ["a", "b"]
        two = invoke("refine", source, "--out", tmp_path / "p", "--judge", "llm", "--endpoint", server.url)
    assert result.exit_code == 0, result.output
    assert asked == {"only-model"}
    assert two.exit_code == 2 and "serves 2 models (a, b): name the one to use" in two.output


def test_teacher_and_judge_request_settings_reach_the_server(tmp_path, data):
    extra = '{"chat_template_kwargs": {"enable_thinking": false}}'
    source = data("in.jsonl")
    with fake.FakeServer(lambda request: fake.Reply(text="<judge>True</judge>")) as server:
        invoke("cot", source, tmp_path / "cot.jsonl", "--teacher", "llm", "--endpoint", server.url, "--teacher-model", "t",
               "--max-tokens", "77", "--temperature", "0.3", "--extra-body", extra, "--overwrite")
        teacher = server.requests[0].body
        before = len(server.requests)
        invoke("refine", source, "--out", tmp_path / "o", "--judge", "llm", "--endpoint", server.url, "--judge-model", "j",
               "--judge-max-tokens", "99", "--extra-body", extra)
        judge = server.requests[before].body
        bad = invoke("cot", source, tmp_path / "x.jsonl", "--teacher", "llm", "--endpoint", server.url,
                     "--teacher-model", "t", "--extra-body", "[1]")
    assert (teacher["model"], teacher["max_tokens"], teacher["temperature"]) == ("t", 77, 0.3)
    assert teacher["chat_template_kwargs"] == judge["chat_template_kwargs"] == {"enable_thinking": False}
    assert (judge["model"], judge["max_tokens"]) == ("j", 99)
    assert bad.exit_code == 2 and "--extra-body must be a JSON object" in bad.output


@pytest.mark.parametrize("command", ["convert", "cot", "refine"])
def test_a_rerun_that_rejects_nothing_leaves_no_older_rejects_file(tmp_path, data, command):
    source = data("in.jsonl")
    args, rejects = {
        "convert": (["convert", source, tmp_path / "out.jsonl"], tmp_path / "out.rejects.jsonl"),
        "cot": (["cot", source, tmp_path / "out.jsonl"], tmp_path / "out.rejects.jsonl"),
        "refine": (["refine", source, "--out", tmp_path / "o"], tmp_path / "o" / "rejects.jsonl"),
    }[command]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    assert len(rejects.read_text().splitlines()) == 1
    source.write_text("".join(source.read_text().splitlines(keepends=True)[:-1]))  # the malformed line fixed
    second = invoke(*args)
    assert second.exit_code == 0 and "malformed" not in second.output, second.output
    assert not rejects.exists()  # the console says nothing was rejected, and no file says otherwise


def test_evaluate_endpoint_flags_reach_the_server(tmp_path):
    with fake.FakeServer(lambda request: fake.Reply(text="[]")) as server:
        result = invoke("evaluate", "--endpoint", server.url, "--served-model", "served", "--api-key", "sk-flag",
                        "--max-tokens", "33", "--extra-body", '{"top_k": 5}', "--concurrency", "1",
                        "--categories", "simple_python", "--limit", "2", "--out", tmp_path / "e", "--no-plot")
    assert result.exit_code == 0, result.output
    assert len(server.requests) == 2 and server.peak == 1
    for request in server.requests:
        assert (request.body["model"], request.body["max_tokens"], request.body["top_k"]) == ("served", 33, 5)
        assert request.headers["authorization"] == "Bearer sk-flag"
