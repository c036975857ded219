"""Shared by the format tests: the fixture files, and a small set of samples to write."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from funreason.formats import read
from funreason.formats.openai_chat import assistant_message
from funreason.records import Rejects, Sample, ToolCall

WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
PARIS = ToolCall(name="get_weather", arguments={"city": "Paris"})


@pytest.fixture
def data() -> Path:
    """The folder of hand-written files, one per format, each in its published shape."""
    return Path(__file__).parent / "data"


@pytest.fixture
def real_data() -> Path:
    """The whole real files the checked-in excerpts come from (data/SOURCE.md), where this machine has them."""
    folder = Path(os.environ.get("FUNREASON_REAL_DATA", "/work/shared/data/real"))
    if not folder.is_dir():
        pytest.skip(f"the real LLaMA-Factory files are not at {folder} (set FUNREASON_REAL_DATA)")
    return folder


@pytest.fixture
def read_file(data: Path) -> Callable[[str, str], tuple[list[Sample], Rejects, Path]]:
    """Read `data/<name>` as `fmt`: the samples, the rejects and the path (for locations)."""

    def read_file(name: str, fmt: str) -> tuple[list[Sample], Rejects, Path]:
        rejects = Rejects()
        return list(read(data / name, fmt, rejects)), rejects, data / name

    return read_file


@pytest.fixture
def weather() -> dict:
    return WEATHER


@pytest.fixture
def samples() -> list[Sample]:
    """A call with reasoning and a system prompt, a statement, and a multi-turn sample."""
    return [
        Sample(
            id="call",
            source="synth",
            messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}],
            tools=[WEATHER],
            reasoning="The user names one city.",
            answer=[PARIS],
        ),
        Sample(id="statement", messages=[{"role": "user", "content": "A joke?"}], tools=[WEATHER], answer="No."),
        Sample(
            id="multi-turn",
            source="synth",
            messages=[
                {"role": "user", "content": "Weather in Paris and Rome?"},
                assistant_message("Two cities.", [PARIS, ToolCall(name="get_weather", arguments={"city": "Rome"})]),
                {"role": "tool", "content": "sunny"},
                {"role": "assistant", "content": "Sunny in Paris."},
                {"role": "user", "content": "And Oslo, as a list of one?"},
            ],
            tools=[WEATHER],
            reasoning="Same tool.",
            answer=[ToolCall(name="get_weather", arguments={"city": "Oslo", "extra": [1, {"k": None}]})],
        ),
    ]
