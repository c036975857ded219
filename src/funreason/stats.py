"""Dataset statistics, the paper's Table 1 for any dataset: samples by call shape, token lengths.

For each sample the *reasoning* is its chain of thought (without the `<think>` tags) and the
*result* is its answer as the model writes it: the calls in BFCL python syntax, or in JSON where
python cannot write them (`calls.writable_syntax`: an argument named `from`), or the statement
string of a "no call" answer. Both are
counted in tokens of the given tokenizer, without special tokens (no BOS, no end-of-turn), so the
numbers describe the data rather than a chat template. The reasoning/result ratio is what SRML's α
balances (FunReason, arXiv 2505.20192, Table 1 and Sec. 3.2).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import PurePath
from typing import Any, get_args

from pydantic import BaseModel, Field
from rich.console import Group
from rich.table import Table
from rich.text import Text

from funreason.calls import render_calls, writable_syntax
from funreason.records import Sample, Shape

SHAPES: tuple[str, ...] = get_args(Shape)


class LengthStats(BaseModel):
    """Token lengths of one part of the samples; all zero for an empty dataset."""

    mean: float = 0.0
    median: float = 0.0
    max: int = 0
    total: int = 0

    @classmethod
    def of(cls, lengths: list[int]) -> LengthStats:
        if not lengths:
            return cls()
        return cls(
            mean=sum(lengths) / len(lengths),
            median=float(statistics.median(lengths)),
            max=max(lengths),
            total=sum(lengths),
        )


class DatasetStats(BaseModel):
    """Table 1 of a dataset.

    `counts` has every shape of `records.Shape` (zero when absent). Token means are over all
    samples: a sample without reasoning counts as 0 reasoning tokens (`with_reasoning` says how many
    have some). `ratio` is `reasoning.mean / result.mean`, 0 when there are no result tokens.
    """

    total: int = 0
    counts: dict[str, int] = Field(default_factory=lambda: dict.fromkeys(SHAPES, 0))
    with_reasoning: int = 0
    reasoning: LengthStats = Field(default_factory=LengthStats)
    result: LengthStats = Field(default_factory=LengthStats)
    ratio: float = 0.0
    tokenizer: str = ""


def result_text(sample: Sample) -> str:
    """The answer as the model writes it: calls in python syntax (JSON where python cannot write
    them), or the statement string. `ValueError` naming the sample for a value no syntax carries."""
    if isinstance(sample.answer, str):
        return sample.answer
    try:
        return render_calls(sample.answer, writable_syntax(sample.answer))
    except ValueError as exc:
        raise ValueError(f"sample {sample.id!r}: {exc}") from None


def dataset_stats(samples: Iterable[Sample], tokenizer: Any, *, batch_size: int = 512) -> DatasetStats:
    """Count `samples` by call shape and measure reasoning and result lengths in `tokenizer` tokens.

    `samples` is streamed (only lengths are kept); texts are tokenized `batch_size` at a time with
    `add_special_tokens=False`. `tokenizer` is any callable Hugging Face tokenizer.
    """
    counts = dict.fromkeys(SHAPES, 0)
    reasoning: list[int] = []
    result: list[int] = []
    for batch in _batches(samples, batch_size):
        for sample in batch:
            counts[sample.shape] += 1
        reasoning += _token_lengths(tokenizer, [s.reasoning for s in batch])
        result += _token_lengths(tokenizer, [result_text(s) for s in batch])
    reasoning_stats, result_stats = LengthStats.of(reasoning), LengthStats.of(result)
    return DatasetStats(
        total=len(result),
        counts=counts,
        with_reasoning=sum(1 for n in reasoning if n > 0),
        reasoning=reasoning_stats,
        result=result_stats,
        ratio=reasoning_stats.mean / result_stats.mean if result_stats.mean else 0.0,
        tokenizer=str(getattr(tokenizer, "name_or_path", "") or ""),
    )


def stats_table(stats: DatasetStats) -> Table:
    """A rich table for the terminal: shapes with their share, then token lengths."""
    shapes = Table()
    shapes.add_column("shape")
    shapes.add_column("samples", justify="right")
    shapes.add_column("share", justify="right")
    for shape in SHAPES:
        shapes.add_row(
            shape, str(stats.counts.get(shape, 0)), _share(stats.counts.get(shape, 0), stats.total)
        )
    shapes.add_section()
    shapes.add_row("total", str(stats.total), _share(stats.total, stats.total), style="bold")

    tokens = Table()
    tokens.add_column("tokens")
    for name in ("mean", "median", "max"):
        tokens.add_column(name, justify="right")
    for name, lengths in (("reasoning", stats.reasoning), ("result", stats.result)):
        tokens.add_row(name, f"{lengths.mean:.1f}", f"{lengths.median:g}", str(lengths.max))

    grid = Table.grid()
    grid.add_row(Group(Text(_title(stats), style="bold"), shapes, tokens, Text(_ratio_line(stats))))
    return grid


def stats_markdown(stats: DatasetStats) -> str:
    """The same statistics as two Markdown tables and a ratio line (for READMEs and reports)."""
    lines = ["| shape | samples | share |", "|---|---:|---:|"]
    for shape in SHAPES:
        count = stats.counts.get(shape, 0)
        lines.append(f"| {shape} | {count} | {_share(count, stats.total)} |")
    lines.append(f"| **total** | **{stats.total}** | {_share(stats.total, stats.total)} |")
    lines += ["", "| tokens | mean | median | max |", "|---|---:|---:|---:|"]
    for name, lengths in (("reasoning", stats.reasoning), ("result", stats.result)):
        lines.append(f"| {name} | {lengths.mean:.1f} | {lengths.median:g} | {lengths.max} |")
    lines += ["", _ratio_line(stats)]
    return "\n".join(lines)


def _batches(items: Iterable[Sample], size: int) -> Iterator[list[Sample]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _token_lengths(tokenizer: Any, texts: list[str]) -> list[int]:
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.1f}%" if total else "-"


def _title(stats: DatasetStats) -> str:
    # A local checkpoint is named by its folder, not by a long cache path.
    name = PurePath(stats.tokenizer).name if PurePath(stats.tokenizer).is_absolute() else stats.tokenizer
    return f"Dataset statistics (tokens: {name})" if name else "Dataset statistics"


def _ratio_line(stats: DatasetStats) -> str:
    return (
        f"reasoning / result mean tokens: {stats.ratio:.2f}; "
        f"{stats.with_reasoning} of {stats.total} samples have reasoning"
    )
