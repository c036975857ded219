"""The generation contract shared by every backend (HTTP endpoint, local transformers)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar


@dataclass
class Generation:
    """One sampled completion, or the reason none could be produced."""

    text: str = ""
    finish_reason: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tool_calls: list[dict[str, str]] | None = None  # a server's parsed calls, `[{name: arguments_json}]`


class Generator(Protocol):
    """Turns chat prompts into completions; any backend that can sample text."""

    name: str

    async def agenerate(
        self,
        prompts: Sequence[list[dict[str, Any]]],
        *,
        max_tokens: int = 512,
        temperature: float = 0.0,
        n: int = 1,
    ) -> list[list[Generation]]:
        """Return one list of ``n`` generations per prompt, in prompt order."""
        ...


class EndpointDown(RuntimeError):
    """The endpoint stayed unreachable after all retries: the run should stop cleanly."""


T = TypeVar("T")


async def gather_or_cancel(calls: Iterable[Awaitable[T]]) -> list[T]:
    """Await `calls` together; if one raises (e.g. `EndpointDown`), cancel the rest and re-raise."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def generate_checked(
    generator: Generator,
    prompts: Sequence[list[dict[str, Any]]],
    parse: Callable[[int, Generation], T],
    *,
    retries: int = 2,
    max_tokens: int = 512,
    temperature: float = 0.0,
    retry_temperature: float = 0.7,
) -> list[tuple[T | None, str | None]]:
    """Generate for every prompt and `parse` each answer, asking again where the answer is unusable.

    `parse(index, generation)` turns the answer to `prompts[index]` into a value, or raises
    `ValueError` saying what is wrong with it; those prompts are asked again at
    `retry_temperature` (so the answer can change), at most `retries` more times. A generation that carries an `error` (the endpoint could not answer) is
    final. Returns `(value, None)` or `(None, why)` per prompt, in order; `EndpointDown` propagates.
    """
    results: list[tuple[T | None, str | None]] = [(None, "not asked")] * len(prompts)
    todo = list(range(len(prompts)))
    for attempt in range(retries + 1):
        heat = temperature if attempt == 0 else retry_temperature
        answers = await generator.agenerate([prompts[i] for i in todo], max_tokens=max_tokens, temperature=heat)
        again = []
        for index, generations in zip(todo, answers, strict=True):
            generation = generations[0]
            if generation.error:
                results[index] = (None, generation.error)
                continue
            try:
                results[index] = (parse(index, generation), None)
            except ValueError as exc:
                results[index] = (None, f"{exc} (after {attempt + 1} tries)")
                again.append(index)
        todo = again
        if not todo:
            break
    return results
