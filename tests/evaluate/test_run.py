import asyncio
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from funreason.evaluate import bfcl
from funreason.evaluate import run as run_module
from funreason.evaluate.checker import check_entry
from funreason.evaluate.report import compare, plot_run
from funreason.evaluate.responses import answer_sets
from funreason.evaluate.run import evaluate_bfcl, score_answer_sets, score_responses, select_entries
from funreason.evaluate.scores import summarize
from funreason.llm.base import Generation
from funreason.train.segments import system_prompt_for

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("bfcl_eval") is None, reason="needs bfcl-eval (pip install --no-deps bfcl-eval)"
)

_spec = importlib.util.spec_from_file_location("_answers", Path(__file__).with_name("_answers.py"))
answers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(answers)

LIMIT = 3
REFUSAL = "None of the functions can answer this."
FAILED_ID = "irrelevance_2"  # its generation fails: wrong, although "no call" would pass


def right_answer(entry: bfcl.BfclEntry) -> str:
    if entry.category in ("irrelevance", "live_irrelevance"):
        return REFUSAL
    if entry.category == "live_relevance":
        return answers.render([(entry.functions[0]["name"], {})], "python", entry.functions)
    calls = answers.answer_calls(entry.possible_answer)
    return answers.render(calls, entry.language, entry.functions)


def wrong_answer(entry: bfcl.BfclEntry) -> str:
    if entry.category in ("irrelevance", "live_irrelevance"):
        return "[get_weather(city='Paris')]"  # a call where none is wanted
    return "I have no idea."


def answered_right(entries: list[bfcl.BfclEntry]) -> set[str]:
    """Entry k of each category is answered right when k is even (FAILED_ID fails to generate)."""
    position: dict[str, int] = {}
    right = set()
    for entry in entries:
        k = position[entry.category] = position.get(entry.category, -1) + 1
        if k % 2 == 0 and entry.id != FAILED_ID:
            right.add(entry.id)
    return right


class ScriptedGenerator:
    """Answers `answered_right` entries right (with reasoning) and the others wrong."""

    def __init__(self, entries: list[bfcl.BfclEntry], name: str = "scripted", fail_after: int | None = None):
        self.name = name
        self.script: dict[str, Generation] = {}
        self.prompts: list[list[dict]] = []
        self.fail_after = fail_after
        right = answered_right(entries)
        for entry in entries:
            if entry.id == FAILED_ID:
                generation = Generation(error="endpoint timed out")
            elif entry.id in right:
                generation = Generation(
                    f"<think>\nreasoning for {entry.id}\n</think>\n\n{right_answer(entry)}", "stop"
                )
            else:
                generation = Generation(wrong_answer(entry), "stop")
            self.script[json.dumps(entry.messages)] = generation

    async def agenerate(self, prompts, *, max_tokens=512, temperature=0.0, n=1):
        if self.fail_after is not None and len(self.prompts) >= self.fail_after:
            raise RuntimeError("generator crashed")
        self.prompts.extend(prompts)
        await asyncio.sleep(0)
        return [[self.script[json.dumps(prompt)]] for prompt in prompts]


@pytest.fixture(scope="module")
def entries():
    return select_entries("all", limit=LIMIT)


def expected_correct(entries) -> dict[str, int]:
    right = answered_right(entries)
    return {c: sum(e.id in right for e in entries if e.category == c) for c in bfcl.CATEGORIES}


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_the_right_answers_are_right(entries):
    # The hand count below relies on it: the scripted right answers pass, the wrong ones fail.
    right = answered_right(entries)
    for entry in entries:
        if entry.id in right:
            assert check_entry(entry, right_answer(entry)).valid, entry.id
        assert not check_entry(entry, wrong_answer(entry)).valid, entry.id


def test_evaluate_bfcl_end_to_end(entries, tmp_path):
    generator = ScriptedGenerator(entries)
    meta = {"model": "scripted-model", "adapter": "runs/lora"}
    summary = evaluate_bfcl(
        generator, tmp_path, categories="all", limit=LIMIT, max_tokens=64, seed=7, chunk_size=10, meta=meta
    )
    for name in ("results.jsonl", "scores.json", "scores.md", "scores.png", "run.json"):
        assert (tmp_path / name).is_file(), name
    assert (tmp_path / "scores.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # BFCL's own prompt, exactly, for every entry; each entry generated once.
    assert sorted(json.dumps(p) for p in generator.prompts) == sorted(json.dumps(e.messages) for e in entries)

    rows = read_rows(tmp_path / "results.jsonl")
    assert [row["id"] for row in rows] == [entry.id for entry in entries]  # BFCL order, not chunk order
    first = rows[0]
    assert first["reasoning"] == "reasoning for simple_python_0"
    assert first["answer"] == right_answer(entries[0])
    assert first["decoded"] == [
        {name: args} for name, args in answers.answer_calls(entries[0].possible_answer)
    ]
    assert first["valid"] and first["error_type"] == "" and first["finish_reason"] == "stop"
    second = rows[1]
    assert not second["valid"] and second["decoded"] is None
    assert second["error_type"] == "ast_decoder:decoder_failed" and second["errors"]
    failed = next(row for row in rows if row["id"] == FAILED_ID)
    assert not failed["valid"] and failed["generation_error"] == "endpoint timed out"
    assert failed["error_type"] == "generation_error"

    expected = expected_correct(entries)
    assert {name: score.correct for name, score in summary.scores.items()} == expected
    assert {name: score.total for name, score in summary.scores.items()} == {
        c: LIMIT for c in bfcl.CATEGORIES
    }
    assert summary.summary == summarize(summary.scores)
    assert summary.summary["overall"] == pytest.approx(2 / 3)
    assert summary.summary["irrelevance"] == pytest.approx((1 / 3 + 2 / 3) / 2)
    assert (summary.generated, summary.reused, summary.failed, summary.entries) == (39, 0, 1, 39)

    doc = json.loads((tmp_path / "scores.json").read_text())
    assert doc["categories"]["simple_python"] == {"correct": 2, "total": 3, "accuracy": pytest.approx(2 / 3)}
    assert doc["summary"]["overall"] == pytest.approx(2 / 3)
    run = doc["run"]
    assert run["bfcl_eval_version"] == importlib.metadata.version("bfcl-eval")
    assert run["model"] == "scripted-model" and run["adapter"] == "runs/lora"
    assert run["generator"] == "scripted" and run["seed"] == 7
    assert run["config"]["limit"] == LIMIT and run["config"]["max_tokens"] == 64
    assert run["config"]["categories"] == list(bfcl.CATEGORIES)
    assert run["funreason"] and run["date"] and run["hardware"] and run["torch"] and run["transformers"]
    assert "git_commit" in run
    assert doc["counts"] == {"entries": 39, "generated": 39, "reused": 0, "generation_errors": 1}

    markdown = (tmp_path / "scores.md").read_text()
    assert "| Overall | 66.67 |" in markdown
    assert "| simple_python | 2 | 3 | 66.67 |" in markdown
    assert "scripted-model" in markdown


def test_rerun_generates_only_missing_and_failed_entries(entries, tmp_path):
    evaluate_bfcl(ScriptedGenerator(entries), tmp_path, categories="all", limit=2, progress=False)
    generator = ScriptedGenerator(entries)
    summary = evaluate_bfcl(generator, tmp_path, categories="all", limit=LIMIT, progress=False)
    third = {e.id for e in entries} - {e.id for e in select_entries("all", limit=2)}
    sent = {entry.id for entry in entries if json.dumps(entry.messages) in map(json.dumps, generator.prompts)}
    assert sent == third  # FAILED_ID is one of them: it would have been tried again anyway
    assert (summary.generated, summary.reused) == (13, 26)
    assert {name: s.correct for name, s in summary.scores.items()} == expected_correct(entries)
    assert [row["id"] for row in read_rows(tmp_path / "results.jsonl")] == [e.id for e in entries]


def test_a_crash_keeps_finished_chunks(entries, tmp_path):
    crashing = ScriptedGenerator(entries, fail_after=10)
    with pytest.raises(RuntimeError, match="generator crashed"):
        evaluate_bfcl(crashing, tmp_path, categories="all", limit=LIMIT, chunk_size=5, progress=False)
    kept = read_rows(tmp_path / "results.jsonl")
    assert len(kept) == 10
    finished = sum(row["generation_error"] is None for row in kept)
    with (tmp_path / "results.jsonl").open("a") as handle:
        handle.write('{"id": "simple_python_0", "val')  # a line torn by the crash
    generator = ScriptedGenerator(entries)
    summary = evaluate_bfcl(generator, tmp_path, categories="all", limit=LIMIT, chunk_size=5, progress=False)
    assert len(generator.prompts) == 39 - finished  # a failed generation is tried again
    assert {name: s.correct for name, s in summary.scores.items()} == expected_correct(entries)
    assert len(read_rows(tmp_path / "results.jsonl")) == 39


def test_another_generator_cannot_resume_a_folder(entries, tmp_path):
    evaluate_bfcl(ScriptedGenerator(entries), tmp_path, categories="multiple", limit=1, progress=False)
    with pytest.raises(ValueError, match="another run .*generator 'scripted' -> 'other'"):
        evaluate_bfcl(ScriptedGenerator(entries, "other"), tmp_path, categories="multiple", limit=1)
    with pytest.raises(ValueError, match="max_tokens 1024 -> 32"):
        evaluate_bfcl(ScriptedGenerator(entries), tmp_path, categories="multiple", limit=1, max_tokens=32)
    with pytest.raises(ValueError, match="another run"):
        score_responses(shutil.copy(tmp_path / "results.jsonl", tmp_path / "copy.jsonl"), tmp_path)
    with pytest.raises(ValueError, match="results jsonl file .* is the input"):  # it would overwrite its input
        score_responses(tmp_path / "results.jsonl", tmp_path)


def test_prompt_is_bfcls_and_training_uses_the_same_wording(entries):
    for entry in entries:
        assert entry.messages[0]["content"].startswith(system_prompt_for(entry.functions, "json"))
        assert system_prompt_for(entry.functions, "json") == bfcl.system_prompt(entry.functions)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_score_responses(entries, tmp_path):
    by_id = {entry.id: entry for entry in entries}
    truth = right_answer(by_id["simple_python_0"])
    responses = write_lines(
        tmp_path / "BFCL_v4_result.json",
        [
            json.dumps({"id": "simple_python_0", "result": truth}),
            json.dumps({"id": "simple_python_1", "result": "nothing"}),
            json.dumps({"id": "multiple_0", "result": [{"f": "{}"}]}),  # an FC result: judged, the wrong function
            '{"id": "simple_python_2", "result": ',  # line 4: not JSON
            json.dumps({"id": "simple_python_99999", "result": truth}),  # line 5: no such entry
            json.dumps({"id": "nonsense_1", "result": truth}),  # line 6: no such category
            json.dumps({"id": "simple_python_0", "result": "again"}),  # line 7: duplicate
            json.dumps({"id": "irrelevance_0"}),  # line 8: no result
            json.dumps({"id": "irrelevance_0", "result": REFUSAL}),
            json.dumps({"id": "multiple_1", "result": {"f": "{}"}}),  # neither text nor a list: unsupported
        ],
    )
    out = tmp_path / "scored"
    summary = score_responses(responses, out)
    assert summary.rejects == 5
    rejected = {row["where"].rsplit(":", 1)[1]: row["error"] for row in read_rows(out / "rejects.jsonl")}
    assert set(rejected) == {"4", "5", "6", "7", "8"}
    assert "unknown BFCL id 'simple_python_99999'" in rejected["5"]
    assert "duplicate id 'simple_python_0', first at" in rejected["7"]
    scores = {name: (s.correct, s.total) for name, s in summary.scores.items()}
    assert scores == {"simple_python": (1, 2), "multiple": (0, 2), "irrelevance": (1, 1)}
    rows = {row["id"]: row for row in read_rows(out / "results.jsonl")}
    assert [*rows] == ["simple_python_0", "simple_python_1", "multiple_0", "multiple_1", "irrelevance_0"]  # BFCL order
    assert rows["multiple_0"]["error_type"] == "simple_function_checker:wrong_func_name"
    assert rows["multiple_0"]["decoded"] == [{"f": {}}]
    assert rows["multiple_1"]["error_type"] == "unsupported_result"
    assert "dict" in rows["multiple_1"]["errors"][0] and rows["multiple_1"]["generation_error"] is None
    doc = json.loads((out / "scores.json").read_text())
    assert doc["counts"]["rejected_lines"] == 5 and doc["summary"]["overall"] is None
    assert doc["run"]["config"]["responses"] == [str(responses)] and doc["run"]["generator"] is None
    assert "| Overall | n/a |" in (out / "scores.md").read_text()


def test_compare(entries, tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    lines = [json.dumps({"id": e.id, "result": right_answer(e)}) for e in entries if e.category == "multiple"]
    score_responses(write_lines(tmp_path / "a.jsonl", lines), a, meta={"model": "base"})
    lines[0] = json.dumps({"id": "multiple_0", "result": "no"})
    lines.append(json.dumps({"id": "parallel_0", "result": right_answer(entries[12])}))
    score_responses(write_lines(tmp_path / "b.jsonl", lines), b, meta={"model": "tuned"})
    score_responses(write_lines(tmp_path / "c.jsonl", lines[1:2]), c, meta={"answer_set": "one"})
    comparison = compare(a, b)
    rows = {row.name: row for row in comparison.rows}
    assert rows["multiple"].values == (1.0, pytest.approx(2 / 3))
    assert rows["multiple"].delta(1) == pytest.approx(-1 / 3)
    assert rows["parallel"].values == (None, 1.0) and rows["parallel"].delta(1) is None
    assert rows["Overall"].delta(1) is None and rows["Overall"].totals is None
    markdown = comparison.markdown()
    assert "| score | base | tuned | Δ (points) |" in markdown
    assert "| multiple | 100.00 | 66.67 | -33.33 |" in markdown
    assert "| parallel | n/a | 100.00 | n/a* |" in markdown
    console = Console(record=True, width=100)
    console.print(comparison.table())
    assert "-33.33" in console.export_text()

    three = compare(a, b, c)  # a column and a delta against the first for every run after it
    assert three.labels == ("base", "tuned", "one")
    assert "| score | base | tuned | Δ (points) | one | Δ (points) |" in three.markdown()
    assert "| multiple | 100.00 | 66.67 | -33.33 | 100.00 | +0.00* |" in three.markdown()
    with pytest.raises(ValueError, match="at least two"):
        compare(a)


def result_file(root: Path, model: str, group: str, category: str, lines: list[str]) -> Path:
    """A result file where bfcl-eval writes it: result/<model>/<group>/BFCL_v4_<category>_result.json."""
    folder = root / "result" / model / group
    folder.mkdir(parents=True, exist_ok=True)
    return write_lines(folder / f"BFCL_v4_{category}_result.json", lines)


def test_answer_sets_follow_bfcls_result_layout(tmp_path):
    a = result_file(tmp_path, "org_model-a", "non_live", "multiple", ['{"id": "multiple_0", "result": ""}'])
    a_live = result_file(tmp_path, "org_model-a", "live", "live_simple", ['{"id": "live_simple_0-0-0", "result": ""}'])
    b = result_file(tmp_path, "model-b", "non_live", "multiple", ['{"id": "multiple_0", "result": ""}'])
    memory = result_file(tmp_path, "model-b", "agentic/memory/kv", "memory_kv", ['{"id": "memory_kv_0", "result": []}'])
    ours = write_lines(tmp_path / "ours.jsonl", ['{"id": "multiple_0", "result": ""}'])

    sets = answer_sets([tmp_path / "result", ours])
    assert [(s.name, s.files, s.model) for s in sets] == [
        ("model-b", (memory, b), True),
        ("org_model-a", (a_live, a), True),
        ("ours", (ours,), False),
    ]
    # However a model's files are given, they are one set; a folder of other files is one set.
    assert [(s.name, s.files) for s in answer_sets([a, a_live.parent])] == [("org_model-a", (a, a_live))]
    assert [s.name for s in answer_sets([tmp_path / "result" / "model-b"])] == ["model-b"]
    plain = tmp_path / "plain"
    plain.mkdir()
    write_lines(plain / "x.jsonl", ['{"id": "multiple_0", "result": ""}'])
    write_lines(plain / "y.json", ['{"id": "multiple_1", "result": ""}'])
    assert [(s.name, len(s.files), s.model) for s in answer_sets([plain])] == [("plain", 2, False)]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .json or .jsonl files below"):
        answer_sets([tmp_path / "empty"])
    other = tmp_path / "elsewhere"
    result_file(other, "model-b", "live", "live_simple", ['{"id": "live_simple_0-0-0", "result": ""}'])
    with pytest.raises(ValueError, match="two answer sets are named 'model-b'"):
        answer_sets([tmp_path / "result", other / "result"])


def test_score_answer_sets_scores_each_set_on_its_own(entries, tmp_path):
    multiple = [e for e in entries if e.category == "multiple"]
    right = [json.dumps({"id": e.id, "result": right_answer(e)}) for e in multiple]
    result_file(tmp_path, "good", "non_live", "multiple", right)
    result_file(tmp_path, "bad", "non_live", "multiple", [
        json.dumps({"id": "multiple_0", "result": right_answer(multiple[0])}),
        json.dumps({"id": "multiple_1", "result": "no"}),
        json.dumps({"id": "multiple_0", "result": "again"}),  # line 3: repeated in this set
        json.dumps({"id": "parallel_0", "result": "[f()]"}),  # line 4: not what the file name says
    ])  # fmt: skip
    result_file(tmp_path, "bad", "multi_turn", "multi_turn_base", ['{"id": "multi_turn_base_0", "result": [[]]}'])
    result_file(tmp_path, "bad", "agentic", "memory_kv", ['{"id": "memory_kv_0", "result": [[]]}'])
    out = tmp_path / "scored"

    bad, good = score_answer_sets(answer_sets([tmp_path / "result"]), out, plot=False)

    assert (bad.out_dir, good.out_dir) == (out / "bad", out / "good")  # in the folders' sorted order
    assert {name: (s.correct, s.total) for name, s in good.scores.items()} == {"multiple": (3, 3)}
    assert {name: (s.correct, s.total) for name, s in bad.scores.items()} == {
        "multiple": (1, 2), "multi_turn_base": (0, 1)}  # one turn of four: force-terminated
    bad_file = tmp_path / "result" / "bad" / "non_live" / "BFCL_v4_multiple_result.json"
    rejected = {row["where"]: row["error"] for row in read_rows(out / "bad" / "rejects.jsonl")}
    assert rejected == {
        f"{bad_file}:3": f"duplicate id 'multiple_0', first at {bad_file}:1",
        f"{bad_file}:4": "id 'parallel_0' is not a multiple entry, as the file name says",
        f"{tmp_path / 'result' / 'bad' / 'agentic' / 'BFCL_v4_memory_kv_result.json'}:1":
            "BFCL category 'memory_kv' (the file name's) is not scored by funreason",
    }  # fmt: skip
    assert bad.rejects == 3 and good.rejects == 0
    doc = json.loads((out / "bad" / "scores.json").read_text())
    assert doc["run"]["model"] == doc["run"]["answer_set"] == "bad"
    assert not (out / "bad" / "scores.png").exists()  # plot=False: left for after the tables
    assert plot_run(out / "bad").read_bytes()[:4] == b"\x89PNG"

    single = score_answer_sets(answer_sets([tmp_path / "result" / "good"]), tmp_path / "one")
    assert single[0].out_dir == tmp_path / "one" and (tmp_path / "one" / "scores.png").is_file()


def test_scoring_imports_no_torch_and_builds_no_prompt(entries, tmp_path):
    # A fresh interpreter: scoring must stay fast, so neither torch nor transformers is imported
    # and BFCL's prompts (language hints, system prompt) are never built.
    lines = [json.dumps({"id": e.id, "result": right_answer(e)}) for e in entries]
    responses = write_lines(tmp_path / "answers.jsonl", lines)
    script = (
        "import sys\n"
        "from funreason.cli import app\n"
        "from funreason.evaluate import run\n"
        "loaded, read = [], run.load_category\n"
        "def spy(category, data_dir=None):\n    found = read(category, data_dir)\n    loaded.extend(found)\n    return found\n"
        "run.load_category = spy\n"
        f"args = ['evaluate', '--responses', {str(responses)!r}, '--out', {str(tmp_path / 'out')!r}]\n"
        "try:\n    app(args)\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print('HEAVY', sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
        "print('PROMPTS', sum('messages' in vars(e) or 'functions' in vars(e) for e in loaded), len(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(Path(run_module.__file__).parents[2])})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| Overall |" in done.stdout
    assert "HEAVY []" in done.stdout
    assert "PROMPTS 0 3641" in done.stdout  # every category read, not one prompt built


@pytest.mark.slow
def test_local_generator_on_a_tiny_model(smollm2_checkpoint, tiny_lm, tmp_path):
    from funreason.llm.local import LocalGenerator
    from funreason.models import load_tokenizer

    tokenizer = load_tokenizer(smollm2_checkpoint)
    model = tiny_lm(len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                    num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=2048)  # fmt: skip
    generator = LocalGenerator(model, tokenizer, batch_size=8)
    summary = evaluate_bfcl(generator, tmp_path, categories="all", limit=2, max_tokens=6, progress=False)
    rows = read_rows(tmp_path / "results.jsonl")
    assert len(rows) == 26 == summary.entries
    assert all(row["completion_tokens"] or row["generation_error"] for row in rows)
    assert any(row["generation_error"] is None for row in rows)
    doc = json.loads((tmp_path / "scores.json").read_text())
    assert doc["run"]["generator_stats"]["completion_tokens"] > 0
    assert doc["run"]["device"] == "cpu (torch.float32)"
    for name in ("scores.md", "scores.png"):
        assert (tmp_path / name).stat().st_size > 0


class StreamingGenerator(ScriptedGenerator):
    """A local-model-like generator: one queue, answers come back one by one in any order."""

    def __init__(self, entries, crash_after: int | None = None):
        super().__init__(entries, name="streaming")
        self.crash_after = crash_after

    def generate_stream(self, prompts, *, max_tokens=512, temperature=0.0, n=1):
        self.prompts.extend(prompts)
        for done, index in enumerate(reversed(range(len(prompts)))):
            if self.crash_after is not None and done == self.crash_after:
                raise RuntimeError("killed")
            yield index, [self.script[json.dumps(prompts[index])]]


def test_a_streaming_generator_keeps_each_answer_as_it_finishes(entries, tmp_path):
    simple = [e for e in entries if e.category in ("simple_python", "multiple")]
    with pytest.raises(RuntimeError, match="killed"):
        evaluate_bfcl(StreamingGenerator(simple, crash_after=4), tmp_path, categories=["simple_python", "multiple"],
                      limit=LIMIT, progress=False)  # fmt: skip
    assert len(read_rows(tmp_path / "results.jsonl")) == 4  # kept, one line per finished answer
    generator = StreamingGenerator(simple)
    summary = evaluate_bfcl(generator, tmp_path, categories=["simple_python", "multiple"], limit=LIMIT,
                            progress=False)  # fmt: skip
    assert len(generator.prompts) == 2 * LIMIT - 4 and summary.reused == 4
    assert [row["id"] for row in read_rows(tmp_path / "results.jsonl")] == [e.id for e in simple]
    assert {name: score.correct for name, score in summary.scores.items()} == {
        c: n for c, n in expected_correct(simple).items() if c in ("simple_python", "multiple")
    }


def test_score_responses_judges_reasoning_as_bfcl_unless_stripped(bfcl, entries, tmp_path):
    by_id = {entry.id: entry for entry in entries}
    thought = "<think>\nThe user wants a call.\n</think>\n\n"
    results = {
        "simple_python_0": thought + right_answer(by_id["simple_python_0"]),
        "irrelevance_0": thought + "[get_weather(city='Paris')]",
    }
    responses = write_lines(
        tmp_path / "result.json", [json.dumps({"id": key, "result": text}) for key, text in results.items()]
    )
    with pytest.raises(SyntaxError):  # BFCL's decoder cannot read a result with its reasoning left in
        bfcl.decode(results["simple_python_0"], bfcl.ReturnFormat.PYTHON, False)

    score_responses(responses, tmp_path / "as_bfcl")
    rows = {row["id"]: row for row in read_rows(tmp_path / "as_bfcl" / "results.jsonl")}
    assert (rows["simple_python_0"]["valid"], rows["simple_python_0"]["error_type"]) == (
        False,
        "ast_decoder:decoder_failed",
    )
    assert rows["irrelevance_0"]["valid"]  # BFCL decodes no call from it
    assert rows["simple_python_0"]["answer"] == results["simple_python_0"]
    assert rows["simple_python_0"]["reasoning"] == ""

    score_responses(responses, tmp_path / "stripped", strip_reasoning=True)
    rows = {row["id"]: row for row in read_rows(tmp_path / "stripped" / "results.jsonl")}
    assert rows["simple_python_0"]["valid"]
    assert rows["simple_python_0"]["reasoning"] == "The user wants a call."
    assert rows["simple_python_0"]["answer"] == right_answer(by_id["simple_python_0"])
    irrelevant = rows["irrelevance_0"]
    assert (irrelevant["valid"], irrelevant["error_type"]) == (False, "irrelevance_error:decoder_success")
    doc = json.loads((tmp_path / "stripped" / "scores.json").read_text())
    assert doc["run"]["config"]["strip_reasoning"] is True
