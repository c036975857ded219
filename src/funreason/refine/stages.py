"""FCDR's five stages and the paper's action on each verdict (FunReason, section 3.1).

| stage | on fail |
|---|---|
| 1 response | the answer is a statement: saved as is, stages 2-5 skipped |
| 2 query & tool, 3 reasoning | dropped |
| 4 function & parameters, 5 format | regenerated and checked again, at most `max_regenerations` attempts; then the hard pool |

A failing stage 4-5 judgement is acted on in this order:
- its `correction` (the LLM judge's `<NewFC>`, the rules judge's mechanical fixes) replaces the
  answer, which is checked again from stage 4 (the reasoning is unchanged, so stage 3 stands);
- else the `Regenerator` (a teacher LLM, `refine.teacher`) rewrites the reasoning and the answer
  from the judge's finding, and the rewritten sample goes through FCDR again from stage 1; a reply
  it cannot use (garbage, a timeout) is a failed attempt, and the teacher is asked again;
- without either, or once the attempts are used up, the sample goes to the hard pool.
Every attempt counts against `max_regenerations`. A replaced answer or reasoning moves to
`Sample.history` (`Sample.with_answer`); rewritten reasoning is marked in `meta["reasoning_by"]`.

`undecided` verdicts follow the run's policy: counted as `pass` (the default, for the rules judge
alone), as `fail`, or sent straight to the `hard` pool; the verdict's reason says which, and the
report counts samples kept on an undecided verdict. An `error` verdict ends the sample in
`errors.jsonl`. A stage-1 verdict that contradicts the sample (a statement verdict for an answer
holding calls, or the reverse) is recorded and sends the sample to the hard pool. Every verdict is appended to `sample.verdicts`; `Track.steps` lists this run's
verdicts and regeneration attempts in order (the store keeps them as the outcome's trail).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from funreason.records import REASONING_BY, TEMPLATE, Sample, ToolCall, Verdict
from funreason.refine.judges import STAGES, Judgement
from funreason.refine.rules import RAW_ANSWER

Outcome = Literal["refined", "hard", "dropped", "error"]
Undecided = Literal["pass", "fail", "hard"]
OUTCOMES: tuple[Outcome, ...] = ("refined", "hard", "dropped", "error")
TITLES = {
    "response": "response identification",
    "query_tool": "query & tool identification",
    "reasoning": "reasoning identification",
    "function_params": "function & parameter identification",
    "format": "format identification",
}
ON_FAIL = {"response": "save", "query_tool": "drop", "reasoning": "drop",
           "function_params": "regenerate", "format": "regenerate"}
# What a regeneration attempt did, as written in `Track.steps` next to the verdicts.
ATTEMPTS = ("corrected", "rewritten", "unusable")
_RECHECK = STAGES.index("function_params")
_DECISIONS = ("pass", "fail", "undecided", "error")


@dataclass
class Regeneration:
    """A regenerator's answer for one sample: new calls (and reasoning), or why there are none.

    `calls` None means the attempt gave nothing usable (`note` says why: an unparseable reply, a
    timeout). `reasoning` None keeps the sample's reasoning. `prompt_hash` and `reply` record what
    was asked and answered, for the store.
    """

    calls: list[ToolCall] | None
    reasoning: str | None = None
    note: str = ""
    prompt_hash: str = ""
    reply: str = ""


class Regenerator(Protocol):
    """Rewrites samples that failed stage 4 or 5 (a teacher LLM: `refine.teacher.TeacherRegenerator`)."""

    name: str  # becomes meta["reasoning_by"] of the reasoning it writes
    version: str  # part of the key of stored attempts: bump it when the prompt or parsing changes

    async def regenerate(self, stage: str, samples: Sequence[Sample], judgements: Sequence[Judgement],
                         attempts: Sequence[int]) -> list[Regeneration]:
        """One `Regeneration` per sample, given why each failed and how many attempts it had before."""
        ...


def verdict_key(sample: Sample) -> str:
    """What a verdict depends on: the judged content (`Sample.content_hash`), the raw answer text, and
    whether the reasoning is our rule template (the hybrid judge leaves only that to rules at stage 3)."""
    parts = [sample.content_hash()]
    raw = sample.meta.get(RAW_ANSWER)
    if isinstance(raw, str):
        parts.append(raw)
    if sample.meta.get(REASONING_BY) == TEMPLATE:
        parts.append("\0reasoning by template")
    return parts[0] if len(parts) == 1 else hashlib.sha256("\n".join(parts).encode()).hexdigest()


def rewritten(sample: Sample, regeneration: Regeneration, why: str, by: str) -> Sample:
    """`sample` with the regenerated answer (and reasoning, marked as written `by`); what they replace,
    and any raw answer text, move to `history`."""
    new = sample.with_answer(list(regeneration.calls or []), why)
    meta = {k: v for k, v in new.meta.items() if k != RAW_ANSWER}
    if RAW_ANSWER in new.meta:
        new.history.append({"field": f"meta.{RAW_ANSWER}", "value": new.meta[RAW_ANSWER], "reason": why})
    if regeneration.reasoning is not None:
        new.history.append({"field": "reasoning", "value": new.reasoning, "reason": why})
        new.reasoning, meta[REASONING_BY] = regeneration.reasoning, by
    new.meta = meta
    return new


@dataclass
class Track:
    """One sample on its way through the stages; `outcome` is set when it is done."""

    seq: int  # position in the input (valid samples only)
    sample: Sample
    stage: int = 0  # index into STAGES of the next check
    tries: int = 0  # regeneration attempts so far, usable or not
    outcome: Outcome | None = None
    end_stage: str = ""
    reason: str = ""
    steps: list[tuple[str, str, str]] = field(default_factory=list)  # this run's (stage, decision or attempt, reason)
    first_verdict: int = field(init=False)  # verdicts before this one are from earlier runs
    _key: str | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.first_verdict = len(self.sample.verdicts)

    @property
    def key(self) -> str:
        if self._key is None:
            self._key = verdict_key(self.sample)
        return self._key

    @property
    def trail(self) -> list[Verdict]:
        """The verdicts of this run."""
        return self.sample.verdicts[self.first_verdict :]

    def finish(self, outcome: Outcome, stage: str, reason: str) -> None:
        self.outcome, self.end_stage, self.reason = outcome, stage, reason

    def correct(self, stage: str, calls: list[ToolCall], why: str) -> None:
        """Take a judge's corrected answer; the reasoning is unchanged, so it is checked again from stage 4."""
        self.sample, self._key = rewritten(self.sample, Regeneration(calls), why, ""), None
        self.attempted(stage, "corrected", why)
        self.stage = _RECHECK

    def rewrite(self, stage: str, regeneration: Regeneration, why: str, by: str) -> None:
        """Take a regenerator's sample (its reasoning marked as written `by`); it goes through every stage again."""
        self.sample, self._key = rewritten(self.sample, regeneration, why, by), None
        self.attempted(stage, "rewritten", why)
        self.stage = 0

    def attempted(self, stage: str, kind: str, note: str) -> None:
        self.tries += 1
        self.steps.append((stage, kind, note))


JudgeStage = Callable[[str, list[Track]], Awaitable[list[Judgement]]]
Regenerate = Callable[[str, list[Track], list[Judgement]], Awaitable[list[Regeneration]]]


async def run_stages(
    tracks: Sequence[Track],
    judge: JudgeStage,
    judge_name: str,
    *,
    regenerate: Regenerate | None = None,
    regenerator_name: str = "regenerator",
    max_regenerations: int = 2,
    undecided: Undecided = "pass",
) -> None:
    """Take `tracks` through the stages until each has an outcome.

    `judge(stage, tracks)` answers one stage for a batch (the pipeline wraps the judge with the
    verdict cache); the stages due in one round are judged concurrently. `regenerate(stage,
    tracks, judgements)` rewrites what the judgements did not correct (attempt number: `track.tries`);
    its reasoning is marked as written by `regenerator_name`.
    """
    if undecided not in ("pass", "fail", "hard"):
        raise ValueError(f"undecided must be 'pass', 'fail' or 'hard', not {undecided!r}")
    active = [t for t in tracks if t.outcome is None]
    while active:
        groups: dict[int, list[Track]] = {}
        for track in active:
            groups.setdefault(track.stage, []).append(track)
        order = sorted(groups)
        answers = await asyncio.gather(*(judge(STAGES[i], groups[i]) for i in order))
        for index, judgements in zip(order, answers, strict=True):
            stage = STAGES[index]
            retry = [(t, j) for t, j in zip(groups[index], judgements, strict=True)
                     if _route(t, stage, j, judge_name, undecided, max_regenerations)]
            if retry:
                await _regenerate(stage, retry, regenerate, regenerator_name, max_regenerations)
        active = [t for t in active if t.outcome is None]


def _route(track: Track, stage: str, judgement: Judgement, judge_name: str, policy: Undecided,
           max_regenerations: int) -> bool:
    """Record the verdict and act on it; True when the answer is to be regenerated."""
    decision, reason = judgement.decision, judgement.reason
    if decision not in _DECISIONS:
        raise ValueError(f"a judge decided {decision!r} at {stage}; decisions are {', '.join(_DECISIONS)}")
    if decision == "undecided":
        reason = f"{reason} [undecided, counted as {policy}]"
    contradiction = _contradicts_sample(track.sample, stage, decision)
    if contradiction:
        reason = f"{reason} [{contradiction}: sent to the hard pool]"
    # Built without validation: the pipeline has checked the decision, and this runs per sample per stage.
    track.sample.verdicts.append(Verdict.model_construct(stage=stage, judge=judge_name, decision=decision, reason=reason))
    track.steps.append((stage, decision, reason))
    effective = "hard" if contradiction else policy if decision == "undecided" else decision
    if effective == "error":
        track.finish("error", stage, reason)
    elif effective == "hard":
        track.finish("hard", stage, reason)
    elif effective == "pass":
        if stage == STAGES[-1]:
            track.finish("refined", stage, reason)
        else:
            track.stage += 1
    elif ON_FAIL[stage] == "save":
        track.finish("refined", stage, reason)
    elif ON_FAIL[stage] == "drop":
        track.finish("dropped", stage, reason)
    elif track.tries >= max_regenerations:
        track.finish("hard", stage, f"{reason} (after {track.tries} regeneration(s))")
    else:
        return True
    return False


def _contradicts_sample(sample: Sample, stage: str, decision: str) -> str:
    """Why a stage-1 verdict cannot be taken on the judge's word, or "" when it can.

    Whether the answer is a call list or a statement is known from the sample itself: a judge that
    calls an answer holding calls a statement (saved as is, checked no further), or a statement a
    call, disagrees with the data, and the sample is held back rather than refined on that word.
    """
    if stage != STAGES[0] or decision not in ("pass", "fail"):
        return ""
    is_statement = isinstance(sample.answer, str)
    if decision == "fail" and not is_statement:
        return f"the judge called it a statement, but the answer holds {len(sample.answer)} call(s)"
    if decision == "pass" and is_statement:
        return "the judge called it a function call, but the answer is text"
    return ""


async def _regenerate(stage: str, failed: list[tuple[Track, Judgement]], regenerate: Regenerate | None,
                      by: str, max_regenerations: int) -> None:
    """Correct or rewrite each failed sample; an unusable rewrite is asked again within the bound."""
    asking: list[tuple[Track, Judgement]] = []
    for track, judgement in failed:
        if judgement.correction is not None:
            track.correct(stage, list(judgement.correction), f"{stage}: {judgement.reason}")
        elif regenerate is not None:
            asking.append((track, judgement))
        else:
            track.finish("hard", stage, f"{judgement.reason} (no correction, no regenerator)")
    while asking:
        answers = await regenerate(stage, [t for t, _ in asking], [j for _, j in asking])
        if len(answers) != len(asking):
            raise RuntimeError(f"the regenerator returned {len(answers)} answers for {len(asking)} samples")
        again = []
        for (track, judgement), answer in zip(asking, answers, strict=True):
            if answer.calls is not None:
                track.rewrite(stage, answer, f"{stage}: {judgement.reason}", by)
                continue
            track.attempted(stage, "unusable", answer.note)
            if track.tries >= max_regenerations:
                track.finish("hard", stage, f"{judgement.reason} (after {track.tries} regeneration(s); the last "
                                            f"was unusable: {answer.note})")
            else:
                again.append((track, judgement))
        asking = again
