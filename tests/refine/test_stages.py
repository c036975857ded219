"""The paper's action on each verdict: save, drop, regenerate (bounded), hard pool, error."""

import asyncio
import importlib.util
from pathlib import Path

import pytest

from funreason.records import Sample, ToolCall
from funreason.refine import STAGES, Judgement
from funreason.refine.rules import RAW_ANSWER
from funreason.refine.stages import Track, run_stages, verdict_key

_spec = importlib.util.spec_from_file_location("_scripted", Path(__file__).with_name("_scripted.py"))
_scripted = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_scripted)
ScriptedJudge, ScriptedRegenerator = _scripted.ScriptedJudge, _scripted.ScriptedRegenerator

PASS = Judgement("pass", "ok")


def sample(answer=None, **meta):
    answer = [ToolCall(name="f", arguments={"a": 1})] if answer is None else answer
    return Sample(id="s", messages=[{"role": "user", "content": "q"}], answer=answer, meta=meta)


def scripted(**by_stage):
    """A judge passing every stage except those given (a Judgement, or a function of the sample)."""
    def script(stage, item):
        rule = by_stage.get(stage, PASS)
        return rule(item) if callable(rule) else rule
    return ScriptedJudge(script)


def run(items, judge, **options):
    async def ask(stage, tracks):
        return await judge.judge(stage, [t.sample for t in tracks])

    regenerator = options.pop("regenerator", None)
    regenerate = None
    if regenerator is not None:
        async def regenerate(stage, tracks, judgements):
            return await regenerator.regenerate(stage, [t.sample for t in tracks], judgements, [t.tries for t in tracks])

    tracks = [Track(i, item) for i, item in enumerate(items)]
    asyncio.run(run_stages(tracks, ask, judge.name, regenerate=regenerate, **options))
    return tracks


def path(track):
    return [(v.stage, v.decision) for v in track.trail]


def test_a_clean_sample_passes_all_five_stages():
    [track] = run([sample()], scripted())
    assert (track.outcome, track.end_stage) == ("refined", "format")
    assert path(track) == [(stage, "pass") for stage in STAGES]
    assert {v.judge for v in track.sample.verdicts} == {"scripted"}


def test_a_statement_is_saved_as_is_skipping_stages_two_to_five():
    [track] = run([sample("No tool fits.")], scripted(response=Judgement("fail", "statement")))
    assert (track.outcome, track.end_stage, path(track)) == ("refined", "response", [("response", "fail")])
    assert track.sample.answer == "No tool fits."


@pytest.mark.parametrize("stage", ["query_tool", "reasoning"])
def test_stages_two_and_three_drop(stage):
    [track] = run([sample()], scripted(**{stage: Judgement("fail", "nope: x")}))
    assert (track.outcome, track.end_stage, track.reason) == ("dropped", stage, "nope: x")
    assert path(track)[-1] == (stage, "fail") and len(path(track)) == STAGES.index(stage) + 1


def test_a_correction_replaces_the_answer_keeps_the_old_one_and_rechecks_from_stage_four():
    fixed = [ToolCall(name="f", arguments={"a": 2})]
    judge = scripted(function_params=lambda s: PASS if s.calls == fixed else Judgement("fail", "wrong a", fixed))
    [track] = run([sample()], judge)
    assert track.outcome == "refined"
    assert track.sample.answer == fixed and track.tries == 1
    assert track.sample.history == [{"field": "answer", "value": [{"name": "f", "arguments": {"a": 1}}],
                                     "reason": "function_params: wrong a"}]
    assert path(track) == [("response", "pass"), ("query_tool", "pass"), ("reasoning", "pass"),
                           ("function_params", "fail"), ("function_params", "pass"), ("format", "pass")]


def test_a_format_correction_moves_the_raw_text_to_history():
    judge = scripted(format=lambda s: Judgement("fail", "json", list(s.calls)) if RAW_ANSWER in s.meta else PASS)
    [track] = run([sample(**{RAW_ANSWER: '[{"name": "f", "arguments": {"a": 1}}]', "keep": 1})], judge)
    assert track.outcome == "refined" and track.sample.meta == {"keep": 1}
    assert track.sample.history[-1]["field"] == f"meta.{RAW_ANSWER}"
    assert path(track)[-3:] == [("format", "fail"), ("function_params", "pass"), ("format", "pass")]


def test_regeneration_is_bounded_then_the_sample_is_hard():
    def always_wrong(item):
        return Judgement("fail", "wrong", [ToolCall(name="f", arguments={"a": item.calls[0].arguments["a"] + 1})])

    for bound in (0, 1, 2):
        [track] = run([sample()], scripted(function_params=always_wrong), max_regenerations=bound)
        assert (track.outcome, track.end_stage, track.tries) == ("hard", "function_params", bound)
        assert track.reason == f"wrong (after {bound} regeneration(s))"
        assert len(track.sample.history) == bound


def test_without_a_correction_the_regenerator_rewrites_and_every_stage_is_asked_again():
    judge = scripted(function_params=lambda s: PASS if s.calls[0].arguments.get("regenerated") else Judgement("fail", "x"))
    [alone] = run([sample()], judge)
    assert (alone.outcome, alone.reason) == ("hard", "x (no correction, no regenerator)")
    regenerator = ScriptedRegenerator()
    [helped] = run([sample()], judge, regenerator=regenerator)
    assert helped.outcome == "refined" and helped.sample.calls[0].arguments == {"a": 1, "regenerated": True}
    assert regenerator.asked == [verdict_key(sample())]
    assert path(helped) == [(stage, "pass") for stage in STAGES[:3]] + [("function_params", "fail")] + [
        (stage, "pass") for stage in STAGES]
    assert helped.steps[4] == ("function_params", "rewritten", "function_params: x")


def test_an_unusable_rewrite_is_asked_again_within_the_bound_then_the_sample_is_hard():
    stuck_sample = sample([ToolCall(name="f", arguments={"regenerated": True})])
    for bound in (1, 3):
        regenerator = ScriptedRegenerator()
        [stuck] = run([stuck_sample], scripted(format=Judgement("fail", "y")), regenerator=regenerator,
                      max_regenerations=bound)
        assert (stuck.outcome, stuck.tries, len(regenerator.asked)) == ("hard", bound, bound)
        assert stuck.reason == f"y (after {bound} regeneration(s); the last was unusable: already regenerated)"
        assert [kind for _, kind, _ in stuck.steps].count("unusable") == bound


def test_a_rewrite_replaces_the_reasoning_and_marks_who_wrote_it():
    from funreason.refine.stages import Regeneration, rewritten

    before = sample(**{RAW_ANSWER: "f(a=1)", "reasoning_by": "template"}).model_copy(update={"reasoning": "old"})
    after = rewritten(before, Regeneration([ToolCall(name="f", arguments={"a": 2})], "new"), "format: x", "llm:t")
    assert (after.reasoning, after.meta, after.calls[0].arguments) == ("new", {"reasoning_by": "llm:t"}, {"a": 2})
    assert [(h["field"], h["value"]) for h in after.history] == [
        ("answer", [{"name": "f", "arguments": {"a": 1}}]), (f"meta.{RAW_ANSWER}", "f(a=1)"), ("reasoning", "old")]
    assert before.reasoning == "old" and before.meta["reasoning_by"] == "template"  # the original is untouched
    assert verdict_key(before) != verdict_key(before.model_copy(update={"meta": {RAW_ANSWER: "f(a=1)"}}))


@pytest.mark.parametrize(("policy", "outcome", "end"), [("pass", "refined", "format"), ("fail", "dropped", "reasoning"),
                                                        ("hard", "hard", "reasoning")])
def test_undecided_follows_the_policy(policy, outcome, end):
    [track] = run([sample()], scripted(reasoning=Judgement("undecided", "unsure")), undecided=policy)
    assert (track.outcome, track.end_stage) == (outcome, end)
    verdict = track.sample.verdicts[2]
    assert (verdict.decision, verdict.reason) == ("undecided", f"unsure [undecided, counted as {policy}]")


def test_an_error_ends_in_errors():
    [track] = run([sample()], scripted(query_tool=Judgement("error", "timeout")))
    assert (track.outcome, track.end_stage, path(track)[-1]) == ("error", "query_tool", ("query_tool", "error"))


def test_verdicts_of_earlier_runs_are_kept_and_not_part_of_the_trail():
    first = run([sample()], scripted())[0].sample
    [again] = run([first], ScriptedJudge(lambda stage, item: PASS, name="other"))
    assert len(again.sample.verdicts) == 10 and [v.judge for v in again.trail] == ["other"] * 5


def test_a_batch_mixes_outcomes_and_asks_each_stage_once_per_round():
    judge = scripted(query_tool=lambda s: Judgement("fail", "x") if s.id == "drop" else PASS)
    items = [sample().model_copy(update={"id": name}) for name in ("a", "drop", "b")]
    tracks = run(items, judge)
    assert [t.outcome for t in tracks] == ["refined", "dropped", "refined"]
    assert judge.calls == 5


def test_a_bad_policy_is_refused():
    with pytest.raises(ValueError, match="undecided must be"):
        run([sample()], scripted(), undecided="maybe")


@pytest.mark.parametrize(
    ("answer", "decision", "why"),
    [
        (None, "fail", "the judge called it a statement, but the answer holds 1 call(s)"),
        ("No tool fits.", "pass", "the judge called it a function call, but the answer is text"),
    ],
)
def test_a_stage_one_verdict_against_the_sample_is_not_taken_on_the_judges_word(answer, decision, why):
    [track] = run([sample(answer)], scripted(response=Judgement(decision, "judge says so")))
    assert (track.outcome, track.end_stage) == ("hard", "response")
    assert path(track) == [("response", decision)]
    assert why in track.reason and "judge says so" in track.reason
