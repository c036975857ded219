"""Outside dataset formats, read into and written from the canonical `Sample`.

Readers: `bfcl`, `native`, `openai`, `sharegpt`, `tooln1`, `xlam`; writers: `native`, `openai`,
`sharegpt`, `trl`. A reader is `read(path, rejects) -> Iterator[Sample]` and never stops on a bad
row: the row goes to `rejects` as `file:line: <field>: <problem>`. A writer is
`write(samples, path) -> int` (rows written). `openai`, `sharegpt` and `native` round-trip:
`read(write(samples)) == samples` for the fields each carries (see each module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from funreason.formats import bfcl, native, openai_chat, sharegpt, tooln1, trl, xlam
from funreason.formats.rows import NO_CALL_STATEMENT
from funreason.records import Rejects, Sample, require_valid

Reader = Callable[[str | Path, Rejects], Iterator[Sample]]
Writer = Callable[[Iterable[Sample], str | Path], int]

READERS: dict[str, Reader] = {
    "bfcl": bfcl.read,
    "native": native.read,
    "openai": openai_chat.read,
    "sharegpt": sharegpt.read,
    "tooln1": tooln1.read,
    "xlam": xlam.read,
}
WRITERS: dict[str, Writer] = {
    "native": native.write,
    "openai": openai_chat.write,
    "sharegpt": sharegpt.write,
    "trl": trl.write,
}

__all__ = ["NO_CALL_STATEMENT", "READERS", "WRITERS", "convert", "read", "reader", "write", "writer"]


def reader(name: str) -> Reader:
    """The reader called `name`; `ValueError` listing the known ones otherwise."""
    return _lookup(READERS, name, "input", WRITERS)


def writer(name: str) -> Writer:
    """The writer called `name`; `ValueError` listing the known ones otherwise."""
    return _lookup(WRITERS, name, "output", READERS)


def read(path: str | Path, fmt: str, rejects: Rejects | None = None) -> Iterator[Sample]:
    """Stream `Sample`s from `path` in format `fmt`; without `rejects` the first bad row raises."""
    return reader(fmt)(path, rejects if rejects is not None else Rejects(strict=True))


def write(samples: Iterable[Sample], path: str | Path, fmt: str) -> int:
    """Write `samples` to `path` in format `fmt`; returns how many were written."""
    return writer(fmt)(samples, path)


def convert(
    source: str | Path, output: str | Path, from_format: str, to_format: str, rejects: Rejects | None = None
) -> int:
    """Convert `source` (format `from_format`) into `output` (format `to_format`), streaming.

    Bad input rows go to `rejects` (count them with `rejects.count`); without `rejects` the first
    one raises `RecordError`; when every row is bad, `NothingValid` is raised. Both format names are
    checked before anything is read or written. `output` appears only once complete: a failure
    leaves no file there (or the old one intact). Returns the number of samples written.
    """
    read_fn, write_fn = reader(from_format), writer(to_format)
    if not Path(source).is_file():
        raise FileNotFoundError(f"input file not found: {source}")
    if Path(output).resolve() == Path(source).resolve():
        # The conversion would replace the data it was made from.
        raise ValueError(f"output {output} is the input file; write to another path")
    rejects = rejects if rejects is not None else Rejects(strict=True)
    return write_fn(require_valid(read_fn(source, rejects), rejects, source), output)


def _lookup(table: dict, name: str, kind: str, other: dict) -> Callable:
    if name in table:
        return table[name]
    hint = f" ('{name}' can only be {'read' if kind == 'output' else 'written'})" if name in other else ""
    raise ValueError(f"unknown {kind} format '{name}'{hint}; known {kind} formats: {', '.join(sorted(table))}")
