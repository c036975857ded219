"""One sample per assistant turn: how the conversation readers (sharegpt, hermes, glaive, llamafactory) split a row.

A reader turns a row into `Turn`s, OpenAI-style messages in order; each assistant turn carries its
`Target` (reasoning, answer, and any text beside its calls), and a turn the reader could not read
carries the reason instead. `split` makes one sample per target turn, whose history is every turn
before it (tool results included): a conversation's earlier calls become samples of their own.

The unit of these readers is the target turn: every assistant turn, or the ones a row names in
`targets` (a list of turn indices; funreason's ShareGPT writer names the last). A row gives as
many samples plus rejected units as it has targets: a row whose tools (or a turn's shape) cannot
be read is one reject counting all its assistant turns; a row that is not a conversation at all,
or has no assistant turn, counts as one unit. An unreadable turn loses its own target and every
later one (it would be their history), as one reject counting them all. A tool result must follow
a turn that calls: after a text turn (a call written as prose) that text turn is what is
unreadable. Turns after the last target belong to no sample; such rows are counted in notes.
Ids: a row with one target keeps the row's id; with several, `<row id>-t<turn index>`, and
`meta["conversation"]` names the row (training then trains only each sample's target turn, since
the earlier ones are samples of their own).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from funreason.formats.openai_chat import assistant_message
from funreason.formats.rows import LostTurns, Note
from funreason.records import CONVERSATION, EMPTY_CALLS, Sample, ToolCall, describe_validation_error

TRAILING = "rows whose last turns come after their last target (in no sample)"


@dataclass(frozen=True)
class Target:
    """What a sample built on an assistant turn answers; `beside` is text next to its calls."""

    reasoning: str
    answer: list[ToolCall] | str
    beside: str = ""


@dataclass
class Turn:
    """One turn of a conversation: its OpenAI-style message, or why it could not be read."""

    label: str  # where it is in the row, e.g. conversations[3]
    message: dict[str, Any] | None = None
    target: Target | None = None
    error: str = ""
    assistant: bool = False


def message_turn(label: str, role: str, content: str) -> Turn:
    """A system, user or tool turn."""
    return Turn(label, {"role": role, "content": content})


def assistant_turn(label: str, reasoning: str, answer: list[ToolCall] | str, beside: str = "") -> Turn:
    """An assistant turn; an empty statement or an empty call list makes it unreadable."""
    if isinstance(answer, list) and not answer:
        return bad_turn(label, f"{label}: {EMPTY_CALLS}", assistant=True)
    if isinstance(answer, str) and not answer.strip():
        return bad_turn(label, f"{label}: the assistant turn is empty", assistant=True)
    message = assistant_message(reasoning, answer)
    if beside and isinstance(answer, list):
        message["content"] = beside
    return Turn(label, message, Target(reasoning, answer, beside), assistant=True)


def bad_turn(label: str, error: str, assistant: bool) -> Turn:
    """A turn that could not be read (`error` names the field); `assistant`: it would have been a target."""
    return Turn(label, error=error, assistant=assistant)


def builder(
    source: str, tools: list[dict[str, Any]], system: list[dict[str, Any]] | None = None, meta: dict[str, Any] | None = None
) -> Callable[[str, list[dict[str, Any]], Target], Sample]:
    """The `build` of `split` for a row: its source, (normalised) tools, any system message first, its meta."""

    def build(sample_id: str, history: list[dict[str, Any]], target: Target) -> Sample:
        beside = {"assistant_content": target.beside} if target.beside else {}
        return Sample(
            id=sample_id,
            source=source,
            messages=[*(system or []), *history],
            tools=tools,
            reasoning=target.reasoning,
            answer=target.answer,
            meta={**(meta or {}), **beside},
        )

    return build


def split(
    turns: list[Turn],
    row_id: str,
    build: Callable[[str, list[dict[str, Any]], Target], Sample],
    targets: Any = None,
) -> list[Sample | Note | Exception]:
    """One `build(sample_id, history, target)` per target turn, or the reject that lost it."""
    try:
        indices = _target_indices(turns, targets)
    except ValueError as exc:  # a bad `targets` loses every assistant turn of the row
        raise LostTurns(str(exc), max(1, sum(turn.assistant for turn in turns))) from None
    if not indices:
        raise ValueError("no assistant turn: nothing to train on")
    _check_tool_results(turns)
    results: list[Sample | Note | Exception] = []
    for number, index in enumerate(indices):
        bad = next((turn for turn in turns[: index + 1] if turn.error), None)
        if bad is not None:
            results.append(_lost(bad, turns[index], len(indices) - number))
            return results
        sample_id = row_id if len(indices) == 1 else f"{row_id}-t{index}"
        history: list[dict[str, Any]] = [turn.message for turn in turns[:index]]  # type: ignore[misc]
        try:
            sample = build(sample_id, history, turns[index].target)  # type: ignore[arg-type]
            if len(indices) > 1:
                sample = sample.model_copy(update={"meta": {**sample.meta, CONVERSATION: row_id}})
            results.append(sample)
        except ValidationError as exc:
            results.append(ValueError(f"{turns[index].label}: {describe_validation_error(exc)}"))
        except ValueError as exc:
            results.append(ValueError(f"{turns[index].label}: {exc}"))
    if indices[-1] < len(turns) - 1:
        results.append(Note(TRAILING))
    return results


def _target_indices(turns: Sequence[Turn], targets: Any) -> list[int]:
    if targets is None:
        return [i for i, turn in enumerate(turns) if turn.assistant]
    if not isinstance(targets, list) or not all(type(i) is int for i in targets):
        raise ValueError("targets: expected a list of turn indices")
    for i in targets:
        if not 0 <= i < len(turns) or not turns[i].assistant:
            raise ValueError(f"targets: turn {i} is not an assistant turn")
    return sorted(set(targets))


def _check_tool_results(turns: list[Turn]) -> None:
    """A tool result must follow a call (or another result); otherwise mark the culprit unreadable."""
    for before, turn in zip(turns, turns[1:], strict=False):
        if turn.message is None or turn.message["role"] != "tool" or before.error:
            continue
        if before.message is not None and (before.message["role"] == "tool" or before.message.get("tool_calls")):
            continue
        if before.assistant:
            before.error = f"{before.label}: a tool result follows this text turn, which makes no call (a call written as text?)"
            before.target = None
        else:
            turn.error = f"{turn.label}: a tool result with no call before it"


def _lost(bad: Turn, first: Turn, units: int) -> LostTurns:
    if bad is first:
        later = f"; the {units - 1} later target turn(s) need it as history" if units > 1 else ""
        return LostTurns(bad.error + later, units)
    return LostTurns(f"{bad.error}; the {units} target turn(s) from {first.label} on need it as history", units)
