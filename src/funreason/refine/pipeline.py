"""`refine`: run the five FCDR stages over a JSONL file of samples, resumably.

Samples stream from the input in batches; several batches are judged concurrently (judges are
async). Every verdict, every regeneration attempt and every sample's outcome goes to
`refine.sqlite` in the output folder as soon as its batch step is done, so a run killed at any
point (even `kill -9`) and started again asks the judge and the teacher nothing they already
answered, and ends with the same files as an uninterrupted run: the outputs are written at the end
from the store, in input order.

Outputs in `out_dir`: `refined.jsonl` (passed, plus statement answers saved at stage 1),
`hard.jsonl` (stage 4-5 failures regeneration could not fix, and undecided ones under
`undecided="hard"`), `dropped.jsonl` (stage 2-3 failures), `errors.jsonl` (the judge failed on
them; retried on the next run), `rejects.jsonl` (malformed input lines, when there are any), `report.md` with
`funnel.png`, and `run.json` (settings, versions, counts, time). Each appears only once complete
(written to a temporary file, then renamed). An input whose every line is malformed raises
`NothingValid` and writes no outcome files.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from funreason import __version__
from funreason.llm.base import EndpointDown
from funreason.records import (
    Rejects,
    Sample,
    ToolCall,
    atomic_output,
    read_samples,
    refuse_overwrite,
    require_valid,
)
from funreason.refine.judges import STAGES, Judge, Judgement
from funreason.refine.report import ReportStats, write_report
from funreason.refine.stages import (
    OUTCOMES,
    TITLES,
    Regeneration,
    Regenerator,
    Track,
    Undecided,
    rewritten,
    run_stages,
    verdict_key,
)
from funreason.refine.store import Store

FILES = {"refined": "refined.jsonl", "hard": "hard.jsonl", "dropped": "dropped.jsonl", "error": "errors.jsonl"}
STORE_FILE = "refine.sqlite"
_DECISIONS = ("pass", "fail", "undecided", "error")
OUTCOME_FORMAT = 2  # outcomes stored by another format (trails without regeneration attempts) are recomputed


@dataclass
class RefineSummary:
    """What a `refine` run did: sample counts by outcome, judge work, the funnel, where it wrote."""

    out_dir: Path
    input: int = 0  # valid input samples
    rejects: int = 0  # malformed input records
    refined: int = 0  # of which statements saved at stage 1: `statements`
    statements: int = 0
    hard: int = 0
    dropped: int = 0
    errors: int = 0
    judged: int = 0  # samples sent to the judge (one per stage asked)
    cached: int = 0  # verdicts taken from the store instead
    resumed: int = 0  # samples whose outcome an earlier run had stored
    regenerated: int = 0  # answers replaced (judge corrections and regenerator rewrites)
    rewritten: int = 0  # of which rewritten by the regenerator (reasoning and answer)
    unusable: int = 0  # regenerator replies that gave nothing usable (garbage, timeouts): failed attempts
    kept_after_regeneration: int = 0  # refined samples that had at least one regeneration attempt
    given_up: int = 0  # hard-pool samples that had at least one regeneration attempt
    undecided_kept: int = 0  # refined samples that passed a stage on an undecided verdict (policy "pass")
    regenerator_asked: int = 0  # attempts sent to the regenerator in this run (the rest came from the store)
    seconds: float = 0.0
    funnel: dict[str, int] = field(default_factory=dict)  # samples that passed each stage

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "out_dir": str(self.out_dir)}


def refine(
    input_path: str | Path,
    out_dir: str | Path,
    judge: Judge,
    *,
    max_regenerations: int = 2,
    regenerator: Regenerator | None = None,
    undecided: Undecided = "pass",
    batch_size: int = 256,
    concurrency: int = 4,
    strict: bool = False,
    progress: bool = True,
) -> RefineSummary:
    """Refine the samples of `input_path` (JSONL) into `out_dir` with `judge`; see the module docstring.

    `max_regenerations` bounds the regeneration attempts per sample (stages 4-5, unusable ones
    included); `regenerator` (a teacher, `refine.teacher`) rewrites the reasoning and answer where
    the judge gave no correction (without one such samples go to the hard pool). `undecided` is what an undecided verdict counts as: "pass", "fail" or "hard".
    `batch_size` samples go to the judge at once, `concurrency` batches are in flight. `strict`
    stops at the first malformed input line instead of writing it to `rejects.jsonl`. Raises
    `EndpointDown` when an LLM judge's endpoint stays unreachable: what was judged is kept, and
    the same call resumes.
    """
    return asyncio.run(arefine(
        input_path, out_dir, judge, max_regenerations=max_regenerations, regenerator=regenerator,
        undecided=undecided, batch_size=batch_size, concurrency=concurrency, strict=strict, progress=progress,
    ))


async def arefine(
    input_path: str | Path,
    out_dir: str | Path,
    judge: Judge,
    *,
    max_regenerations: int = 2,
    regenerator: Regenerator | None = None,
    undecided: Undecided = "pass",
    batch_size: int = 256,
    concurrency: int = 4,
    strict: bool = False,
    progress: bool = True,
) -> RefineSummary:
    """`refine` for callers already inside an event loop."""
    if max_regenerations < 0 or batch_size < 1 or concurrency < 1:
        raise ValueError("max_regenerations must be >= 0, batch_size and concurrency >= 1")
    if undecided not in ("pass", "fail", "hard"):
        raise ValueError(f"undecided must be 'pass', 'fail' or 'hard', not {undecided!r}")
    input_path, out_dir = Path(input_path), Path(out_dir)
    if not input_path.is_file():
        raise FileNotFoundError(f"input file not found: {input_path}")
    written = {name.removesuffix(".jsonl"): out_dir / name for name in (*FILES.values(), "rejects.jsonl")}
    refuse_overwrite([input_path], **written, store=out_dir / STORE_FILE, report=out_dir / "report.md")
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    settings = {
        "judge": judge.name, "judge_version": judge.version, "max_regenerations": max_regenerations,
        "undecided": undecided, "regenerator": [regenerator.name, regenerator.version] if regenerator else None,
        "outcome_format": OUTCOME_FORMAT,
    }
    lock = FileLock(out_dir / ".refine.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        message = f"another refine run is writing to {out_dir}; wait for it or use another output folder"
        raise RuntimeError(message) from None
    try:
        run = _Run(Store(out_dir / STORE_FILE), judge, regenerator, settings)
        try:
            summary, stats = await run.execute(input_path, out_dir, batch_size, concurrency, strict, progress)
        finally:
            run.store.close()
        write_report(out_dir, stats, input_name=input_path.name, settings=settings, rejects=summary.rejects)
        summary.seconds = time.perf_counter() - started
        _write_run_info(out_dir / "run.json", input_path, settings, summary)
    finally:
        lock.release()
    return summary


class _Run:
    """One run's judge calls through the store, and the batches in flight."""

    def __init__(self, store: Store, judge: Judge, regenerator: Regenerator | None, settings: dict[str, Any]):
        self.store, self.judge, self.regenerator, self.settings = store, judge, regenerator, settings
        self.display = _Display(False, None)
        self.config = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
        self.judged = self.cached = self.resumed = self.asked = 0
        self.inflight: dict[tuple[str, str], asyncio.Future[Judgement]] = {}

    async def execute(self, input_path: Path, out_dir: Path, batch_size: int, concurrency: int, strict: bool,
                      progress: bool) -> tuple[RefineSummary, ReportStats]:
        """Judge every input sample (or take its stored outcome), then write the outcome files."""
        rejects_path = out_dir / "rejects.jsonl"
        rejects_path.unlink(missing_ok=True)  # rebuilt from the input on every run; none, no file
        self.display = _Display(progress, input_path)
        with self.display, Rejects(rejects_path, strict=strict) as rejects:
            samples = require_valid(read_samples(input_path, rejects), rejects, input_path)
            count = await self.all(samples, batch_size, concurrency)
        self.store.truncate(count)
        stats = _write_outputs(self.store, count, out_dir)
        summary = RefineSummary(
            out_dir, input=count, rejects=rejects.count, refined=stats.outcomes["refined"],
            statements=stats.statements, hard=stats.outcomes["hard"], dropped=stats.outcomes["dropped"],
            errors=stats.outcomes["error"], judged=self.judged, cached=self.cached, resumed=self.resumed,
            regenerated=stats.attempts["corrected"] + stats.attempts["rewritten"],
            rewritten=stats.attempts["rewritten"], unusable=stats.attempts["unusable"],
            kept_after_regeneration=stats.after["refined"], given_up=stats.after["hard"],
            undecided_kept=stats.undecided_kept if self.settings["undecided"] == "pass" else 0,
            regenerator_asked=self.asked, funnel=stats.funnel())
        return summary, stats

    async def all(self, samples: Iterable[Sample], batch_size: int, concurrency: int) -> int:
        """Process every batch, at most `concurrency` at once; returns how many samples there were."""
        pending: set[asyncio.Task[None]] = set()
        count = 0
        try:
            for batch in _batches(samples, batch_size):
                while len(pending) >= concurrency:
                    await _settle(pending)
                pending.add(asyncio.create_task(self.batch([Track(count + i, s) for i, s in enumerate(batch)])))
                count += len(batch)
                self.display.read(len(batch))
            while pending:
                await _settle(pending)
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        return count

    async def batch(self, tracks: list[Track]) -> None:
        inputs = {t.seq: _input_key(t) for t in tracks}
        finished = self.store.finished([t.seq for t in tracks], self.config)
        todo = [t for t in tracks if finished.get(t.seq) != inputs[t.seq]]
        self.resumed += len(tracks) - len(todo)
        await run_stages(todo, self.judge_stage, self.judge.name,
                         regenerate=self.regenerate if self.regenerator else None,
                         regenerator_name=self.regenerator.name if self.regenerator else "",
                         max_regenerations=self.settings["max_regenerations"], undecided=self.settings["undecided"])
        self.store.add_outcomes(
            (t.seq, t.sample.id, inputs[t.seq], self.config, t.outcome, t.end_stage, t.reason,
             t.sample.model_dump_json(), json.dumps([list(step) for step in t.steps]))
            for t in todo)
        self.store.commit()
        self.display.done(len(tracks))

    async def judge_stage(self, stage: str, tracks: list[Track]) -> list[Judgement]:
        """The judge's answers for `tracks` at `stage`: from the store, else asked (once per key) and stored.

        A key another batch is asking about right now is waited for, not asked again.
        """
        name, version = self.judge.name, self.judge.version
        keys = [t.key for t in tracks]
        known: dict[str, Judgement] = self.store.verdicts(stage, name, version, keys)
        ask: dict[str, Sample] = {}
        waits: dict[str, asyncio.Future[Judgement]] = {}
        for track in tracks:
            key = track.key
            if key in known or key in ask or key in waits:
                continue
            if (stage, key) in self.inflight:
                waits[key] = self.inflight[stage, key]
            else:
                ask[key] = track.sample
        self.cached += len(tracks) - len(ask)
        self.display.enter(stage, len(tracks))
        if ask:
            futures = {key: asyncio.get_running_loop().create_future() for key in ask}
            self.inflight.update(((stage, key), future) for key, future in futures.items())
            try:
                answers = await self._ask(stage, list(ask.values()))
                self.store.add_verdicts(stage, name, version, zip(ask, answers, strict=True), time.time())
                self.store.commit()
            except BaseException as exc:  # waiting batches fail the same way (or are cancelled)
                for future in futures.values():
                    if isinstance(exc, Exception):
                        future.set_exception(exc)
                        future.exception()  # mark it retrieved: no warning when nobody waits
                    else:
                        future.cancel()
                raise
            finally:
                for key in futures:
                    del self.inflight[stage, key]
            for key, answer in zip(ask, answers, strict=True):
                futures[key].set_result(answer)
                known[key] = answer
            self.judged += len(ask)
        for key, future in waits.items():
            known[key] = await future
        self.display.judged(stage, len(tracks))
        return [known[key] for key in keys]

    async def _ask(self, stage: str, samples: list[Sample]) -> list[Judgement]:
        try:
            answers = await self.judge.judge(stage, samples)
        except EndpointDown:
            raise
        except Exception as exc:  # the judge failed on this batch: its samples go to errors
            return [Judgement("error", f"judge failed: {type(exc).__name__}: {exc}") for _ in samples]
        if len(answers) != len(samples) or not all(
            a.decision in _DECISIONS and _calls_or_none(a.correction) for a in answers
        ):
            raise RuntimeError(f"judge {self.judge.name!r} returned {len(answers)} judgements for {len(samples)} "
                               f"samples, or a decision not in {_DECISIONS}, or a correction that is not a list "
                               "of ToolCall; fix the judge")
        return list(answers)

    async def regenerate(self, stage: str, tracks: list[Track], judgements: list[Judgement]) -> list[Regeneration]:
        """Each track's next regeneration attempt: from the store, else asked of the regenerator and stored.

        An attempt is keyed by the failing sample's content key and its attempt number
        (`track.tries`), so a rerun finds every attempt it made before, usable or not.
        """
        assert self.regenerator is not None, "run_stages asks only when there is a regenerator"
        name, version = self.regenerator.name, self.regenerator.version
        wanted = [(t.key, t.tries) for t in tracks]
        known = self.store.attempts(stage, name, version, wanted)
        ask = {pair: (t, j) for pair, t, j in zip(wanted, tracks, judgements, strict=True) if pair not in known}
        if ask:
            asked = list(ask.values())
            answers = await self._rewrite(stage, [t.sample for t, _ in asked], [j for _, j in asked],
                                          [t.tries for t, _ in asked])
            made = [None if a.calls is None else verdict_key(rewritten(t.sample, a, "", name))  # the new sample's key
                    for (t, _), a in zip(asked, answers, strict=True)]
            self.store.add_attempts(stage, name, version, [(key, attempt, answer, new) for (key, attempt), answer, new
                                                           in zip(ask, answers, made, strict=True)], time.time())
            self.store.commit()
            self.asked += len(ask)
            known = self.store.attempts(stage, name, version, wanted)  # the stored answer stands (see add_attempts)
        return [known[pair] for pair in wanted]

    async def _rewrite(self, stage: str, samples: list[Sample], judgements: list[Judgement],
                       attempts: list[int]) -> list[Regeneration]:
        """The regenerator's answers; one that raises makes its batch's attempts unusable, not the run stop."""
        assert self.regenerator is not None
        try:
            answers = await self.regenerator.regenerate(stage, samples, judgements, attempts)
        except EndpointDown:
            raise
        except Exception as exc:
            return [Regeneration(None, note=f"regenerator failed: {type(exc).__name__}: {exc}") for _ in samples]
        if len(answers) != len(samples) or not all(
            isinstance(a, Regeneration) and _calls_or_none(a.calls) and (a.reasoning is None or isinstance(a.reasoning, str))
            for a in answers
        ):
            raise RuntimeError(f"regenerator {self.regenerator.name!r} returned {len(answers)} answers for "
                               f"{len(samples)} samples, or one that is not a Regeneration with calls None or a "
                               "list of ToolCall; fix the regenerator")
        return list(answers)


def _calls_or_none(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(c, ToolCall) for c in value))


def _input_key(track: Track) -> str:
    """A hash of the whole input record: its judged content (the track's key) and everything else."""
    rest = track.sample.model_dump_json(include={"id", "source", "meta", "verdicts", "history"})
    return hashlib.sha256(f"{track.key}\n{rest}".encode()).hexdigest()


async def _settle(pending: set[asyncio.Task[None]]) -> None:
    """Wait for one of the `pending` batches to end and remove it; a failed batch stops the run."""
    done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
    pending -= done
    failures = [task.exception() for task in done]  # read them all, so none goes unreported
    for failure in failures:
        if failure is not None:
            raise failure


def _batches(samples: Iterable[Sample], size: int) -> Iterator[list[Sample]]:
    batch: list[Sample] = []
    for sample in samples:
        batch.append(sample)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write_outputs(store: Store, count: int, out_dir: Path) -> ReportStats:
    """Write the outcome files from the store in input order (each via a temporary file)."""
    stats = ReportStats()
    temporary = {outcome: out_dir / f".{FILES[outcome]}.tmp" for outcome in OUTCOMES}
    handles = {outcome: path.open("w", encoding="utf-8") for outcome, path in temporary.items()}
    try:
        for outcome, stage, sample, trail in store.results(count):
            handles[outcome].write(sample + "\n")
            stats.add(outcome, stage, json.loads(trail))
    finally:
        for handle in handles.values():
            handle.close()
    for outcome, path in temporary.items():
        os.replace(path, out_dir / FILES[outcome])
    return stats


def _write_run_info(path: Path, input_path: Path, settings: dict[str, Any], summary: RefineSummary) -> None:
    from funreason.runinfo import git_commit

    info = {"funreason": __version__, "git_commit": git_commit(), "input": str(input_path),
            "settings": settings, "summary": summary.as_dict()}
    with atomic_output(path) as handle:
        handle.write(json.dumps(info, indent=2) + "\n")


class _Display:
    """A rich progress bar per stage (samples judged of those that reached it), on stderr."""

    def __init__(self, enabled: bool, input_path: Path | None):
        self.progress = Progress(TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=Console(stderr=True), disable=not enabled)
        total = _count_lines(input_path) if enabled and input_path is not None else None
        self.samples = self.progress.add_task("samples done", total=total)
        self.stages: dict[str, TaskID] = {
            stage: self.progress.add_task(f"{i}. {TITLES[stage]}", total=0) for i, stage in enumerate(STAGES, 1)}
        self.seen = 0

    def __enter__(self) -> _Display:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def read(self, n: int) -> None:
        """`n` more input samples (the line count is only an estimate of the total)."""
        self.seen += n
        total = self.progress.tasks[self.samples].total
        if total is not None and self.seen > total:
            self.progress.update(self.samples, total=self.seen)

    def done(self, n: int) -> None:
        self.progress.advance(self.samples, n)

    def enter(self, stage: str, n: int) -> None:
        task = self.stages[stage]
        self.progress.update(task, total=(self.progress.tasks[task].total or 0) + n)

    def judged(self, stage: str, n: int) -> None:
        self.progress.advance(self.stages[stage], n)


def _count_lines(path: Path) -> int | None:
    """Non-blank lines of a JSONL file (None for a JSON array), for the progress bar's total."""
    with path.open("rb") as handle:
        if handle.read(4096).lstrip().startswith(b"["):
            return None
        handle.seek(0)
        return sum(1 for line in handle if line.strip())

