"""The run's data stage: reused only when finished with the same settings; its rejects are said."""

import io
import json
import re

import fake_server as fake
from rich.console import Console

from funreason.demo import DATA_DONE, data_markdown, prepare_data
from funreason.pipeline import PipelineConfig
from funreason.records import read_samples, write_jsonl
from funreason.synth import generate


def config(tmp_path, **data):
    return PipelineConfig(out=tmp_path / "run", data={"samples": 13, **data}, cot={"teacher": "template"})


def run(cfg):
    text = io.StringIO()
    path, record = prepare_data(cfg, cfg.out / "data", Console(file=text, width=200))
    return path, record, text.getvalue()


def test_a_data_stage_that_stopped_midway_is_made_again_and_said(tmp_path):
    cfg = config(tmp_path)
    folder = cfg.out / "data"
    write_jsonl(folder / "samples.jsonl", generate(3, 0))  # what a killed run left (no data.json)
    path, record, said = run(cfg)
    assert "not finished by an earlier run" in said
    assert record["samples"] == 13 and len(list(read_samples(path))) == 13
    assert json.loads((folder / DATA_DONE).read_text())["samples"] == 13

    again_path, again, said = run(cfg)  # finished: reused, silently
    assert (again_path, again["samples"], said) == (path, 13, "")
    _, other, said = run(config(tmp_path, samples=5))  # other settings: made again
    assert other["samples"] == 5 and "other settings" in said


def test_data_rejects_reach_the_console_and_the_report(tmp_path):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, generate(6, 1))
    lines = source.read_bytes().splitlines(keepends=True)
    source.write_bytes(b"".join(lines[:3]) + b'{"id": "x", "messages": "caf\xe9"}\n' + b"".join(lines[3:]))
    cfg = config(tmp_path, source=str(source))
    path, record, said = run(cfg)
    assert record["samples"] == 6 and record["rejects"] == 1
    assert "1 malformed record(s) skipped" in said and f"{source}:4" in said
    section = data_markdown(record, cfg.out / "data")
    assert "6 samples from" in section and "**1 malformed record(s) skipped**" in section


def test_samples_the_teacher_could_not_teach_are_said_and_reported(tmp_path):
    samples = list(generate(4, 1))
    source = tmp_path / "in.jsonl"
    write_jsonl(source, samples)

    def teacher(request):  # teaches the first sample only; "reasoning" about nothing for the rest
        parts = dict(re.findall(r"<(conversation|answer)>\n?(.*?)\n?</\1>", request.prompt, re.S))
        if samples[0].query in parts["conversation"]:
            return fake.Reply(text=f"The user asks: {parts['conversation']}\nSo I answer:\n{parts['answer']}")
        return fake.Reply(text="I'm ready to help. What's the question?")

    with fake.FakeServer(teacher) as server:
        cfg = PipelineConfig(out=tmp_path / "run", data={"source": str(source), "samples": 4},
                             cot={"teacher": "llm", "endpoint": server.url, "model": "t"})
        path, record, said = run(cfg)
    assert len(list(read_samples(path))) == 1 and record["no_reasoning"] == 3
    assert "3 sample(s) got no reasoning from the teacher" in said
    assert "**3 got no reasoning from the teacher**" in data_markdown(record, cfg.out / "data")
