import json
from pathlib import Path

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast
from typer.testing import CliRunner

from funreason import __version__
from funreason.cli import app
from funreason.reasoning_template import template_reasoning
from funreason.records import Sample, ToolCall, read_samples, write_jsonl
from funreason.synth import generate

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_help_lists_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("synth", "convert", "stats", "evaluate", "compare", "demo"):
        assert command in result.output


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"funreason {__version__}"


def test_synth_is_deterministic_for_a_seed(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert invoke("synth", first, "-n", 25, "--seed", 3).exit_code == 0
    assert invoke("synth", second, "-n", 25, "--seed", 3).exit_code == 0
    assert first.read_text() == second.read_text()
    assert len(list(read_samples(first))) == 25


def test_convert_reports_malformed_lines_and_keeps_going(tmp_path):
    source = tmp_path / "synth.jsonl"
    invoke("synth", source, "-n", 5)
    source.write_text(source.read_text() + "{broken\n")
    target = tmp_path / "out.jsonl"

    result = invoke("convert", source, target, "--from", "native", "--to", "openai")

    assert result.exit_code == 0, result.output
    assert "converted 5 samples" in result.output
    assert "1 malformed record(s) skipped" in result.output
    assert f"{source}:6" in result.output
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert rejects[0]["where"] == f"{source}:6"
    assert len(target.read_text().splitlines()) == 5


def test_convert_strict_stops_with_one_clear_line(tmp_path):
    source = tmp_path / "bad.jsonl"
    source.write_text('{"id": "a"}\n')
    result = invoke("convert", source, tmp_path / "o.jsonl", "--strict")
    assert result.exit_code == 2
    assert f"error: {source}:1: " in result.output
    assert "Traceback" not in result.output


def test_unknown_format_is_a_clear_error(tmp_path):
    source = tmp_path / "s.jsonl"
    invoke("synth", source, "-n", 2)
    result = invoke("convert", source, tmp_path / "o.jsonl", "--to", "parquet")
    assert result.exit_code == 2
    assert "parquet" in result.output


FLIGHT = {
    "name": "book_flight",
    "description": "Book a flight between two cities.",
    "parameters": {"type": "object", "required": ["from", "to"], "properties": {
        "from": {"type": "string"}, "to": {"type": "string"},
        "class": {"type": "string", "enum": ["economy", "business"]}}},
}


def keyword_samples(tmp_path: Path) -> Path:
    """Synth samples with two calls whose arguments are named like python keywords among them."""
    samples = list(generate(4, seed=1))
    for index, (origin, to, seat) in enumerate([("Paris", "Rome", "business"), ("Oslo", "Lima", "economy")]):
        query = f"Book me a {seat} flight from {origin} to {to}."
        answer = [ToolCall(name="book_flight", arguments={"from": origin, "to": to, "class": seat})]
        samples.insert(2 * index, Sample(id=f"kw{index}", messages=[{"role": "user", "content": query}],
                                         tools=[FLIGHT], answer=answer,
                                         reasoning=template_reasoning(query, [FLIGHT], answer)))
    path = tmp_path / "kw.jsonl"
    write_jsonl(path, samples)
    return path


@pytest.fixture
def word_tokenizer(tmp_path) -> Path:
    """A word-level tokenizer saved like a hub one: one token per whitespace-separated word."""
    core = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.train_from_iterator(["book a flight"], trainers.WordLevelTrainer(special_tokens=["[UNK]"]))
    folder = tmp_path / "tokenizer"
    PreTrainedTokenizerFast(tokenizer_object=core, unk_token="[UNK]").save_pretrained(folder)
    return folder


def test_calls_with_keyword_named_arguments_go_through_every_command(tmp_path, word_tokenizer):
    source = keyword_samples(tmp_path)

    result = invoke("stats", source, "--tokenizer", word_tokenizer, "--markdown")
    assert result.exit_code == 0, result.output
    assert "| **total** | **6** |" in result.output

    assert invoke("convert", source, tmp_path / "trl.jsonl", "--to", "trl").exit_code == 0
    rows = [json.loads(line) for line in (tmp_path / "trl.jsonl").read_text().splitlines()]
    assert len(rows) == 6
    assert rows[0]["completion"][0]["content"].endswith(
        '[{"name": "book_flight", "arguments": {"from": "Paris", "to": "Rome", "class": "business"}}]')

    result = invoke("refine", source, "--out", tmp_path / "refined")
    assert result.exit_code == 0, result.output
    refined = {s.id: s for s in read_samples(tmp_path / "refined" / "refined.jsonl")}
    assert {"kw0", "kw1"} <= set(refined)
    assert refined["kw0"].verdicts[-1].reason.startswith("canonical: the calls render and parse back in json syntax")


def test_a_run_that_rejects_every_record_fails_and_writes_no_output(tmp_path, word_tokenizer):
    source = tmp_path / "bad.jsonl"
    source.write_text('{"id": "a"}\n{broken\n')
    for args in (("convert", source, tmp_path / "out.jsonl", "--to", "trl"),
                 ("cot", source, tmp_path / "out.jsonl"),
                 ("stats", source, "--tokenizer", word_tokenizer),
                 ("refine", source, "--out", tmp_path / "refined")):
        result = invoke(*args)
        assert result.exit_code == 2, (args[0], result.output)
        assert f"error: {source}: all 2 record(s) were rejected" in result.output, result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "out.jsonl").exists()
    assert not (tmp_path / "refined" / "refined.jsonl").exists()


def test_convert_failing_midway_leaves_no_partial_output(tmp_path):
    source = tmp_path / "in.jsonl"
    invoke("synth", source, "-n", 3)
    nan = '{"id": "nan", "messages": [{"role": "user", "content": "x"}], "answer": [{"name": "f", "arguments": {"a": NaN}}]}'
    source.write_text(source.read_text() + nan + "\n")
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")

    result = invoke("convert", source, target, "--to", "trl")

    assert result.exit_code == 2
    assert "error: sample 'nan': arguments of f: nan is not representable" in result.output
    assert target.read_text() == "old\n"  # the old output is intact, and no partial one is left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out.jsonl"]


def test_evaluate_scores_responses_and_compares_runs(tmp_path):
    responses = tmp_path / "responses.jsonl"
    responses.write_text(
        '{"id": "simple_python_0", "result": "[calculate_triangle_area(base=10, height=5)]"}\n'
        '{"id": "irrelevance_0", "result": "None of these functions fits."}\n'
        "not json\n"
    )
    result = invoke("evaluate", "--responses", responses, "--out", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert "| simple_python | 1 | 1 | 100.00 |" in result.output
    assert "| irrelevance | 1 | 1 | 100.00 |" in result.output
    assert f"1 malformed record(s) skipped, written to {tmp_path / 'a' / 'rejects.jsonl'}" in result.output

    thought = {"id": "simple_python_0", "result": "<think>\nsum\n</think>\n\n[calculate_triangle_area(base=10, height=5)]"}
    responses.write_text(json.dumps(thought) + "\n")
    as_bfcl = invoke("evaluate", "--responses", responses, "--out", tmp_path / "think")
    assert "| simple_python | 0 | 1 | 0.00 |" in as_bfcl.output  # BFCL cannot decode reasoning left in
    stripped = invoke("evaluate", "--responses", responses, "--strip-reasoning", "--out", tmp_path / "stripped")
    assert "| simple_python | 1 | 1 | 100.00 |" in stripped.output

    responses.write_text('{"id": "simple_python_0", "result": "[calculate_triangle_area(base=1, height=5)]"}\n')
    assert invoke("evaluate", "--responses", responses, "--out", tmp_path / "b").exit_code == 0
    compared = invoke("compare", tmp_path / "a", tmp_path / "b", "--markdown")
    assert compared.exit_code == 0, compared.output
    assert "| simple_python | 100.00 | 0.00 | -100.00 |" in compared.output
    alone = invoke("compare", tmp_path / "a")
    assert alone.exit_code == 2 and "comparing needs at least two evaluation folders" in alone.output


def test_evaluate_scores_every_model_of_a_bfcl_result_folder_and_compares_them(tmp_path):
    right = '{"id": "simple_python_0", "result": "[calculate_triangle_area(base=10, height=5)]"}\n'
    wrong = '{"id": "simple_python_0", "result": "[calculate_triangle_area(base=1, height=5)]"}\n'
    for model, text in (("base", right), ("org_tuned", wrong)):
        folder = tmp_path / "result" / model / "non_live"
        folder.mkdir(parents=True)
        (folder / "BFCL_v4_simple_python_result.json").write_text(text)
    out = tmp_path / "scores"

    result = invoke("evaluate", "--responses", tmp_path / "result", "--out", out, "--compare", "--plot")

    assert result.exit_code == 0, result.output
    assert "# BFCL scores: base" in result.output and "# BFCL scores: org_tuned" in result.output
    assert result.output.index("# BFCL scores: base") < result.output.index("BFCL: base vs org_tuned")
    compare_md = (out / "compare.md").read_text()
    assert "| score | base | org_tuned | Δ (points) |" in compare_md
    assert "| simple_python | 100.00 | 0.00 | -100.00 |" in compare_md
    for model in ("base", "org_tuned"):
        assert (out / model / "scores.json").is_file() and (out / model / "scores.png").is_file()

    plain = invoke("evaluate", "--responses", tmp_path / "result" / "base", "--out", tmp_path / "plain")
    assert plain.exit_code == 0 and not (tmp_path / "plain" / "scores.png").exists()  # scoring draws on --plot

    one = invoke("evaluate", "--responses", tmp_path / "result" / "base", "--out", tmp_path / "x", "--compare")
    assert one.exit_code == 2 and "--compare needs two or more answer sets" in one.output
    generating = invoke("evaluate", "--model", "m", "--out", tmp_path / "y", "--compare")
    assert generating.exit_code == 2 and "funreason compare DIR DIR" in generating.output


def test_evaluate_without_a_model_is_a_clear_error(tmp_path):
    result = invoke("evaluate", "--out", tmp_path / "x")
    assert result.exit_code == 2 and "give --model" in result.output


def test_train_from_a_config_file_prints_its_summary(tiny_model_dir, tmp_path):
    from funreason.records import write_jsonl
    from funreason.synth import generate
    from funreason.train.config import TrainConfig

    data = tmp_path / "train.jsonl"
    write_jsonl(data, generate(4, seed=5))
    config = TrainConfig(model=str(tiny_model_dir), data=data, output=tmp_path / "run", lora_r=0, max_steps=1,
                         batch_size=2, logging_steps=10, max_length=4096)  # fmt: skip
    config_path = tmp_path / "train.json"
    config_path.write_text(config.model_dump_json())

    result = invoke("train", "--config", config_path)

    assert result.exit_code == 0, result.output
    assert "optimiser steps" in result.output and (tmp_path / "run" / "final" / "config.json").is_file()


def test_convert_help_lists_every_reader_and_writer():
    from funreason.formats import READERS, WRITERS

    result = invoke("convert", "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for name in [*READERS, *WRITERS, "auto"]:
        assert name in text, name


def test_convert_auto_from_standard_input_says_what_it_chose(tmp_path):
    drone = Path(__file__).parent / "formats" / "data" / "drone_training.jsonl"
    target = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["convert", "-", str(target), "--from", "auto", "--to", "sharegpt"], input=drone.read_text())
    assert result.exit_code == 0, result.output
    assert "--from auto: reading <stdin> as openai: messages with tool_calls (first 6 rows)" in result.output
    assert "converted 6 samples openai -> sharegpt" in result.output
    assert "note: 4 rows whose tool-call arguments were JSON-encoded twice" in result.output
    assert len(target.read_text().splitlines()) == 6


def test_convert_auto_refuses_clearly(tmp_path):
    source = tmp_path / "x.jsonl"
    source.write_text('{"text": "hello"}\n')
    result = invoke("convert", source, tmp_path / "o.jsonl", "--from", "auto")
    assert result.exit_code == 2
    assert f"error: {source}: cannot tell the format from the first 1 rows; name it with --from" in result.output


def test_every_help_renders_its_defaults():
    # Rich reads "[...]" in help text as markup and drops it: a default is shown by typer instead.
    import typer.main

    command = typer.main.get_command(app)
    for name, sub in command.commands.items():
        result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, name
        text = " ".join(result.output.replace("│", " ").split())
        for param in sub.params:
            assert "[default" not in (param.help or ""), f"{name} {param.name}: let typer show the default"
            if isinstance(param.show_default, str):
                assert f"[default: ({param.show_default})]" in text, f"{name} {param.name}"
            elif param.default not in (None, False, ()) and not param.is_flag and param.name != "help":
                shown = ",".join(map(str, param.default)) if isinstance(param.default, list) else param.default
                assert f"[default: {shown}]" in text, f"{name} {param.name}"
    refine = " ".join(invoke("refine", "--help").output.replace("│", " ").split())
    assert "[default: (hybrid with --endpoint, else rules)]" in refine
