"""JSONL plumbing every stage shares: located rejects, tolerant readers, atomic writers, and the
guard that keeps inputs read-only.

Kept apart from `records` (the pydantic record types) so that commands which only move JSON, such
as scoring result files, start without importing pydantic or jsonschema.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO, TypeVar

T = TypeVar("T")


class RecordError(ValueError):
    """A malformed input record, located by file and line (or array index)."""

    def __init__(self, where: str, message: str):
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


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

    In strict mode the first bad record raises `RecordError`; otherwise each is written to `path`
    (when given) as `{"where", "error", "raw"}` and counted, so nothing is dropped silently. The file
    is written under a temporary name and renamed onto `path` at `close` (the end of the `with`
    block, error or not), so `path` holds one whole run's rejects, never a mix with an older run's.
    A run that ends without error and rejects nothing removes an older run's file at `path`, so no
    rejects file means nothing was rejected (the console then says nothing either); a run that fails
    leaves `path` as it was, like `atomic_output` (the guard against writing over an input may be
    what failed, inside the block). `count` counts units: one per record, or the `units` a record
    would have given (a conversation whose turns each make a sample), so `samples + count` is what
    the input held. `notes` counts records read through a documented tolerance (twice-encoded
    arguments, ...), for the summary.
    """

    def __init__(self, path: str | Path | None = None, *, strict: bool = False):
        self.path = Path(path) if path else None
        self.strict = strict
        self.count = 0
        self.examples: list[str] = []
        self.notes: Counter[str] = Counter()
        self._file: TextIO | None = None
        self._temporary: Path | None = None

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
                self._temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
                self._file = self._temporary.open("x", encoding="utf-8")
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

    def close(self, *, finished: bool = True) -> None:
        """Put this run's rejects, if any, at `path`; when a `finished` run rejected nothing, remove
        an older run's file there, which would otherwise read as this run's rejects."""
        if self._file is not None:
            self._file.close()
            self._file = None
            os.replace(self._temporary, self.path)  # type: ignore[arg-type]
        elif finished and self.count == 0 and self.path is not None and not self.path.is_dir():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> Rejects:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self.close(finished=kind is None)


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


def write_jsonl(path: str | Path, records: Iterable[Any]) -> int:
    """Write records (pydantic models or JSON-able dicts) as JSONL, creating parent folders;
    returns how many were written.

    Written through `atomic_output`: `path` appears only once every record is written, so a
    failure midway (a bad record, an exception from the `records` iterator) leaves no partial file.
    """
    count = 0
    with atomic_output(path) as handle:
        for record in records:
            if hasattr(record, "model_dump_json"):  # a pydantic model, without importing pydantic here
                handle.write(record.model_dump_json() + "\n")
            else:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
