"""Reasoning for a sample's answer: a teacher LLM, or the offline rule template
(`reasoning_template.template_reasoning`).

`add_reasoning` streams a JSONL file of samples and adds the reasoning with either teacher. The LLM
teacher (any `Generator`: an OpenAI-compatible endpoint or a local model) gets the conversation,
tools and reference answer (prompt: `funreason/prompts/cot.txt`) and must write reasoning that ends
at that answer; what it writes is checked (see `teacher_reasoning`), asked again when it fails,
and a sample that still has none goes to the errors file, not to the output.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, Literal, TextIO

from funreason.calls import CallParseError, parse_calls, split_think
from funreason.llm.base import EndpointDown, Generation, Generator, generate_checked
from funreason.prompts import fill_prompt, load_prompt
from funreason.reasoning_template import in_query, template_reasoning
from funreason.records import (
    REASONING_BY,
    Rejects,
    Sample,
    ToolCall,
    atomic_output,
    read_samples,
    refuse_overwrite,
    require_valid,
)
from funreason.refine.rules import reasoning as rules_reasoning

# --- adding reasoning to a dataset ------------------------------------------------------------------


@dataclass
class CotSummary:
    """What `add_reasoning` did: samples read and written, reasoning kept, generated, failed."""

    read: int = 0
    written: int = 0
    kept: int = 0
    generated: int = 0
    errors: int = 0
    rejected: int = 0
    errors_path: Path | None = None


def add_reasoning(
    input_path: str | Path,
    output_path: str | Path,
    teacher: Literal["template"] | Generator = "template",
    *,
    overwrite: bool = False,
    errors_path: str | Path | None = None,
    rejects: Rejects | None = None,
    batch_size: int = 256,
    retries: int = 2,
    max_tokens: int = 2048,
    temperature: float = 0.0,
) -> CotSummary:
    """Write `output_path`: the samples of `input_path` with reasoning from `teacher`.

    `teacher` is `"template"` (offline, `template_reasoning`) or a `Generator` (an LLM). Reasoning
    already present is kept unless `overwrite`, which moves the old text to `history`. Each sample
    records its teacher in `meta["reasoning_by"]`. The LLM gets `batch_size` prompts at a time
    (the generator bounds what is in flight); reasoning that fails the checks of
    `teacher_reasoning` is asked again up to `retries` times, and a sample that still has none is
    written, with `meta["cot_error"]`, to `errors_path` (default `<output stem>.errors.jsonl`; an old
    one is replaced) instead of the output, so it can be fed back later. Malformed input records go
    to `rejects` (default: raise). Output is written as it is produced, in input order, to a
    temporary file that becomes `output_path` only when every sample is done; if the run stops
    (the endpoint goes down: `EndpointDown`), what was written is kept as
    `<output stem>.partial.jsonl` and the error says so. A run that writes nothing because every
    input record was malformed (`NothingValid`) or every sample failed raises `ValueError`.
    """
    if isinstance(teacher, str) and teacher != "template":
        raise ValueError(f"teacher must be 'template' or a Generator (e.g. EndpointGenerator(url, model)), not {teacher!r}")
    output_path = Path(output_path)
    errors_path = Path(errors_path) if errors_path else output_path.with_name(output_path.stem + ".errors.jsonl")
    rejects = rejects if rejects is not None else Rejects(strict=True)
    partial = output_path.with_name(output_path.stem + ".partial.jsonl")
    refuse_overwrite([input_path], output=output_path, errors=errors_path, rejects=rejects.path, partial=partial)
    errors_path.unlink(missing_ok=True)
    summary = CotSummary(errors_path=errors_path)
    rejected_before = rejects.count
    samples = _counted(require_valid(read_samples(input_path, rejects), rejects, input_path), summary)
    with atomic_output(output_path, partial=partial) as out, _LazyFile(errors_path) as errors:
        if teacher == "template":
            for sample in samples:
                if _needs(sample, overwrite):
                    summary.generated += 1
                    sample = _with_reasoning(sample, _template_for(sample), "template")
                else:
                    summary.kept += 1
                _write(out, sample, summary)
        else:
            try:
                asyncio.run(_llm_teach(samples, teacher, out, errors, summary, overwrite=overwrite,
                                       batch_size=batch_size, retries=retries, max_tokens=max_tokens,
                                       temperature=temperature))
            except EndpointDown as exc:
                kept = f" (kept in {partial})" if summary.written else ""
                raise EndpointDown(f"{exc} — stopped with {summary.written} samples written{kept}") from exc
        if summary.read and not summary.written:
            failed = f"all {summary.errors} failed (see {errors_path})"
            raise ValueError(f"{input_path}: no sample got reasoning: {failed}")
    partial.unlink(missing_ok=True)  # an earlier run's unfinished output, superseded by this one
    summary.rejected = rejects.count - rejected_before
    return summary


def teacher_reasoning(generation: Generation, sample: Sample) -> str:
    """The reasoning in a teacher's answer, checked against the sample's reference answer.

    The reasoning is the text outside `<think>` tags when there is any and it is not just the
    answer (reasoning models put their own thinking in the tags), else the text inside them. For a
    call answer it must name every called function and contain every plain argument value (strings
    without quotes or escapes, numbers) as the answer writes it (the prompt asks it to end with
    the answer), and the rules judge's reasoning check must not fail it (a reasoning that concludes
    with another call or names another function instead). For every answer, statements included,
    it must be about this request (`_about_the_request`). Raises `ValueError` saying what is wrong.
    """
    if generation.finish_reason == "length":
        raise ValueError("the reasoning was cut off at max_tokens")
    thought, rest = split_think(generation.text)
    reasoning = thought if not rest or _is_answer(rest, sample.answer) else rest
    if not reasoning:
        raise ValueError("no reasoning in the answer")
    if "<think>" in reasoning or "</think>" in reasoning:
        raise ValueError("stray <think> tags in the reasoning")
    if not _about_the_request(reasoning, sample):
        raise ValueError(f"the reasoning is not about the query: it shares no word with it or the tools ({reasoning[:80]!r})")
    names = dict.fromkeys(call.name for call in sample.calls)
    missing = [f"`{name}`" for name in names if not re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", reasoning)]
    missing += [json.dumps(value, ensure_ascii=False) for call in sample.calls
                for value in _plain_leaves(call.arguments) if not in_query(value, reasoning)]
    if missing:
        raise ValueError(f"the reasoning does not mention {', '.join(missing[:5])} of the answer")
    verdict = rules_reasoning(sample.model_copy(update={"reasoning": reasoning}))
    if verdict.decision == "fail":  # e.g. it concludes with another call than the answer
        raise ValueError(f"the reasoning contradicts the answer: {verdict.reason}")
    return reasoning


# Words any reply may hold, about any query: sharing one of them says nothing about this query.
_GENERIC = frozenset("""
about answer asked asking assist call calls could does from function functions have help here information just
know like need needs please query question ready request should sure tell that their there these this tool tools
user want wants what when which will with would your""".split())
_WORD = re.compile(r"\w{4,}")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def _about_the_request(reasoning: str, sample: Sample) -> bool:
    """Whether the reasoning is about this sample at all: it shares a word (four letters or more,
    not a generic one) with the query or the tools' names, or a CJK character with the query.
    "I'm ready to help. What's the user asking for?" is reasoning about nothing."""
    def words(text: str) -> set[str]:  # identifiers split at _ and . (get_time: "time")
        return {word.casefold() for word in _WORD.findall(text.replace("_", " ").replace(".", " "))} - _GENERIC

    request = words(sample.query) | {part for tool in sample.tools for part in words(tool["name"])}
    return bool(words(reasoning) & request) or bool(set(_CJK.findall(reasoning)) & set(_CJK.findall(sample.query)))


async def _llm_teach(samples: Iterable[Sample], generator: Generator, out: TextIO, errors: _LazyFile,
                     summary: CotSummary, *, overwrite: bool, batch_size: int, retries: int, max_tokens: int,
                     temperature: float) -> None:
    template = load_prompt("funreason", "cot")
    teacher = f"llm:{generator.name}"
    iterator = iter(samples)
    while batch := list(islice(iterator, batch_size)):
        todo = [index for index, sample in enumerate(batch) if _needs(sample, overwrite)]
        prompts = [[{"role": "user", "content": fill_prompt(template, batch[i])}] for i in todo]
        chosen = [batch[i] for i in todo]
        results = await generate_checked(generator, prompts, partial(_check_teacher, chosen), retries=retries,
                                         max_tokens=max_tokens, temperature=temperature)
        made = dict(zip(todo, results, strict=True))
        for index, sample in enumerate(batch):
            reasoning, error = made.get(index, (None, None))
            if reasoning is not None:
                summary.generated += 1
                _write(out, _with_reasoning(sample, reasoning, teacher), summary)
            elif index in made:
                summary.errors += 1
                errors.write(sample.model_copy(update={"meta": {**sample.meta, "cot_error": error}}))
            else:
                summary.kept += 1
                _write(out, sample, summary)
        out.flush()


def _check_teacher(samples: Sequence[Sample], index: int, generation: Generation) -> str:
    return teacher_reasoning(generation, samples[index])


def _needs(sample: Sample, overwrite: bool) -> bool:
    return overwrite or not sample.reasoning.strip()


def _template_for(sample: Sample) -> str:
    need = sample.meta.get("need")  # synth records what a statement answer's request would need
    return template_reasoning(sample.query, sample.tools, sample.answer, need=need if isinstance(need, str) else None)


def _with_reasoning(sample: Sample, reasoning: str, teacher: str) -> Sample:
    """The sample with new reasoning; old reasoning (when overwriting) moves to `history`."""
    history = sample.history
    if sample.reasoning.strip():
        history = [*history, {"field": "reasoning", "value": sample.reasoning, "reason": f"overwritten by {teacher}"}]
    return sample.model_copy(update={"reasoning": reasoning, "history": history,
                                     "meta": {**sample.meta, REASONING_BY: teacher}})


def _write(out: TextIO, sample: Sample, summary: CotSummary) -> None:
    out.write(sample.model_dump_json() + "\n")
    summary.written += 1


def _counted(samples: Iterator[Sample], summary: CotSummary) -> Iterator[Sample]:
    for sample in samples:
        summary.read += 1
        yield sample


def _is_answer(text: str, answer: list[ToolCall] | str) -> bool:
    """Whether `text` is the answer itself rather than reasoning (a call list, or the statement)."""
    if isinstance(answer, str):
        return text.strip() == answer.strip()
    try:
        return bool(parse_calls(text))
    except CallParseError:
        return False


def _plain_leaves(value: Any) -> Iterator[Any]:
    """Strings (without quotes, escapes or line breaks) and numbers inside an argument value."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _plain_leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _plain_leaves(item)
    elif isinstance(value, str):
        if value.strip() and not any(c in value for c in "'\"\\\n\r\t"):
            yield value
    elif isinstance(value, int | float) and not isinstance(value, bool) and value == value:
        yield value


class _LazyFile:
    """A JSONL file opened on the first write, so a run without errors leaves no file behind."""

    def __init__(self, path: Path):
        self.path = path
        self._file: TextIO | None = None

    def write(self, sample: Sample) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("w", encoding="utf-8")
        self._file.write(sample.model_dump_json() + "\n")
        self._file.flush()

    def __enter__(self) -> _LazyFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
