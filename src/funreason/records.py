"""The one record type that travels the whole pipeline, and reading it from JSONL (the shared JSONL
plumbing, re-exported here, lives in `funreason.jsonl`).

A `Sample` is one training example: the conversation before the target assistant turn
(`messages`), the tools on offer, and the target turn itself split into `reasoning` (the chain of
thought, without tags) and `answer` (tool calls, or a plain statement when no call fits).
Every stage reads and writes JSONL of `Sample`; a stage adds fields and never silently overwrites
one (a replaced answer moves to `history`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from funreason.jsonl import (  # noqa: F401  (re-exported: the JSONL plumbing predates its own module)
    NothingValid,
    RecordError,
    Rejects,
    atomic_output,
    iter_json_objects,
    iter_json_stream,
    refuse_overwrite,
    require_valid,
    write_jsonl,
)
from funreason.schema import normalize_tools

Decision = Literal["pass", "fail", "undecided", "error"]
Shape = Literal["simple", "multiple", "parallel", "parallel_multiple", "irrelevance"]
SHAPES: tuple[str, ...] = get_args(Shape)  # BFCL's call shapes, in BFCL's order
RAW_ANSWER = "raw_answer"  # meta key: the answer text as the model (or dataset) wrote it, when kept
# meta key: the row a conversation reader split this sample from, one sample per assistant turn. Its
# earlier assistant turns are samples of their own, so training trains only its target turn.
CONVERSATION = "conversation"
REASONING_BY = "reasoning_by"  # meta key: who wrote the reasoning: "template" (ours) or a teacher
TEMPLATE = "template"  # `meta[REASONING_BY]` of reasoning written by our rule template, which the rules read exactly
EMPTY_CALLS = "an empty call list is not an answer: give at least one call, or a statement string for 'no call'"
T = TypeVar("T")


class ToolCall(BaseModel):
    """One function call: a (possibly dotted) name and its keyword arguments."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)


class Verdict(BaseModel):
    """A judge's answer for one FCDR stage of one sample."""

    model_config = ConfigDict(extra="forbid")

    stage: str
    judge: str
    decision: Decision
    reason: str = ""


class Sample(BaseModel):
    """One example: context (`messages`, `tools`) and target turn (`reasoning`, `answer`).

    `messages` holds the OpenAI-style turns *before* the target assistant turn (earlier assistant
    turns may carry `tool_calls` and `reasoning_content`). `tools` is stored normalised:
    `{"name", "description", "parameters": <JSON schema object>}` (see `schema.normalize_tools`).
    `answer` is a non-empty list of calls, or a string for a "no call" statement: an empty call list
    is refused, because no output format can carry it as a target (OpenAI's would lose it).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    source: str = ""
    messages: list[dict[str, Any]] = Field(min_length=1)
    tools: list[dict[str, Any]] = Field(default_factory=list)
    reasoning: str = ""
    answer: list[ToolCall] | str
    verdicts: list[Verdict] = Field(default_factory=list)
    history: list[dict[str, Any]] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tools", mode="before")
    @classmethod
    def _normalise_tools(cls, value: Any) -> list[dict[str, Any]]:
        return normalize_tools(value)

    @field_validator("answer")
    @classmethod
    def _calls_or_statement(cls, value: list[ToolCall] | str) -> list[ToolCall] | str:
        if isinstance(value, list) and not value:
            raise ValueError(EMPTY_CALLS)
        return value

    @property
    def query(self) -> str:
        """The text of the last user turn (the request the answer responds to)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return str(message.get("content") or "")
        return ""

    @property
    def is_call(self) -> bool:
        return isinstance(self.answer, list)

    @property
    def calls(self) -> list[ToolCall]:
        return self.answer if isinstance(self.answer, list) else []

    @property
    def shape(self) -> Shape:
        """BFCL's call shapes: one or several calls, from one or several offered tools."""
        if isinstance(self.answer, str):
            return "irrelevance"
        several_tools = len(self.tools) > 1
        if len(self.answer) == 1:
            return "multiple" if several_tools else "simple"
        return "parallel_multiple" if several_tools else "parallel"

    def content_hash(self) -> str:
        """A stable hash of what a judge sees (context and target), for caching verdicts."""
        payload = self.model_dump(include={"messages", "tools", "reasoning", "answer"}, mode="json")
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def with_answer(self, answer: list[ToolCall] | str, reason: str) -> Sample:
        """A copy with a new answer; the old one is kept in `history` with why it was replaced."""
        if isinstance(answer, list) and not answer:
            raise ValueError(EMPTY_CALLS)
        old = self.model_dump(include={"answer"}, mode="json")["answer"]
        entry = {"field": "answer", "value": old, "reason": reason}
        return self.model_copy(update={"answer": answer, "history": [*self.history, entry]})


# --- JSONL I/O ----------------------------------------------------------------------------------


def describe_validation_error(error: ValidationError) -> str:
    """Pydantic's errors as one line that names each bad field: `answer: Field required`."""
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "<record>"
        parts.append(f"{field}: {item['msg']}")
    return "; ".join(parts)


def read_records(
    path: str | Path, parse: Callable[[Any], T], rejects: Rejects | None = None
) -> Iterator[T]:
    """Stream records from `path`, turning each JSON object into a `T` with `parse`.

    `parse` raises `ValueError` (pydantic's `ValidationError` included) for a bad record; that
    record goes to `rejects` with its location. Without `rejects`, the first bad record raises.
    """
    rejects = rejects if rejects is not None else Rejects(strict=True)
    for where, obj in iter_json_objects(path, rejects):
        try:
            yield parse(obj)
        except ValidationError as exc:
            rejects.add(where, describe_validation_error(exc), obj)
        except (ValueError, TypeError, KeyError) as exc:
            rejects.add(where, str(exc) or type(exc).__name__, obj)


def read_samples(path: str | Path, rejects: Rejects | None = None) -> Iterator[Sample]:
    """Stream `Sample`s from a JSONL file written by any funreason stage."""
    return read_records(path, Sample.model_validate, rejects)
