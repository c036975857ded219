"""Where rows come from: a local file (JSON, JSONL, Parquet, Arrow), standard input, or a hub dataset.

`open_source(spec)` reads what a user names:
- `-`: standard input, JSONL or one JSON array; spooled to a temporary file, so it can be sniffed
  (`--from auto`) and then read, and named `<stdin>` in locations;
- `*.parquet`, `*.arrow`: read with pyarrow (`pip install pyarrow`), row by row, located as
  `file[index]`; an `.arrow` file may be Arrow's file or stream format (as `datasets` caches it);
- `hf:<owner>/<name>[:<split>]`: a Hugging Face hub dataset through `datasets` (`pip install
  'funreason[hf]'`), split `train` by default, located as `hf:<owner>/<name>:<split>[index]`;
- any other path: JSONL, or a JSON file holding one array (`records.iter_json_objects`).
Rows from Parquet, Arrow and `datasets` arrive decoded (lists and dicts, not JSON strings); the
readers accept both.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from funreason.records import Rejects, iter_json_objects, iter_json_stream

HUB_PREFIX = "hf:"
_BATCH = 1024


@dataclass
class Source:
    """A named place rows come from; `rows` can be called again (standard input is spooled)."""

    spec: str  # as the user gave it
    name: str  # how locations name it
    stem: str  # the prefix of ids made up for rows without one
    path: Path | None = None  # the local file, when there is one
    kind: str = "json"  # json, parquet, arrow, stdin or hub
    _spool: IO[str] | None = field(default=None, repr=False)

    def rows(self, rejects: Rejects) -> Iterator[tuple[str, Any]]:
        """`(where, row)` for every row; unreadable JSON lines go to `rejects`."""
        if self.kind == "stdin":
            assert self._spool is not None
            self._spool.seek(0)
            return iter_json_stream(self._spool, self.name, rejects)
        if self.kind == "parquet":
            return _parquet_rows(self.path, self.name)
        if self.kind == "arrow":
            return _arrow_rows(self.path, self.name)
        if self.kind == "hub":
            return _hub_rows(self.spec, self.name)
        return iter_json_objects(self.path, rejects)


def open_source(spec: str | Path | Source) -> Source:
    """The `Source` that `spec` names (see the module docstring); a missing file raises FileNotFoundError."""
    if isinstance(spec, Source):
        return spec
    text = str(spec)
    if text == "-":
        spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # removed when closed or collected
        shutil.copyfileobj(sys.stdin, spool)
        return Source(text, "<stdin>", "stdin", kind="stdin", _spool=spool)
    if text.startswith(HUB_PREFIX):
        repo, _, split = text[len(HUB_PREFIX) :].partition(":")
        if repo.count("/") != 1 or not all(repo.split("/")):
            raise ValueError(f"{text}: expected hf:<owner>/<name>[:<split>]")
        split = split or "train"
        return Source(text, f"{HUB_PREFIX}{repo}:{split}", repo.split("/")[1], kind="hub")
    path = Path(text)
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")
    kind = {".parquet": "parquet", ".arrow": "arrow"}.get(path.suffix.lower(), "json")
    return Source(text, text, path.stem, path=path, kind=kind)


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.ipc
        import pyarrow.parquet
    except ImportError:
        raise RuntimeError("reading Parquet or Arrow files needs pyarrow: pip install pyarrow") from None
    return pyarrow


def _parquet_rows(path: Path | None, name: str) -> Iterator[tuple[str, Any]]:
    batches = _pyarrow().parquet.ParquetFile(path).iter_batches(batch_size=_BATCH)
    return _numbered(name, batches)


def _arrow_rows(path: Path | None, name: str) -> Iterator[tuple[str, Any]]:
    pa = _pyarrow()
    with open(path, "rb") as handle:  # type: ignore[arg-type]
        file_format = handle.read(6) == b"ARROW1"  # Arrow's file format; else its stream format
    source = pa.memory_map(str(path))
    if file_format:
        reader = pa.ipc.open_file(source)
        return _numbered(name, (reader.get_batch(i) for i in range(reader.num_record_batches)))
    return _numbered(name, pa.ipc.open_stream(source))


def _numbered(name: str, batches: Any) -> Iterator[tuple[str, Any]]:
    index = 0
    for batch in batches:
        for row in batch.to_pylist():
            yield f"{name}[{index}]", row
            index += 1


def _hub_rows(spec: str, name: str) -> Iterator[tuple[str, Any]]:
    try:
        import datasets
    except ImportError:
        raise RuntimeError(
            f"{spec}: reading hub datasets needs the datasets package: pip install 'funreason[hf]'"
        ) from None
    repo, _, split = spec[len(HUB_PREFIX) :].partition(":")
    for index, row in enumerate(datasets.load_dataset(repo, split=split or "train")):
        yield f"{name}[{index}]", row
