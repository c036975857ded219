"""A scripted judge and regenerator for the pipeline tests, and a worker that refines with them.

Run as `python _scripted.py INPUT OUT LOG [BLOCK_AFTER MARKER]`: refines INPUT into OUT with the
`hashed` script, appending one line per judged sample to LOG when the judge call returns. With
BLOCK_AFTER, every judge call after that many writes MARKER and hangs (to be killed).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from funreason.records import Sample, ToolCall
from funreason.refine.judges import Judgement
from funreason.refine.rules import RAW_ANSWER
from funreason.refine.stages import Regeneration, verdict_key

Script = Callable[[str, Sample], Judgement]


class ScriptedJudge:
    """Answers each sample with `script(stage, sample)`; counts and optionally logs what it judged."""

    def __init__(self, script: Script, *, name: str = "scripted", version: str = "1", log: Path | None = None,
                 block_after: int | None = None, marker: Path | None = None):
        self.script, self.name, self.version = script, name, version
        self.log, self.block_after, self.marker = log, block_after, marker
        self.calls = 0
        self.judged: list[tuple[str, str]] = []

    async def judge(self, stage: str, samples: Sequence[Sample]) -> list[Judgement]:
        self.calls += 1
        if self.block_after is not None and self.calls > self.block_after:
            if self.marker is not None:
                self.marker.write_text("blocked")
            await asyncio.sleep(3600)
        await asyncio.sleep(0)  # let other batches interleave, as a real judge would
        answers = [self.script(stage, sample) for sample in samples]
        judged = [(stage, verdict_key(sample)) for sample in samples]
        self.judged += judged
        if self.log is not None:
            with self.log.open("a") as handle:
                handle.writelines(f"judge\t{stage}\t{key}\n" for stage, key in judged)
        return answers


class ScriptedRegenerator:
    """Adds `regenerated=True` to every call (the reasoning unchanged); an answer that already has it
    gets an unusable attempt."""

    name, version = "scripted-regenerator", "1"

    def __init__(self, log: Path | None = None):
        self.log = log
        self.asked: list[str] = []

    async def regenerate(self, stage: str, samples: Sequence[Sample], judgements: Sequence[Judgement],
                         attempts: Sequence[int]) -> list[Regeneration]:
        keys = [verdict_key(sample) for sample in samples]
        self.asked += keys
        if self.log is not None:
            with self.log.open("a") as handle:
                handle.writelines(f"regenerate\t{stage}\t{key}\t{n}\n" for key, n in zip(keys, attempts, strict=True))
        return [Regeneration(None, note="already regenerated") if any(c.arguments.get("regenerated") for c in s.calls)
                else Regeneration([ToolCall(name=c.name, arguments={**c.arguments, "regenerated": True}) for c in s.calls])
                for s in samples]


def hashed(stage: str, sample: Sample) -> Judgement:
    """A deterministic mix of every verdict and action, drawn from the sample's content key."""
    h = int(verdict_key(sample)[:8], 16)
    if stage == "response":
        return Judgement("pass" if sample.calls else "fail", "calls" if sample.calls else "statement")
    if stage == "query_tool":
        return Judgement("fail", "unsolvable: by hash") if h % 13 == 0 else Judgement("pass", "ok")
    if stage == "reasoning":
        if h % 11 == 0:
            return Judgement("fail", "leads elsewhere: by hash")
        return Judgement("undecided", "unsure: by hash") if h % 11 == 1 else Judgement("pass", "ok")
    if stage == "function_params":
        if h % 5 == 0:
            fixed = [ToolCall(name=c.name, arguments={**c.arguments, "fixed": h % 3}) for c in sample.calls]
            return Judgement("fail", "wrong value: by hash", fixed)
        return Judgement("fail", "wrong function: by hash") if h % 7 == 1 else Judgement("pass", "ok")
    if RAW_ANSWER in sample.meta:
        return Judgement("fail", "not canonical: by meta", list(sample.calls))
    return Judgement("undecided", "unsure: by hash") if h % 6 == 0 else Judgement("pass", "ok")


def main(argv: list[str]) -> None:
    from funreason.refine.pipeline import refine

    source, out, log = Path(argv[0]), Path(argv[1]), Path(argv[2])
    block = int(argv[3]) if len(argv) > 3 else None
    marker = Path(argv[4]) if len(argv) > 4 else None
    judge = ScriptedJudge(hashed, log=log, block_after=block, marker=marker)
    summary = refine(source, out, judge, regenerator=ScriptedRegenerator(log), batch_size=16, concurrency=3,
                     progress=False)
    print(f"resumed={summary.resumed} regenerated={summary.regenerated}")


if __name__ == "__main__":
    main(sys.argv[1:])
