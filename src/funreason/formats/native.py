"""funreason's own JSONL: one `Sample` per line, every field kept. Read and write."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from funreason.formats.rows import read_rows
from funreason.formats.sources import Source
from funreason.records import Rejects, Sample, write_jsonl


def read(path: str | Path | Source, rejects: Rejects) -> Iterator[Sample]:
    """Stream `Sample`s; a line that is not a valid `Sample` goes to `rejects` naming the bad field."""
    return read_rows(path, rejects, _sample)


def write(samples: Iterable[Sample], path: str | Path) -> int:
    """Write samples as JSONL; returns how many were written."""
    return write_jsonl(path, samples)


def _sample(row: dict[str, Any], _default_id: str) -> Sample:
    return Sample.model_validate(row)
