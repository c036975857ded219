"""`refine` end to end: the output files, the report, the verdict cache, resuming, errors."""

import importlib.util
import json
from collections import Counter
from pathlib import Path

import pytest
from filelock import FileLock

from funreason.llm import EndpointDown
from funreason.records import RecordError, Sample, read_samples, write_jsonl
from funreason.refine import Judgement, make_judge
from funreason.refine.faults import inject_faults
from funreason.refine.pipeline import FILES, refine
from funreason.synth import generate

_spec = importlib.util.spec_from_file_location("_scripted", Path(__file__).with_name("_scripted.py"))
_scripted = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_scripted)
ScriptedJudge, ScriptedRegenerator, hashed = _scripted.ScriptedJudge, _scripted.ScriptedRegenerator, _scripted.hashed
OUTPUTS = [*FILES.values(), "rejects.jsonl", "report.md", "funnel.png"]


def data(tmp_path, n=120, seed=0, bad_line=True):
    path = tmp_path / "in.jsonl"
    write_jsonl(path, inject_faults(generate(n, seed=seed), share=0.5, seed=seed))
    if bad_line:
        with path.open("a") as handle:
            handle.write('{"id": "broken"\n')
    return path


def outputs(out):
    """Each output file's bytes, None for one that is absent (rejects.jsonl when nothing was)."""
    return {name: (out / name).read_bytes() if (out / name).exists() else None for name in OUTPUTS}


def ids(out, name):
    return [s.id for s in read_samples(out / name)]


def test_refine_writes_every_output_in_input_order(tmp_path):
    source = data(tmp_path)
    summary = refine(source, tmp_path / "out", make_judge("rules"), progress=False)
    out = tmp_path / "out"
    assert summary.input == 120 and summary.rejects == 1
    assert summary.refined + summary.hard + summary.dropped + summary.errors == 120
    assert summary.dropped > 0 and summary.hard > 0 and summary.statements > 0 and summary.errors == 0
    wanted = [json.loads(line)["id"] for line in source.read_text().splitlines()[:-1]]
    written = {name: ids(out, name) for name in FILES.values()}
    assert sorted(sum(written.values(), []), key=wanted.index) == wanted  # none lost, none twice
    for found in written.values():
        assert found == sorted(found, key=wanted.index)
    refined = list(read_samples(out / "refined.jsonl"))
    assert all(len(s.verdicts) in (1, 5) or s.history for s in refined)
    assert json.loads((out / "rejects.jsonl").read_text())["where"].endswith("in.jsonl:121")
    report = (out / "report.md").read_text()
    assert "## Funnel" in report and "| 2. query & tool identification |" in report
    assert "tool not offered" in report and "value not in query" in report
    assert (out / "funnel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    run = json.loads((out / "run.json").read_text())
    assert run["settings"]["judge"] == "rules" and run["summary"]["input"] == 120
    assert summary.funnel["input"] == 120 and summary.funnel["format"] <= summary.funnel["response"]


def test_a_rerun_asks_no_judge_again_and_writes_the_same_files(tmp_path):
    source, out = data(tmp_path), tmp_path / "out"
    first = refine(source, out, make_judge("rules"), progress=False)
    before = outputs(out)
    again = refine(source, out, make_judge("rules"), progress=False)
    assert (again.judged, again.resumed) == (0, 120)
    assert outputs(out) == before and first.funnel == again.funnel
    # Another policy is another run over the same verdicts: recomputed, yet no judge call.
    other = refine(source, out, make_judge("rules"), undecided="hard", progress=False)
    assert (other.judged, other.resumed) == (0, 0) and other.cached > 0
    assert other.hard > first.hard


def test_identical_samples_are_judged_once(tmp_path):
    item = next(s for s in generate(10) if s.is_call)
    path = tmp_path / "in.jsonl"
    write_jsonl(path, [item.model_copy(update={"id": f"copy-{i}"}) for i in range(40)])
    judge = ScriptedJudge(lambda stage, s: Judgement("pass", "ok"))
    summary = refine(path, tmp_path / "out", judge, batch_size=4, concurrency=4, progress=False)
    assert summary.refined == 40 and len(judge.judged) == 5 and summary.judged == 5
    assert ids(tmp_path / "out", "refined.jsonl") == [f"copy-{i}" for i in range(40)]


def test_judge_errors_go_to_errors_and_are_judged_again_next_run(tmp_path):
    source, out = data(tmp_path, n=40, bad_line=False), tmp_path / "out"
    unlucky = {s.id for s in list(read_samples(source))[::7]}

    def flaky(stage, item):
        return Judgement("error", "timeout") if stage == "reasoning" and item.id in unlucky else hashed(stage, item)

    first = refine(source, out, ScriptedJudge(flaky), progress=False)
    errored = ids(out, "errors.jsonl")
    assert first.errors == len(errored) > 0 and set(errored) <= unlucky
    judge = ScriptedJudge(hashed)
    second = refine(source, out, judge, progress=False)
    assert second.errors == 0 and second.resumed == 40 - len(errored)
    assert {stage for stage, _ in judge.judged} <= {"reasoning", "function_params", "format"}
    assert len({key for stage, key in judge.judged if stage == "reasoning"}) == len(errored)


def test_a_judge_that_raises_sends_its_batch_to_errors(tmp_path):
    source = data(tmp_path, n=20, bad_line=False)

    def broken(stage, item):
        if stage == "format":
            raise KeyError("boom")
        return hashed(stage, item)

    summary = refine(source, tmp_path / "out", ScriptedJudge(broken), progress=False)
    errors = list(read_samples(tmp_path / "out" / "errors.jsonl"))
    assert summary.errors == len(errors) > 0
    assert errors[0].verdicts[-1].reason == "judge failed: KeyError: 'boom'"


def test_an_endpoint_that_goes_down_stops_the_run_and_the_rerun_resumes(tmp_path):
    source, out = data(tmp_path, n=60, bad_line=False), tmp_path / "out"

    class Dying(ScriptedJudge):
        async def judge(self, stage, samples):
            if self.calls >= 6:
                raise EndpointDown("gone")
            return await super().judge(stage, samples)

    first = Dying(hashed)
    with pytest.raises(EndpointDown):
        refine(source, out, first, batch_size=8, concurrency=2, progress=False)
    assert not (out / "refined.jsonl").exists()
    second = ScriptedJudge(hashed)
    refine(source, out, second, batch_size=8, concurrency=2, progress=False)
    assert not set(first.judged) & set(second.judged)
    fresh = ScriptedJudge(hashed)
    refine(source, tmp_path / "fresh", fresh, progress=False)
    assert Counter(first.judged + second.judged) == Counter(fresh.judged)
    assert outputs(out) == outputs(tmp_path / "fresh")


def test_regenerated_answers_are_stored_and_not_asked_for_again(tmp_path):
    source, out = data(tmp_path, n=80, bad_line=False), tmp_path / "out"
    regenerator = ScriptedRegenerator()
    first = refine(source, out, ScriptedJudge(hashed), regenerator=regenerator, progress=False)
    assert regenerator.asked and first.regenerated > len(regenerator.asked)
    regenerated = [s for s in read_samples(out / "refined.jsonl") if s.history]
    assert any(c.arguments.get("regenerated") for s in regenerated for c in s.calls)
    again = ScriptedRegenerator()
    judge = ScriptedJudge(hashed, version="2")  # asked everything again: same verdicts, same regenerations
    refine(source, out, judge, regenerator=again, progress=False)
    assert again.asked == [] and judge.judged


def test_a_changed_or_shorter_input_is_recomputed(tmp_path):
    source, out = data(tmp_path, n=30, bad_line=False), tmp_path / "out"
    refine(source, out, make_judge("rules"), progress=False)
    items = list(read_samples(source))
    items[3] = items[3].model_copy(update={"id": "renamed"})
    write_jsonl(source, items[:20])
    summary = refine(source, out, make_judge("rules"), progress=False)
    assert (summary.input, summary.resumed, summary.judged) == (20, 19, 0)
    everything = sum((ids(out, name) for name in FILES.values()), [])
    assert sorted(everything) == sorted(s.id for s in items[:20]) and "renamed" in everything


def test_bad_inputs_and_options_are_refused(tmp_path):
    source = data(tmp_path, n=5)
    with pytest.raises(RecordError, match="in.jsonl:6"):
        refine(source, tmp_path / "strict", make_judge("rules"), strict=True, progress=False)
    with pytest.raises(FileNotFoundError):
        refine(tmp_path / "nope.jsonl", tmp_path / "out", make_judge("rules"), progress=False)
    with pytest.raises(ValueError, match="undecided must be"):
        refine(source, tmp_path / "out", make_judge("rules"), undecided="maybe", progress=False)
    (tmp_path / "busy").mkdir()
    with FileLock(tmp_path / "busy" / ".refine.lock"), pytest.raises(RuntimeError, match="another refine run"):
        refine(source, tmp_path / "busy", make_judge("rules"), progress=False)

    class Short(ScriptedJudge):
        async def judge(self, stage, samples):
            return (await super().judge(stage, samples))[:-1]

    with pytest.raises(RuntimeError, match="returned 4 judgements for 5 samples"):
        refine(source, tmp_path / "short", Short(hashed), progress=False)

    def loose(stage, item):
        return Judgement("fail", "x", [{"name": "f"}]) if stage == "function_params" else Judgement("pass", "ok")

    with pytest.raises(RuntimeError, match="a correction that is not a list of ToolCall"):
        refine(source, tmp_path / "loose", ScriptedJudge(loose), progress=False)


def test_progress_bars_do_not_change_the_outputs(tmp_path, capsys):
    source = data(tmp_path, n=30)
    refine(source, tmp_path / "quiet", make_judge("rules"), progress=False)
    refine(source, tmp_path / "shown", make_judge("rules"), progress=True)
    assert "query & tool identification" in capsys.readouterr().err
    assert outputs(tmp_path / "quiet") == outputs(tmp_path / "shown")
    assert Sample.model_validate_json((tmp_path / "shown" / "refined.jsonl").read_text().splitlines()[0])
