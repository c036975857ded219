"""The one record type that travels the whole pipeline, and its JSONL I/O.

A `Sample` is one training example: the conversation before the target assistant turn
(`messages`), the tools on offer, and the target turn itself split into `reasoning` (the chain of
thought, without tags) and `answer` (tool calls, or a plain statement when no call fits).
Every stage reads and writes JSONL of `Sample`; a stage adds fields and never silently overwrites
one (a replaced answer moves to `history`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal, TextIO, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

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


class RecordError(ValueError):
    """A malformed input record, located by file and line (or array index)."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def describe_validation_error(error: ValidationError) -> str:
    """Pydantic's errors as one line that names each bad field: `answer: Field required`."""
    parts = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "<record>"
        parts.append(f"{field}: {item['msg']}")
    return "; ".join(parts)


def refuse_overwrite(inputs: Iterable[str | Path], **outputs: str | Path | None) -> None:
    """Refuse, before anything is written, an output path that is one of the input files.

    `outputs` maps what each path is for (`rejects=...`, `output=...`) to the path. Paths are
    compared as the files they name (links and `..` resolved, hard links by inode); inputs that are
    not files (`-`, `hf:` sources) are never overwritten and are skipped. Raises `ValueError` naming
    both, so a rejects file cannot grow by wrapping itself and an input is never emptied.
    """
    files = [Path(item) for item in inputs if Path(item).is_file()]
    for what, path in outputs.items():
        if path is None:
            continue
        path = Path(path)
        for source in files:
            same = path.resolve() == source.resolve() or (path.exists() and os.path.samefile(path, source))
            if same:
                raise ValueError(
                    f"the {what.replace('_', ' ')} file {path} is the input {source}; "
                    "inputs are read-only: choose another path"
                )


class Rejects:
    """Where malformed records go: counted, reported and written to a JSONL file, or raised.

    In strict mode the first bad record raises `RecordError`; otherwise each is appended to `path`
    (when given) as `{"where", "error", "raw"}` and counted, so nothing is dropped silently. `count`
    counts units: one per record, or the `units` a record would have given (a conversation whose
    turns each make a sample), so `samples + count` is what the input held. `notes` counts records
    read through a documented tolerance (twice-encoded arguments, ...), for the summary.
    """

    def __init__(self, path: str | Path | None = None, *, strict: bool = False):
        self.path = Path(path) if path else None
        self.strict = strict
        self.count = 0
        self.examples: list[str] = []
        self.notes: Counter[str] = Counter()
        self._file: TextIO | None = None

    def add(self, where: str, error: str, raw: Any, units: int = 1) -> None:
        """Reject the record at `where` (worth `units` samples) for `error`; raise in strict mode."""
        if self.strict:
            raise RecordError(where, error)
        self.count += units
        if len(self.examples) < 5:
            self.examples.append(f"{where}: {error}")
        if self.path is not None:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("a", encoding="utf-8")
            # `default=str`: rows from Parquet or `datasets` may hold dates or bytes
            raw_text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
            row: dict[str, Any] = {"where": where, "error": error, "raw": raw_text}
            if units != 1:
                row["units"] = units
            self._file.write(json.dumps(row, ensure_ascii=False) + "\n")
            self._file.flush()

    def note(self, what: str) -> None:
        """Count one record read through the documented tolerance `what` (shown in summaries)."""
        self.notes[what] += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Rejects:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_json_objects(path: str | Path, rejects: Rejects) -> Iterator[tuple[str, Any]]:
    """Yield `(where, object)` from a JSONL file, or from a JSON file holding one array.

    `where` is `file:line` (or `file[index]` for an array). Lines that are not JSON go to `rejects`.
    Bytes that are not UTF-8 make their line a reject, not the end of the file.
    """
    path = Path(path)
    with path.open(encoding="utf-8", errors="surrogateescape") as handle:
        yield from iter_json_stream(handle, str(path), rejects)


def iter_json_stream(handle: TextIO, name: str, rejects: Rejects) -> Iterator[tuple[str, Any]]:
    """`iter_json_objects` over an open text stream read once, front to back (standard input works).

    `name` stands for the file in locations (`name:line`, `name[index]`). A stream that opens with
    `[` is read as one JSON array; if it is not one (JSONL whose lines are arrays), it is read line
    by line, and a line holding an array yields each of its items (`name:line[index]`). A line that
    cannot be read (not JSON, not UTF-8, a lone surrogate, an integer past Python's 4,300 digits,
    nesting too deep) is a reject with its location and raw text; the file goes on.
    """
    blank = 0
    first = handle.readline()
    while first and not first.strip():
        blank += 1
        first = handle.readline()
    if not first.lstrip().startswith("["):
        yield from _json_lines(itertools.chain([first], handle), blank + 1, name, rejects)
        return
    text = first + handle.read()
    try:
        items = _loads(text)
    except ValueError:
        yield from _json_lines(text.splitlines(keepends=True), blank + 1, name, rejects, arrays=True)
        return
    for index, item in enumerate(items):
        yield f"{name}[{index}]", item


def _json_lines(
    lines: Iterable[str], start: int, name: str, rejects: Rejects, *, arrays: bool = False
) -> Iterator[tuple[str, Any]]:
    for lineno, line in enumerate(lines, start=start):
        if not line.strip():
            continue
        where, line = f"{name}:{lineno}", line.rstrip("\r\n")
        try:
            value = _loads(line)
        except ValueError as exc:
            rejects.add(where, str(exc), line.encode("utf-8", "backslashreplace").decode("utf-8"))
            continue
        if arrays and isinstance(value, list):
            for index, item in enumerate(value):
                yield f"{where}[{index}]", item
        else:
            yield where, value


def _loads(text: str) -> Any:
    """`json.loads`, with every way a text can fail to be JSON data as a `ValueError` that says why."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"not UTF-8 text (byte 0x{ord(text[exc.start]) & 0xFF:02x} at column {exc.start + 1})") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None
    except RecursionError:
        raise ValueError("invalid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise ValueError(f"invalid JSON: {exc}") from None
    if "\\u" in text and _surrogate_escape.search(text):
        try:  # a \udXXX escape that is not half of a pair decodes to a lone surrogate, not text
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("invalid JSON text: a lone surrogate (\\ud800-\\udfff) is not a character") from None
    return value


_surrogate_escape = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


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


class NothingValid(ValueError):
    """Every input record was rejected: the run would write nothing but its rejects."""


def require_valid(records: Iterable[T], rejects: Rejects, source: str | Path) -> Iterator[T]:
    """`records` passed through; at their end, `NothingValid` if none came and `rejects` took some.

    Wrap a reader in it so that a run whose whole input is malformed fails loudly (the CLI exits
    non-zero) instead of writing an empty output; raised inside `atomic_output`, it leaves no output
    file. An input with no records at all is not an error: nothing was dropped.
    """
    before, count = rejects.count, 0
    for record in records:
        count += 1
        yield record
    if count == 0 and rejects.count > before:
        where = f" (see {rejects.path})" if rejects.path else ""
        first = f"; first: {rejects.examples[0]}" if rejects.examples else ""
        raise NothingValid(f"{source}: all {rejects.count - before} record(s) were rejected{where}, "
                           f"nothing to write{first}")


@contextmanager
def atomic_output(
    path: str | Path, *, binary: bool = False, partial: str | Path | None = None
) -> Iterator[IO[Any]]:
    """A file to write `path` through, that appears at `path` only once complete.

    The data goes to a temporary file in the same folder (same file system, so the rename is
    atomic), which is synced and renamed onto `path` when the block ends without error. On any
    error (or Ctrl-C) `path` is left as it was (absent, or the old file intact) and the temporary
    file is removed, or, with `partial`, kept under that name when it holds anything, so costly work
    is not lost yet cannot be mistaken for a finished output. Parent folders are created.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    handle = temporary.open("xb") if binary else temporary.open("x", encoding="utf-8")
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if partial is not None and temporary.is_file() and temporary.stat().st_size:
            os.replace(temporary, partial)
        else:
            temporary.unlink(missing_ok=True)
        raise


def write_jsonl(path: str | Path, records: Iterable[BaseModel | dict[str, Any]]) -> int:
    """Write records as JSONL (creating parent folders); returns how many were written.

    Written through `atomic_output`: `path` appears only once every record is written, so a
    failure midway (a bad record, an exception from the `records` iterator) leaves no partial file.
    """
    count = 0
    with atomic_output(path) as handle:
        for record in records:
            if isinstance(record, BaseModel):
                handle.write(record.model_dump_json() + "\n")
            else:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
