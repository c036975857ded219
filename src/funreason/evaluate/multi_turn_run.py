"""Generate BFCL multi-turn conversations with any `Generator`, the way bfcl-eval's prompting
handlers hold them (`base_handler.inference_multi_turn_prompting`).

Each turn opens with its messages (the first with BFCL's system prompt and the entry's docs; a
held-out turn with BFCL's "I have updated some more functions" message). Each step the model
answers; its reasoning (`<think>...</think>`) is removed as BFCL's reasoning handlers remove it and
the answer is kept as the assistant message; the answer is decoded as python calls; if it does not
decode or holds no call the turn ends, else the calls run on the entry's own API instances
(`Executor`) and their results are fed back. After more than `MAXIMUM_STEP_LIMIT` steps in one turn
the conversation is force-quit (it ends; a conversation cut short fails the check).

Results are fed back as BFCL feeds them back: `"tool"` (its local-model handlers,
`base_oss_handler._add_execution_results_prompting`: one `tool` message per call, named by the
call), or `"user"` (its API prompting handlers, `format_execution_results_prompting`: one `user`
message holding the `repr` of those tool messages; chat APIs refuse `tool` messages that answer no
tool call).

All active conversations step together, one `agenerate` call per round, so a batched local model
or a concurrent endpoint is kept busy; a finished conversation's row is appended to the results
file at once, so a rerun resumes per entry.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from funreason.evaluate.checker import remove_reasoning
from funreason.evaluate.multi_turn import MAXIMUM_STEP_LIMIT, MultiTurnEntry
from funreason.evaluate.multi_turn_checker import MultiTurnCheck, check_multi_turn, decode_step, new_executor
from funreason.evaluate.multi_turn_exec import Call, Executor, decoded_calls
from funreason.llm.base import Generation, Generator

Feedback = Literal["tool", "user"]
GENERATION_ERROR = "generation_error"
CHECKER_ERROR = "checker_error"


def feedback_for(generator: Generator) -> Feedback:
    """How results go back to `generator`: as BFCL's local-model handlers do for a local model
    (it has `generate_stream`), as its API prompting handlers do for an endpoint."""
    return "tool" if hasattr(generator, "generate_stream") else "user"


def call_text(call: Call) -> str:
    """A decoded call written back as BFCL writes it (`decoded_output_to_execution_list`)."""
    name, _, kwargs = call
    return f"{name}({', '.join(f'{key}={value!r}' for key, value in kwargs.items())})"


def answer_text(output: str) -> str:
    """The model's answer without its reasoning, as BFCL's handlers remove it (`remove_reasoning`)."""
    return remove_reasoning(output)[1]


@dataclass
class Conversation:
    """One entry's conversation in progress: the prompt so far and what each step gave.

    `outputs`/`result`: per turn, per step, the raw text and the answer BFCL's result file holds;
    `execution`: per turn, per executed step, the results fed back.
    """

    entry: MultiTurnEntry
    feedback: Feedback = "tool"
    messages: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[list[str]] = field(default_factory=list)
    result: list[list[str]] = field(default_factory=list)
    execution: list[list[list[str]]] = field(default_factory=list)
    force_quit: bool = False
    done: bool = False
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __post_init__(self) -> None:
        self._executor: Executor = new_executor(self.entry)
        self._turn, self._steps = 0, 0
        self._open_turn()

    def _open_turn(self) -> None:
        self.messages.extend(self.entry.turn_messages(self._turn))
        self.outputs.append([])
        self.result.append([])
        self.execution.append([])
        self._steps = 0

    def advance(self, generation: Generation) -> None:
        """Take the model's answer to `messages`: record it, run its calls, move to the next step,
        turn or end."""
        if generation.error is not None:
            self.error, self.done = generation.error, True
            return
        self.prompt_tokens += generation.prompt_tokens
        self.completion_tokens += generation.completion_tokens
        answer = answer_text(generation.text)
        self.outputs[-1].append(generation.text)
        self.result[-1].append(answer)
        self.messages.append({"role": "assistant", "content": answer})
        decoded = decode_step(answer)
        if decoded is None:  # no call: the model is done with this turn
            self._turn += 1
            if self._turn == len(self.entry.turns):
                self.done = True
            else:
                self._open_turn()
            return
        calls = decoded_calls(decoded)
        results = self._executor.execute(calls)
        self.execution[-1].append(results)
        tools = [
            {"role": "tool", "name": call_text(c), "content": r} for c, r in zip(calls, results, strict=True)
        ]
        if self.feedback == "tool":
            self.messages.extend(tools)
        else:
            self.messages.append({"role": "user", "content": repr(tools)})
        self._steps += 1
        if self._steps > MAXIMUM_STEP_LIMIT:
            self.force_quit = self.done = True


def multi_turn_row(
    entry: MultiTurnEntry, result: Any, conversation: Conversation | None = None
) -> dict[str, Any]:
    """The `results.jsonl` row of one conversation (or of a BFCL result `result` scored alone):
    what each step said and did, and BFCL's verdict."""
    error = conversation.error if conversation is not None else None
    if error is not None:
        check = MultiTurnCheck(False, GENERATION_ERROR, [error])
    else:
        try:
            check = check_multi_turn(entry, result)
        except Exception as exc:  # one odd conversation must not end a long run; it is recorded
            check = MultiTurnCheck(False, CHECKER_ERROR, [f"{type(exc).__name__}: {exc}"])
    return {
        "id": entry.id,
        "category": entry.category,
        "result": result,
        "outputs": conversation.outputs if conversation else None,
        "decoded": check.decoded,
        "execution": conversation.execution if conversation else None,
        "valid": check.valid,
        "error_type": check.error_type,
        "errors": check.errors,
        "force_quit": conversation.force_quit if conversation else None,
        "prompt_tokens": conversation.prompt_tokens if conversation else None,
        "completion_tokens": conversation.completion_tokens if conversation else None,
        "generation_error": error,
    }


async def generate_multi_turn(
    generator: Generator,
    entries: Iterable[MultiTurnEntry],
    path: Path,
    *,
    max_tokens: int,
    concurrency: int = 64,
    feedback: Feedback = "tool",
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Hold the conversations of `entries`, `concurrency` at a time, appending each finished one's
    row to `path`; returns the rows in the order they finished. `progress`: a bar on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    pending, active, rows = deque(entries), [], []
    if not pending:
        return rows
    columns = (TextColumn("BFCL multi-turn {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with (
        Progress(*columns, console=Console(stderr=True), disable=not progress) as bar,
        path.open("a", encoding="utf-8") as handle,
    ):
        task, round_ = bar.add_task("", total=len(pending)), 0
        while pending or active:
            while pending and len(active) < concurrency:
                active.append(Conversation(pending.popleft(), feedback))
            round_ += 1
            bar.update(task, description=f"(step {round_}, {len(active)} conversations)")
            outputs = await generator.agenerate([c.messages for c in active], max_tokens=max_tokens)
            if len(outputs) != len(active):
                raise RuntimeError(
                    f"{generator.name} returned {len(outputs)} answers for {len(active)} prompts"
                )
            for conversation, generations in zip(active, outputs, strict=True):
                conversation.advance(
                    generations[0] if generations else Generation(error="no generation returned")
                )
            for conversation in [c for c in active if c.done]:
                row = multi_turn_row(conversation.entry, conversation.result, conversation)
                handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
                handle.flush()
                rows.append(row)
                bar.advance(task)
            active = [c for c in active if not c.done]
    return rows
