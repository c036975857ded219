import io
import math

import pytest
from rich.console import Console
from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

from funreason.calls import render_calls
from funreason.records import Sample, ToolCall
from funreason.stats import (
    SHAPES,
    DatasetStats,
    LengthStats,
    dataset_stats,
    result_text,
    stats_markdown,
    stats_table,
)

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TIME = {**WEATHER, "name": "get_time", "description": "Local time in a city."}
ONE_CALL = [ToolCall(name="get_weather", arguments={"city": "Paris"})]  # "[get_weather(city='Paris')]"
TWO_CALLS = [*ONE_CALL, ToolCall(name="get_time", arguments={"city": "Rome"})]  # "[f(...), g(...)]"


@pytest.fixture(scope="module")
def tokenizer():
    """A word-level tokenizer: one token per whitespace-separated word, so counts are exact.

    It adds a [BOS] token when asked for special tokens, which statistics must not count.
    """
    core = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.train_from_iterator(
        ["the user wants the weather so call it", "no tool fits"],
        trainers.WordLevelTrainer(special_tokens=["[UNK]", "[PAD]", "[BOS]"]),
    )
    core.post_processor = processors.TemplateProcessing(single="[BOS] $A", special_tokens=[("[BOS]", 2)])
    return PreTrainedTokenizerFast(
        tokenizer_object=core, unk_token="[UNK]", pad_token="[PAD]", bos_token="[BOS]"
    )


def sample(sample_id, answer, tools=(WEATHER,), reasoning=""):
    return Sample(
        id=sample_id,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=list(tools),
        reasoning=reasoning,
        answer=answer,
    )


def dataset():
    """One sample of each shape; reasoning lengths 4, 0, 10, 2, 3 words; results 1, 1, 2, 2, 3."""
    return [
        sample("simple", ONE_CALL, reasoning="the user wants weather"),
        sample("multiple", ONE_CALL, tools=[WEATHER, TIME]),
        sample("parallel", TWO_CALLS, reasoning=" ".join(["call"] * 10)),
        sample("parallel_multiple", TWO_CALLS, tools=[WEATHER, TIME], reasoning="two calls"),
        sample("irrelevance", "no tool fits", reasoning="nothing fits here"),
    ]


def test_tokenizer_counts_words_and_adds_bos_only_when_asked(tokenizer):
    assert len(tokenizer("a b c")["input_ids"]) == 4
    assert len(tokenizer("a b c", add_special_tokens=False)["input_ids"]) == 3


def test_result_text_renders_calls_in_python_syntax():
    assert result_text(sample("a", ONE_CALL)).startswith("[get_weather(")
    assert result_text(sample("b", "no tool fits")) == "no tool fits"


def test_calls_python_cannot_write_are_measured_in_json(tokenizer):
    book = ToolCall(name="book_flight", arguments={"from": "Oslo", "class": "economy"})
    assert result_text(sample("kw", [book])) == render_calls([book], "json")
    stats = dataset_stats([sample("kw", [book]), *dataset()], tokenizer)
    assert stats.total == 6 and stats.counts["simple"] == 2 and stats.result.max == 7  # seven words of JSON


def test_counts_every_shape(tokenizer):
    stats = dataset_stats(dataset(), tokenizer)
    assert stats.total == 5
    assert stats.counts == dict.fromkeys(SHAPES, 1)
    assert list(stats.counts) == list(SHAPES)


def test_token_lengths_are_exact(tokenizer):
    stats = dataset_stats(dataset(), tokenizer)
    assert stats.reasoning == LengthStats(mean=19 / 5, median=3.0, max=10, total=19)
    assert stats.result == LengthStats(mean=9 / 5, median=2.0, max=3, total=9)
    assert stats.with_reasoning == 4
    assert stats.ratio == pytest.approx(19 / 9)


def test_median_of_an_even_count(tokenizer):
    samples = [sample(str(n), ONE_CALL, reasoning=" ".join(["w"] * n)) for n in (1, 2, 3, 10)]
    stats = dataset_stats(samples, tokenizer)
    assert stats.reasoning.median == 2.5
    assert stats.reasoning.mean == 4.0


def test_batching_does_not_change_the_numbers(tokenizer):
    whole = dataset_stats(dataset(), tokenizer)
    assert dataset_stats(iter(dataset()), tokenizer, batch_size=2) == whole
    assert dataset_stats(dataset(), tokenizer, batch_size=1) == whole


def test_empty_dataset_is_all_zeros(tokenizer):
    stats = dataset_stats([], tokenizer)
    assert stats.total == 0
    assert stats.counts == dict.fromkeys(SHAPES, 0)
    values = [stats.ratio, *stats.reasoning.model_dump().values(), *stats.result.model_dump().values()]
    assert all(v == 0 and not math.isnan(v) for v in values)
    assert "| **total** | **0** | - |" in stats_markdown(stats)
    render(stats_table(stats))


def test_markdown_table(tokenizer):
    text = stats_markdown(dataset_stats(dataset(), tokenizer))
    assert "| simple | 1 | 20.0% |" in text
    assert "| parallel_multiple | 1 | 20.0% |" in text
    assert "| **total** | **5** | 100.0% |" in text
    assert "| reasoning | 3.8 | 3 | 10 |" in text
    assert "| result | 1.8 | 2 | 3 |" in text
    assert "reasoning / result mean tokens: 2.11" in text


def test_rich_table_shows_every_row(tokenizer):
    text = render(stats_table(dataset_stats(dataset(), tokenizer)))
    for word in (*SHAPES, "total", "reasoning", "result", "20.0%", "2.11"):
        assert word in text


def test_stats_round_trip_as_json(tokenizer):
    stats = dataset_stats(dataset(), tokenizer)
    assert DatasetStats.model_validate_json(stats.model_dump_json()) == stats


def render(renderable) -> str:
    console = Console(record=True, width=120, file=io.StringIO())
    console.print(renderable)
    return console.export_text()
