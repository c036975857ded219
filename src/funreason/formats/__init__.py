"""Outside dataset formats, read into and written from the canonical `Sample`.

Readers: `bfcl`, `glaive`, `hermes`, `llamafactory`, `native`, `openai`, `sharegpt`, `tooln1`,
`xlam`, and `auto` (`sniff` tells the format from the first rows, or refuses); writers: `native`,
`openai`, `sharegpt`, `trl`. A reader is `read(source, rejects) -> Iterator[Sample]`, where the
source is a JSON/JSONL, Parquet or Arrow file, `-` (standard input) or `hf:<owner>/<name>` (see
`sources`), and never stops on a bad row: the row goes to `rejects` as `file:line: <field>:
<problem>`. The conversation readers (`sharegpt`, `hermes`, `glaive`, `llamafactory`) make one
sample per assistant turn (see `turns`). A writer is `write(samples, path) -> int` (rows written).
`openai`, `sharegpt` and `native` round-trip: `read(write(samples)) == samples` for the fields
each carries (see each module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from funreason.formats import (
    bfcl,
    glaive,
    hermes,
    llamafactory,
    native,
    openai_chat,
    sharegpt,
    tooln1,
    trl,
    xlam,
)
from funreason.formats.rows import NO_CALL_STATEMENT
from funreason.formats.sniff import sniff
from funreason.formats.sources import Source, open_source
from funreason.records import Rejects, Sample, require_valid

Reader = Callable[[str | Path | Source, Rejects], Iterator[Sample]]
Writer = Callable[[Iterable[Sample], str | Path], int]
AUTO = "auto"

READERS: dict[str, Reader] = {
    "bfcl": bfcl.read,
    "glaive": glaive.read,
    "hermes": hermes.read,
    "llamafactory": llamafactory.read,
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

__all__ = [
    "AUTO", "NO_CALL_STATEMENT", "READERS", "WRITERS", "Source", "convert", "open_source", "read", "reader",
    "sniff", "write", "writer",
]  # fmt: skip


def reader(name: str) -> Reader:
    """The reader called `name`; `ValueError` listing the known ones otherwise."""
    return _lookup(READERS, name, "input", WRITERS)


def writer(name: str) -> Writer:
    """The writer called `name`; `ValueError` listing the known ones otherwise."""
    return _lookup(WRITERS, name, "output", READERS)


def read(source: str | Path | Source, fmt: str, rejects: Rejects | None = None) -> Iterator[Sample]:
    """Stream `Sample`s from `source` in format `fmt` (`auto`: sniffed); without `rejects` the first bad row raises."""
    if fmt != AUTO:
        reader(fmt)  # an unknown name fails before the source is opened
    source = open_source(source)
    read_fn = reader(sniff(source)[0] if fmt == AUTO else fmt)
    return read_fn(source, rejects if rejects is not None else Rejects(strict=True))


def write(samples: Iterable[Sample], path: str | Path, fmt: str) -> int:
    """Write `samples` to `path` in format `fmt`; returns how many were written."""
    return writer(fmt)(samples, path)


def convert(
    source: str | Path | Source,
    output: str | Path,
    from_format: str,
    to_format: str,
    rejects: Rejects | None = None,
) -> int:
    """Convert `source` (format `from_format`, or `auto`) into `output` (format `to_format`), streaming.

    Bad input rows go to `rejects` (count them with `rejects.count`, tolerated ones in
    `rejects.notes`); without `rejects` the first one raises `RecordError`; when every row is bad,
    `NothingValid` is raised. Both format names are checked before anything is read or written.
    `output` appears only once complete: a failure leaves no file there (or the old one intact).
    Returns the number of samples written.
    """
    write_fn = writer(to_format)
    if from_format != AUTO:
        reader(from_format)
    source = open_source(source)
    if source.path is not None and Path(output).resolve() == source.path.resolve():
        # The conversion would replace the data it was made from.
        raise ValueError(f"output {output} is the input file; write to another path")
    rejects = rejects if rejects is not None else Rejects(strict=True)
    return write_fn(require_valid(read(source, from_format, rejects), rejects, source.name), output)


def _lookup(table: dict, name: str, kind: str, other: dict) -> Callable:
    if name in table:
        return table[name]
    hint = f" ('{name}' can only be {'read' if kind == 'output' else 'written'})" if name in other else ""
    known = ", ".join(sorted(table) + ([AUTO] if kind == "input" else []))
    raise ValueError(f"unknown {kind} format '{name}'{hint}; known {kind} formats: {known}")
