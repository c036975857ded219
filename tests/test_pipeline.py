"""The pipeline config: the shipped configs validate, and configs/demo.yaml is what `make demo` runs."""

import json
import re
from pathlib import Path

import fake_server as fake
import pytest
import yaml
from typer.testing import CliRunner

from funreason.cli import app
from funreason.demo import demo_config
from funreason.pipeline import PipelineConfig, load_config
from funreason.records import write_jsonl

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def test_demo_yaml_is_the_embedded_demo():
    assert load_config(CONFIGS / "demo.yaml") == demo_config(Path("runs/demo"), quick=False)


def test_paper_config_validates_and_trains_under_deepspeed():
    config = load_config(CONFIGS / "paper.yaml")
    assert config.model == "Qwen/Qwen2.5-Coder-7B-Instruct"
    assert config.train.accelerate_config == Path("configs/accelerate/zero3.yaml")
    assert (CONFIGS.parent / config.train.accelerate_config).is_file()
    assert config.refine.judge == "hybrid" and config.cot.teacher == "llm"


def test_paper_config_refines_with_a_hybrid_judge_and_a_teacher():
    from funreason.demo import make_refine_judge, make_regenerator
    from funreason.refine.llm_judge import HybridJudge

    config = load_config(CONFIGS / "paper.yaml")
    judge = make_refine_judge(config)  # `funreason run` built no hybrid judge before (generator= was refused)
    assert isinstance(judge, HybridJudge) and judge.name == "hybrid:Qwen/QwQ-32B"
    assert judge.llm.generator.base_url == "http://localhost:8000/v1"
    assert make_regenerator(config).name == "llm:Qwen/QwQ-32B"
    assert (config.refine.undecided, config.refine.max_regenerations) == ("hard", 2)
    assert make_regenerator(PipelineConfig()) is None


def test_unknown_keys_name_their_section(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("train:\n  sample: 3\n")
    with pytest.raises(ValueError, match="train.sample"):
        load_config(path)


def test_out_override_and_empty_config(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_config(path, out=tmp_path / "x").out == tmp_path / "x"
    assert PipelineConfig().data.source == "synth"


def test_paper_sections_use_the_cli_endpoint_schema():
    """Every section of configs/paper.yaml that talks to a server is the CLI's `EndpointSettings`."""
    from funreason.cli import endpoint_settings
    from funreason.llm.settings import EndpointSettings

    config = load_config(CONFIGS / "paper.yaml")
    cli = endpoint_settings("http://localhost:8000/v1", "Qwen/QwQ-32B", None, 128, 600.0, None, None, max_tokens=8192)
    for section in (config.cot, config.refine, config.refine.regenerator, config.evaluate, config.selfrefine):
        assert isinstance(section, EndpointSettings) and isinstance(cli, EndpointSettings)
    assert config.cot.model_dump(include=set(EndpointSettings.model_fields)) == cli.model_dump()


def test_endpoint_keys_are_checked_in_every_section(tmp_path):
    path = tmp_path / "c.yaml"
    for text, message in [("evaluate: {endpoint: http://x/v1, temperature: 0.5}", "evaluation is greedy"),
                          ("selfrefine: {load: docker}", "selfrefine.load"),
                          ("refine: {regenerator: {max_token: 5}}", "refine.regenerator.max_token"),
                          ("cot: {request_timeout: 0}", "cot.request_timeout")]:
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            load_config(path)
    path.write_text("cot: {timeout: 7}")  # the name configs used before `request_timeout`
    assert load_config(path).cot.request_timeout == 7


_SECTION = re.compile(r"<(conversation|answer)>\n?(.*?)\n?</\1>", re.S)


def _fake_pipeline_server(request: fake.Request) -> fake.Reply:
    """Teacher: reasoning that quotes the request and ends with the answer; judge: passes all but the
    first call it checks at stage 4; the rest (regenerator, evaluation, rollouts): no call."""
    tag = request.body.get("tag")
    if tag == "teacher":
        parts = dict(_SECTION.findall(request.prompt))
        return fake.Reply(text=f"The user asks: {parts['conversation']}\nSo I answer:\n{parts['answer']}")
    if tag == "judge":
        first_stage_4 = "Decide whether the call is right" in request.prompt and not _fake_pipeline_server.failed
        _fake_pipeline_server.failed |= first_stage_4
        return fake.Reply(text="<judge>False</judge>" if first_stage_4 else "<judge>True</judge>")
    return fake.Reply(text="I cannot help with that.")


def test_every_endpoint_setting_of_a_run_config_reaches_the_server(tmp_path, tiny_model_dir):
    """`funreason run` with the teacher, judge, regenerator, evaluation and rollouts each on the
    server with settings of their own: each request carries its section's settings."""
    _fake_pipeline_server.failed = False
    sections = {"teacher": (101, 0.11), "judge": (102, 0.12), "regen": (103, 0.13), "eval": (104, None),
                "rollout": (105, 0.15)}
    with fake.FakeServer(_fake_pipeline_server) as server:
        def section(tag: str) -> dict:
            max_tokens, temperature = sections[tag]
            settings = {"endpoint": server.url, "model": f"m-{tag}", "api_key": f"key-{tag}", "max_tokens": max_tokens,
                        "extra_body": {"tag": tag}, "request_timeout": 30, "concurrency": 2}
            return settings if temperature is None else {**settings, "temperature": temperature}

        # Full fine-tuning: the server gets each trained checkpoint by path (vLLM's LoRA loading is
        # tested in tests/llm/test_settings.py).
        train = {"max_steps": 1, "batch_size": 1, "lora_r": 0, "max_length": 4096, "logging_steps": 1}
        config = {
            "model": str(tiny_model_dir), "out": str(tmp_path / "run"), "data": {"samples": 6},
            "cot": {"teacher": "llm", **section("teacher")},
            "refine": {"judge": "llm", "max_regenerations": 1, **section("judge"), "regenerator": section("regen")},
            "train": {"options": train},
            "evaluate": {"categories": ["simple_python"], "limit": 1, "load": "path", **section("eval")},
            "selfrefine": {"rounds": 1, "queries": 2, "load": "path", **section("rollout"), "train": train},
        }  # fmt: skip
        path = tmp_path / "run.yaml"
        path.write_text(yaml.safe_dump(config))
        result = CliRunner().invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output
    asked = [r for r in server.requests if r.path.endswith("/chat/completions")]
    assert {r.body["tag"] for r in asked} == set(sections)
    for r in asked:
        tag = r.body["tag"]
        max_tokens, temperature = sections[tag]
        assert r.body["max_tokens"] == max_tokens and r.headers["authorization"] == f"Bearer key-{tag}", r.body
        assert r.body["temperature"] == (temperature or 0.0)
    models = {tag: {r.body["model"] for r in asked if r.body["tag"] == tag} for tag in sections}
    trained = str((tmp_path / "run" / "train" / "final").resolve())
    assert models["teacher"] == {"m-teacher"} and models["regen"] == {"m-regen"} and models["judge"] == {"m-judge"}
    assert models["rollout"] == {trained}  # round 1 asks the model trained before it, by its folder
    assert {"m-eval", trained} <= models["eval"]  # the base, the trained model, then the round's


def paper_twin(server_url: str, model: str, data: Path, out: Path) -> dict:
    """configs/paper.yaml with its sizes cut down and every server the given one: an LLM teacher, the
    hybrid judge and a regenerator, full SRML fine-tuning, evaluation and self-refinement rollouts on
    the server (which loads each trained checkpoint by path)."""
    config = yaml.safe_load((CONFIGS / "paper.yaml").read_text())
    server = {"endpoint": server_url, "model": model, "concurrency": 2, "request_timeout": 300}
    # A 135M teacher rambles: the first line of its reply is its reasoning (`stop` reaches the server).
    config["cot"].update(server, max_tokens=48, extra_body={"stop": ["\n"], "seed": 0})
    config["refine"].update(server, max_tokens=24, max_regenerations=1)
    config["refine"]["regenerator"].update(server, max_tokens=48)
    config["train"].pop("accelerate_config")  # one CPU process, not DeepSpeed on 8 GPUs
    config["train"]["options"].update(max_steps=1, batch_size=1, grad_accum=1, max_length=1536,
                                      gradient_checkpointing=False)
    config["evaluate"].update(server, categories=["simple_python"], limit=2, max_tokens=16, load="path")
    config["selfrefine"].update(server, queries=2, samples_per_query=1, max_tokens=24, load="path")
    config["selfrefine"]["train"].update(max_steps=1, batch_size=1, grad_accum=1, max_length=1536,
                                         gradient_checkpointing=False)
    return {**config, "model": model, "out": str(out), "data": {"source": str(data), "format": "native", "samples": 6}}


@pytest.mark.slow
def test_the_paper_pipeline_runs_end_to_end_against_a_real_server(real_server_by_path, tmp_path):
    from funreason.synth import generate

    statements = [s for s in generate(40, seed=0) if not s.is_call][:4]
    calls = [s for s in generate(40, seed=0) if s.is_call][:2]
    data = tmp_path / "data.jsonl"
    write_jsonl(data, statements + calls)
    config = paper_twin(real_server_by_path.url, real_server_by_path.model, data, tmp_path / "run")
    path = tmp_path / "paper-twin.yaml"
    path.write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(app, ["run", str(path)])
    assert result.exit_code == 0, result.output + real_server_by_path.log_tail()
    run = tmp_path / "run"
    report = (run / "report.md").read_text()
    for section in ("FCDR refinement", "SRML training", "Self-refinement", "BFCL scores"):
        assert section in report
    data = json.loads((run / "data" / "data.json").read_text())
    assert data["samples"] == 6 and (data["no_reasoning"] == 0 or "got no reasoning from the teacher" in report)
    trained = str((run / "train" / "final").resolve())
    served = real_server_by_path.log.read_text(errors="replace")
    assert f"Loading {trained}" in served  # the trained checkpoint reached the server by path
    round_1 = json.loads((run / "selfrefine" / "round_1" / "round.json").read_text())
    assert round_1["queries"] >= 1 and round_1["scores"]["counts"]["simple_python"]["total"] == 2
    assert json.loads((run / "eval" / "trained" / "scores.json").read_text())["run"]["model"] == trained


def test_an_ensemble_judge_from_a_run_config(tmp_path):
    from funreason.demo import make_refine_judge
    from funreason.refine.llm_judge import EnsembleJudge

    path = tmp_path / "c.yaml"
    path.write_text("refine:\n  judge: ensemble\n  endpoint: http://127.0.0.1:9/v1\n  max_tokens: 64\n  vote: majority\n"
                    "  judges: [{model: a}, {model: b, max_tokens: 8}, {model: c, endpoint: http://127.0.0.1:8/v1}]\n")
    judge = make_refine_judge(load_config(path))
    assert isinstance(judge, EnsembleJudge) and judge.vote == "majority"
    built = [(j.generator.base_url, j.generator.model, j.options.max_tokens) for j in judge.judges]
    assert built == [("http://127.0.0.1:9/v1", "a", 64), ("http://127.0.0.1:9/v1", "b", 8), ("http://127.0.0.1:8/v1", "c", 64)]
    for text, message in [("refine: {judge: ensemble, judges: [{model: a}]}", "two or more"),
                          ("refine: {judge: ensemble, judges: [{model: a}, {model: b}], vote: most}", "ensemble vote"),
                          ("refine: {judge: llm, judges: [{model: a}, {model: b}]}", "the judge is llm")]:
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            load_config(path)
