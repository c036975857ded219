"""The teacher regenerator: an LLM rewrites the reasoning and answer of a sample that failed stage 4 or 5.

FunReason (section 3.1) regenerates what fails function & parameter or format identification
rather than only setting it aside. `TeacherRegenerator` asks any `Generator` (an OpenAI-compatible
endpoint such as the vLLM server that wrote the reasoning, or a local model) with
`funreason/prompts/regenerate.txt`: the conversation, the tools, the reasoning and answer that
failed, which check failed and the judge's finding. The reply must hold exactly one `<reasoning>`
and one `<answer>` (outside any `<think>` block a reasoning model writes first); the answer is read
with `calls.parse_calls` (never evaluated) and must hold at least one call. Any other reply, or
none (a timeout, an HTTP error), is an unusable attempt with a note saying why, never a crash: the
pipeline stores and counts it and asks again, at `retry_temperature`, while attempts are left.
A rewritten sample goes through every FCDR stage again (`refine.stages`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from string import Template
from typing import Any

from funreason.calls import CallParseError, find_tags, parse_calls, split_think
from funreason.llm.base import Generation, Generator, gather_or_cancel
from funreason.prompts import answer_text, conversation_text, load_prompt, prompt_version
from funreason.records import RAW_ANSWER, Sample, ToolCall
from funreason.refine.judges import Judgement, check_stage
from funreason.refine.stages import TITLES, Regeneration

PARSER_VERSION = "1"  # bump when reply parsing changes: stored attempts of another version are not reused
_STRAY = re.compile(r"</?(?:think|reasoning|answer)>", re.I)


class TeacherRegenerator:
    """A `Regenerator` backed by a teacher LLM (`generator`); see the module docstring.

    `temperature` is used for a sample's first attempt, `retry_temperature` for later ones (so a
    second attempt can differ from a first that failed); `max_tokens` bounds each reply (reasoning
    models think first, so give them room).
    """

    def __init__(self, generator: Generator, *, max_tokens: int = 4096, temperature: float = 0.0,
                 retry_temperature: float = 0.7):
        if max_tokens < 1 or temperature < 0 or retry_temperature < 0:
            raise ValueError("max_tokens must be >= 1, temperature and retry_temperature >= 0")
        self.generator = generator
        self.max_tokens, self.temperature, self.retry_temperature = max_tokens, temperature, retry_temperature
        self.template = load_prompt("funreason", "regenerate")
        self.name = f"llm:{generator.name}"  # as `cot` marks the reasoning its LLM teacher writes
        self.version = f"{PARSER_VERSION}:{prompt_version(self.template)}"

    def prompt(self, stage: str, sample: Sample, judgement: Judgement) -> list[dict[str, Any]]:
        """The chat messages that ask for a corrected reasoning and answer (the raw answer text at stage 5)."""
        check_stage(stage)
        raw = sample.meta.get(RAW_ANSWER) if stage == "format" else None
        text = Template(self.template).substitute(
            stage=TITLES[stage], finding=judgement.reason.strip() or "(no reason given)",
            conversation=conversation_text(sample.messages), tools=json.dumps(sample.tools, ensure_ascii=False),
            reasoning=sample.reasoning.strip() or "(none)",
            answer=raw if isinstance(raw, str) else answer_text(sample.answer))
        return [{"role": "user", "content": text}]

    async def regenerate(self, stage: str, samples: Sequence[Sample], judgements: Sequence[Judgement],
                         attempts: Sequence[int]) -> list[Regeneration]:
        """One attempt per sample: one request each, at `temperature` for a first attempt, else `retry_temperature`."""
        prompts = [self.prompt(stage, s, j) for s, j in zip(samples, judgements, strict=True)]
        heats = [self.temperature if attempt == 0 else self.retry_temperature for attempt in attempts]
        groups = {heat: [i for i, h in enumerate(heats) if h == heat] for heat in dict.fromkeys(heats)}
        replies = await gather_or_cancel(
            self.generator.agenerate([prompts[i] for i in indices], max_tokens=self.max_tokens, temperature=heat)
            for heat, indices in groups.items())
        results: list[Regeneration] = [Regeneration(None)] * len(prompts)
        for indices, generations in zip(groups.values(), replies, strict=True):
            for index, choices in zip(indices, generations, strict=True):
                results[index] = read_reply(choices[0], self._hash(prompts[index], heats[index]))
        return results

    def _hash(self, prompt: list[dict[str, Any]], temperature: float) -> str:
        """What was asked: the messages, the model and the sampling settings."""
        asked = {"model": self.generator.name, "messages": prompt, "temperature": temperature,
                 "max_tokens": self.max_tokens}
        return hashlib.sha256(json.dumps(asked, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def read_reply(generation: Generation, prompt_hash: str = "") -> Regeneration:
    """The attempt a teacher's reply makes: the parsed rewrite, or no calls and a note saying why."""
    if generation.error:
        return Regeneration(None, note=f"no reply: {generation.error}", prompt_hash=prompt_hash)
    try:
        if generation.finish_reason == "length":
            raise ValueError("the reply was cut off at max_tokens")
        reasoning, calls = parse_rewrite(generation.text)
    except ValueError as exc:
        return Regeneration(None, note=f"unusable reply: {exc}", prompt_hash=prompt_hash, reply=generation.text)
    return Regeneration(calls, reasoning, prompt_hash=prompt_hash, reply=generation.text)


def parse_rewrite(text: str) -> tuple[str, list[ToolCall]]:
    """`(reasoning, calls)` from a teacher's reply, strictly; `ValueError` saying what is wrong otherwise.

    Exactly one `<reasoning>` (non-empty, no tags inside) and one `<answer>` holding a non-empty call
    list in any syntax `calls.parse_calls` reads, outside `<think>`.
    """
    _, rest = split_think(text)
    found = {}
    for name in ("reasoning", "answer"):
        parts = [content for _, _, content in find_tags(rest, name)]
        if len(parts) != 1:
            raise ValueError(f"expected one <{name}>...</{name}>, found {len(parts)} in {_snippet(rest)!r}")
        found[name] = parts[0].strip()
    if not found["reasoning"]:
        raise ValueError("the <reasoning> is empty")
    if _STRAY.search(found["reasoning"]):
        raise ValueError("tags inside the <reasoning>")
    try:
        calls = parse_calls(found["answer"])
    except CallParseError as exc:
        raise ValueError(f"the <answer> is no call list: {exc}") from None
    if not calls:
        raise ValueError("the <answer> holds no call")
    return found["reasoning"], calls


def _snippet(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
