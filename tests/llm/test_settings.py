"""The shared endpoint settings: one builder for every command and config section, OpenAI's
variables as defaults, the total deadline, and how a server gets a model trained in the run."""

import asyncio
import json
import time

import fake_server as fake
import pytest
from typer.testing import CliRunner

from funreason.cli import app
from funreason.llm import EndpointDown
from funreason.llm.settings import EndpointSettings, ModelEndpoint
from funreason.records import write_jsonl
from funreason.synth import generate


def test_the_builder_passes_every_client_setting(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    settings = EndpointSettings(model="m", concurrency=3, request_timeout=4.5, deadline=30, extra_body={"a": 1})
    generator = settings.generator()
    assert (generator.base_url, generator.model, generator.api_key) == ("http://127.0.0.1:9/v1", "m", "sk-env")
    assert (generator.concurrency, generator.timeout, generator.deadline, generator.extra_body) == (3, 4.5, 30, {"a": 1})
    assert EndpointSettings(api_key="sk-own").resolved().api_key == "sk-own"
    assert settings.request_settings(max_tokens=2048) == {"max_tokens": 2048, "temperature": 0.0}
    assert EndpointSettings(max_tokens=9, temperature=0.4).request_settings(2048) == {"max_tokens": 9, "temperature": 0.4}
    monkeypatch.delenv("OPENAI_BASE_URL")
    with pytest.raises(ValueError, match=r"the judge needs an endpoint: .*\$OPENAI_BASE_URL"):
        EndpointSettings(model="m").generator(role="the judge")


def test_past_the_deadline_the_run_stops_and_says_so():
    with fake.FakeServer(lambda request: fake.Reply(text="late", delay=5)) as server:
        generator = EndpointSettings(endpoint=server.url, model="m", deadline=0.5).generator()
        start = time.perf_counter()
        with pytest.raises(EndpointDown, match="deadline of 0.5s"):
            asyncio.run(generator.agenerate([[{"role": "user", "content": "q"}]] * 3))
        assert time.perf_counter() - start < 3
        with pytest.raises(EndpointDown, match="deadline"):  # the deadline counts from the first request
            asyncio.run(generator.agenerate([[{"role": "user", "content": "q"}]]))


def test_the_deadline_flag_stops_a_command_with_one_line(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, generate(3, seed=1))
    with fake.FakeServer(lambda request: fake.Reply(text="<judge>True</judge>", delay=5)) as server:
        start = time.perf_counter()
        result = CliRunner().invoke(app, ["refine", str(source), "--out", str(tmp_path / "o"), "--judge", "llm",
                                          "--endpoint", server.url, "--judge-model", "j", "--deadline", "0.5"])
    assert time.perf_counter() - start < 4
    assert result.exit_code == 2 and "deadline of 0.5s" in result.output and "Traceback" not in result.output


def test_a_trained_model_reaches_the_server_as_load_says(tmp_path):
    adapter, full = tmp_path / "round_1" / "final", tmp_path / "full"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text('{"base_model_name_or_path": "base"}')
    full.mkdir()
    later = tmp_path / "round_2" / "final"  # trained on round 1's merged model: not on the served base
    later.mkdir(parents=True)
    (later / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(adapter)}))
    with fake.FakeServer(lambda request: fake.Reply(text="ok")) as server:
        def server_for(load: str) -> ModelEndpoint:
            return ModelEndpoint(endpoint=server.url, model="base-served", load=load)

        assert server_for("none").generator_for("base", base="base").model == "base-served"
        with pytest.raises(ValueError, match="serves one model"):
            server_for("none").generator_for(str(adapter), base="base")
        assert server_for("path").generator_for(str(full), base="base").model == str(full.resolve())
        with pytest.raises(ValueError, match="LoRA adapter"):
            server_for("path").generator_for(str(adapter), base="base")
        name = server_for("lora").generator_for(str(adapter), base="base").model
        with pytest.raises(ValueError, match="no LoRA adapter"):
            server_for("lora").generator_for(str(full), base="base")
        with pytest.raises(ValueError, match="wrong weights"):
            server_for("lora").generator_for(str(later), base="base")
    loads = [r.body for r in server.requests if r.path.endswith("/load_lora_adapter")]
    assert loads == [{"lora_name": name, "lora_path": str(adapter.resolve())}] and name.startswith("round_1-")


def test_a_server_without_runtime_lora_loading_is_named(tmp_path):
    adapter = tmp_path / "final"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text('{"base_model_name_or_path": "base"}')
    with fake.FakeServer(lambda request: fake.Reply(status=404, error="Not Found")) as server:
        with pytest.raises(ValueError, match="VLLM_ALLOW_RUNTIME_LORA_UPDATING"):
            ModelEndpoint(endpoint=server.url, model="m", load="lora").generator_for(str(adapter), base="base")


@pytest.mark.parametrize(("rounds", "starts_served", "rollouts", "evaluations", "allowed"), [
    (1, True, "lora", "lora", True),  # round 1's adapter is trained on the served model
    (2, True, "lora", None, True),  # round 2 rolls out with it
    (2, True, None, "lora", False),  # round 2's adapter is trained on a merged model
    (3, True, "lora", None, False),
    (1, False, "lora", None, True),  # a run's trained adapter rolls out round 1
    (1, False, None, "lora", False),  # round 1's adapter is trained on the merged run's model
    (5, False, "path", "path", True),  # a server that loads folders takes any of them
])  # fmt: skip
def test_vllm_lora_loading_is_refused_up_front_where_a_round_needs_a_merged_model(
    rounds, starts_served, rollouts, evaluations, allowed
):
    from funreason.llm.settings import check_rounds

    if allowed:
        check_rounds(rounds, starts_served, rollouts, evaluations)
    else:
        with pytest.raises(ValueError, match="wrong weights"):
            check_rounds(rounds, starts_served, rollouts, evaluations)


def test_a_run_config_that_would_need_a_merged_adapter_is_refused_before_it_runs(tmp_path):
    from funreason.pipeline import load_config

    path = tmp_path / "c.yaml"
    path.write_text("evaluate: {endpoint: http://x/v1, load: lora}\nselfrefine: {rounds: 1}\n")
    with pytest.raises(ValueError, match="wrong weights"):
        load_config(path)
    path.write_text("evaluate: {endpoint: http://x/v1}\n")
    with pytest.raises(ValueError, match="evaluate.load"):
        load_config(path)
