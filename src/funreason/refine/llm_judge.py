"""LLM judges for FCDR: `llm` (one prompt per stage, strict verdicts), `hybrid` and `ensemble`.

`LLMJudge` asks any `Generator` — an OpenAI-compatible endpoint (`EndpointGenerator`, built from
`endpoint=`/`model=` options) or a local transformers model
(`LLMJudge(LocalGenerator(model, tokenizer))`) — the stage's question with the prompt in
`refine/prompts/<stage>.txt`. The answer must hold exactly one `<judge>True</judge>` or
`<judge>False</judge>` (outside any `<think>` block) and, for a False at stages 4-5, at most one
`<NewFC>[f(a=1)]</NewFC>` that parses as calls, which becomes the correction. Anything else is asked
again (`retries` times, at `retry_temperature`), then recorded as an `error` — never guessed. The
judge's version hashes the five prompt files, so editing one invalidates cached verdicts.

`HybridJudge` lets the rules settle what they can settle for certain (the answer is a call, tools
offered, schemas, exact grounding, format) and asks the LLM the rest: wherever the rules are
`undecided`, and at stage 3 (does the reasoning lead to the answer?) for every reasoning but our
own rule template (`meta["reasoning_by"] == "template"`), which the rules read exactly.
`EnsembleJudge` asks several judges and votes (the paper's later variant); see `vote`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import partial
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from funreason.calls import CallParseError, Syntax, drop_tags, find_tags, parse_calls, split_think
from funreason.llm.base import Generation, Generator, gather_or_cancel, generate_checked
from funreason.llm.settings import EndpointSettings
from funreason.prompts import fill_prompt, load_prompt, prompt_version
from funreason.records import REASONING_BY, TEMPLATE, Sample
from funreason.refine.judges import STAGES, Judge, Judgement, check_stage, make_judge, parse_options, register
from funreason.refine.rules import RAW_ANSWER, RulesJudge

PARSER_VERSION = "1"  # bump when verdict parsing changes
ROUTING_VERSION = "2"  # bump when the hybrid judge changes what goes to the LLM
_TAG = re.compile(r"</?(?:judge|NewFC)>", re.I)
_CORRECTING = ("function_params", "format")  # stages whose False may carry a corrected call
_RAW_STAGES = ("response", "format")  # stages that judge the answer as written, when known
T = TypeVar("T")


class LLMOptions(EndpointSettings):
    """Options of the `llm` judge: the shared endpoint settings (which build its `EndpointGenerator`)
    and how verdicts are asked for."""

    mode: Literal["chat", "completions"] = Field("chat", description="Chat or plain completions API.")
    tokenizer: str | None = Field(None, description="Completions mode: tokenizer whose chat template renders "
                                                    "the prompt (default: model).")
    max_retries: int = Field(5, ge=0, description="Retries of a failed request (429, 5xx, timeouts).")
    max_tokens: int = Field(1024, ge=1, description="Tokens per verdict (reasoning models need more).")
    temperature: float = Field(0.0, ge=0.0, description="Sampling temperature of the first verdict asked for.")
    retries: int = Field(2, ge=0, description="Times an unparseable verdict is asked again.")
    retry_temperature: float = Field(0.7, ge=0, description="Sampling temperature of those retries.")


@register("llm")
class LLMJudge:
    """Answers each stage with an LLM; `generator` or the endpoint options say which one."""

    Options = LLMOptions

    def __init__(self, generator: Generator | None = None, **options: Any):
        self.options = parse_options(LLMOptions, options, "llm")
        if generator is None:
            generator = _endpoint_generator(self.options)
        elif self.options.endpoint or self.options.model:
            raise ValueError("llm judge: pass a generator or endpoint=/model=, not both")
        self.generator = generator
        self.prompts = {stage: load_prompt("funreason.refine", stage) for stage in STAGES}
        self.name = f"llm:{generator.name}"
        self.version = f"{PARSER_VERSION}:{prompt_version(*self.prompts.values())}"

    def prompt(self, stage: str, sample: Sample) -> list[dict[str, Any]]:
        """The chat messages that ask the stage's question about `sample`."""
        raw = sample.meta.get(RAW_ANSWER) if stage in _RAW_STAGES else None
        text = fill_prompt(self.prompts[stage], sample, answer=raw if isinstance(raw, str) else None)
        return [{"role": "user", "content": text}]

    async def judge(self, stage: str, samples: Sequence[Sample]) -> list[Judgement]:
        check_stage(stage)
        results = await generate_checked(
            self.generator, [self.prompt(stage, sample) for sample in samples], partial(_parse, stage),
            retries=self.options.retries, max_tokens=self.options.max_tokens, temperature=self.options.temperature,
            retry_temperature=self.options.retry_temperature)
        return [judgement if judgement is not None else Judgement("error", f"llm: no verdict: {why}")
                for judgement, why in results]


def parse_verdict(text: str, stage: str) -> Judgement:
    """A verdict from the judge's text, strictly; `ValueError` saying what is wrong otherwise.

    Exactly one `<judge>` tag holding True or False (any case) outside `<think>`; `pass`/`fail`
    with the rest of the text, tags removed, as the reason. At stages 4-5 a False may carry one
    `<NewFC>` with a non-empty call list in any syntax `calls.parse_calls` reads.
    """
    _, answer = split_think(text)
    verdicts = [content for _, _, content in find_tags(answer, "judge")]
    if len(verdicts) != 1:
        raise ValueError(f"expected one <judge>True|False</judge>, found {len(verdicts)} in {_snippet(answer)!r}")
    word = verdicts[0].strip().lower()
    if word not in ("true", "false"):
        raise ValueError(f"<judge> holds {_snippet(verdicts[0])!r}, not True or False")
    reason = "llm: " + (_snippet(_TAG.sub(" ", drop_tags(drop_tags(answer, "judge"), "NewFC")), 300) or "no reason given")
    if word == "true":
        return Judgement("pass", reason)
    fixes = [content for _, _, content in find_tags(answer, "NewFC")] if stage in _CORRECTING else []
    if len(fixes) > 1:
        raise ValueError(f"expected at most one <NewFC>, found {len(fixes)}")
    if not fixes:
        return Judgement("fail", reason)
    try:
        correction = parse_calls(fixes[0].strip())
    except CallParseError as exc:
        raise ValueError(f"<NewFC> is no call list: {exc}") from None
    if not correction:
        raise ValueError("<NewFC> holds no call")
    return Judgement("fail", reason, correction)


def _parse(stage: str, _index: int, generation: Generation) -> Judgement:
    return parse_verdict(generation.text, stage)


def _snippet(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _endpoint_generator(options: LLMOptions) -> Generator:
    from funreason.models import load_tokenizer

    tokenizer = None
    if options.mode == "completions":
        if not (options.tokenizer or options.model):
            raise ValueError("llm judge: completions mode needs model= or tokenizer= (whose chat template renders "
                             "the prompt)")
        tokenizer = load_tokenizer(options.tokenizer or options.model)
    return options.generator(role="the llm judge", mode=options.mode, tokenizer=tokenizer,
                             max_retries=options.max_retries)


# --- hybrid: rules first -------------------------------------------------------------------------


class HybridOptions(LLMOptions):
    """Options of the `hybrid` judge: the rules judge's `syntax` and the `llm` judge's options."""

    syntax: Syntax = Field("python", description="The target call syntax that the rules check at stage 5.")


@register("hybrid")
class HybridJudge:
    """The rules where they are certain, the LLM judge for the rest (see the module docstring).

    The LLM judge is `llm`, or built from `generator` (any `Generator`) or the endpoint options.
    """

    Options = HybridOptions

    def __init__(self, rules: Judge | None = None, llm: Judge | None = None, generator: Generator | None = None,
                 **options: Any):
        parse_options(HybridOptions, options, "hybrid")
        llm_options = {key: value for key, value in options.items() if key != "syntax"}
        if llm is not None and (llm_options or generator is not None):
            given = ", ".join([*llm_options, *(["generator"] if generator is not None else [])])
            raise ValueError(f"hybrid judge: pass llm= or the LLM options ({given}), not both")
        self.rules = rules if rules is not None else RulesJudge(**{k: v for k, v in options.items() if k == "syntax"})
        self.llm = llm if llm is not None else LLMJudge(generator, **llm_options)
        self.name = f"hybrid:{self.llm.name.removeprefix('llm:')}"
        self.version = f"{self.rules.version}+{self.llm.version}+route{ROUTING_VERSION}"

    async def judge(self, stage: str, samples: Sequence[Sample]) -> list[Judgement]:
        check_stage(stage)
        ruled = [i for i, sample in enumerate(samples) if self.rules_settle(stage, sample)]
        judgements: list[Judgement | None] = [None] * len(samples)
        if ruled:
            answers = await self.rules.judge(stage, [samples[i] for i in ruled])
            for index, judgement in zip(ruled, answers, strict=True):
                judgements[index] = judgement
        ask = [i for i, judgement in enumerate(judgements) if judgement is None or judgement.decision == "undecided"]
        if ask:
            answers = await self.llm.judge(stage, [samples[i] for i in ask])
            for index, answer in zip(ask, answers, strict=True):
                judgements[index] = answer
        return [judgement for judgement in judgements if judgement is not None]

    @staticmethod
    def rules_settle(stage: str, sample: Sample) -> bool:
        """Whether the rules are asked first: everywhere but stage 3 of a reasoning not from our template."""
        return stage != "reasoning" or sample.meta.get(REASONING_BY) == TEMPLATE


# --- ensemble: several judges vote -----------------------------------------------------------------


class EnsembleOptions(BaseModel):
    """Options of the `ensemble` judge."""

    model_config = ConfigDict(extra="forbid")

    judges: list[Any] = Field(min_length=1, description="Judges, or specs such as {'kind': 'llm', 'model': ...}.")
    vote: str = Field("unanimous", description="'unanimous', 'majority' or 'mean>=τ' (0 < τ <= 1).")


@register("ensemble")
class EnsembleJudge:
    """Several judges vote on each sample.

    Votes: `unanimous` passes when every judge passes; `majority` when more than half do (a tie
    fails); `mean>=τ` when the share that passes is at least τ. A judge that answers `error` or
    `undecided` casts an unknown vote: the result stands when it holds however the unknown votes
    would fall (one fail already decides `unanimous`), else it is `error` when any judge failed to
    judge (so a rerun asks again), or `undecided`. A failing result carries the first correction a
    failing judge proposed.
    """

    Options = EnsembleOptions

    def __init__(self, judges: Sequence[Judge | dict[str, Any]], vote: str = "unanimous", **options: Any):
        options = parse_options(EnsembleOptions, {"judges": list(judges), "vote": vote, **options}, "ensemble")
        self.threshold, self.strict = check_vote(options.vote)
        self.vote = options.vote
        self.judges: list[Judge] = [_build(item) for item in options.judges]
        self.name = f"ensemble({self.vote}: {', '.join(judge.name for judge in self.judges)})"
        self.version = prompt_version(self.vote, *(f"{judge.name}={judge.version}" for judge in self.judges))

    async def judge(self, stage: str, samples: Sequence[Sample]) -> list[Judgement]:
        check_stage(stage)
        answers = await gather_or_cancel(judge.judge(stage, samples) for judge in self.judges)
        return [self.combine(list(votes)) for votes in zip(*answers, strict=True)]

    def combine(self, votes: list[Judgement]) -> Judgement:
        """One sample's judgement from the judges' (in judge order)."""
        total = len(votes)
        passes = sum(vote.decision == "pass" for vote in votes)
        fails = sum(vote.decision == "fail" for vote in votes)
        reason = "; ".join(f"{judge.name}: {vote.decision} ({vote.reason})" for judge, vote in zip(self.judges, votes, strict=True))
        if self._carries(passes / total):
            return Judgement("pass", reason)
        if not self._carries((total - fails) / total):
            correction = next((vote.correction for vote in votes if vote.decision == "fail" and vote.correction), None)
            return Judgement("fail", reason, correction)
        return Judgement("error" if any(vote.decision == "error" for vote in votes) else "undecided", reason)

    def _carries(self, share: float) -> bool:
        return share > self.threshold if self.strict else share >= self.threshold


def check_vote(vote: str) -> tuple[float, bool]:
    """`(τ, strict)` of an ensemble vote rule: the share of passes needed, and whether it must exceed τ
    rather than reach it; `ValueError` naming the rules for anything else."""
    if vote == "unanimous":
        return 1.0, False
    if vote == "majority":
        return 0.5, True
    match = re.fullmatch(r"mean\s*>=\s*([0-9.]+)", vote.strip())
    if match:
        try:
            tau = float(match.group(1))
        except ValueError:
            tau = -1.0
        if 0 < tau <= 1:
            return tau, False
    raise ValueError(f"ensemble vote {vote!r}: use 'unanimous', 'majority' or 'mean>=τ' with 0 < τ <= 1")


def _build(item: Any) -> Judge:
    if isinstance(item, dict):
        spec = dict(item)
        if "kind" not in spec:
            raise ValueError(f"ensemble judge spec {item!r} needs a 'kind' (e.g. 'llm', 'rules')")
        return make_judge(spec.pop("kind"), **spec)
    if not callable(getattr(item, "judge", None)):
        raise ValueError(f"ensemble: {item!r} is neither a judge nor a judge spec")
    return item
