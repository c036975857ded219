"""The registry: names, errors, `convert`, and round trips through every two-way format."""

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funreason.formats import READERS, WRITERS, convert, read, write
from funreason.formats.openai_chat import assistant_message
from funreason.records import RecordError, Rejects, Sample, ToolCall

ROUND_TRIP = ("openai", "sharegpt", "native")


def comparable(sample: Sample) -> dict:
    """What a two-way format carries: everything but verdicts, history and meta."""
    return sample.model_dump(exclude={"verdicts", "history", "meta"})


def test_registry_names():
    assert sorted(READERS) == ["bfcl", "glaive", "hermes", "llamafactory", "native", "openai", "sharegpt", "tooln1", "xlam"]
    assert sorted(WRITERS) == ["native", "openai", "sharegpt", "trl"]


def test_unknown_formats_list_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown input format 'csv'; known input formats: bfcl, glaive, hermes, llamafactory, native, openai, sharegpt, tooln1, xlam, auto"):
        read(tmp_path / "x", "csv")
    with pytest.raises(ValueError, match=r"unknown output format 'xlam' \('xlam' can only be read\); known output formats: native, openai, sharegpt, trl"):
        write([], tmp_path / "x", "xlam")
    with pytest.raises(ValueError, match=r"'trl' can only be written"):
        convert(tmp_path / "x", tmp_path / "y", "trl", "native")


def test_convert_checks_names_before_writing(tmp_path, data, samples):
    output = tmp_path / "out.jsonl"
    with pytest.raises(ValueError):
        convert(data / "xlam.json", output, "xlam", "bogus")
    assert not output.exists()
    with pytest.raises(FileNotFoundError):
        convert(tmp_path / "missing.json", output, "xlam", "native")
    source = tmp_path / "data.jsonl"
    write(samples, source, "native")
    with pytest.raises(ValueError, match="is the input file"):
        convert(source, source, "native", "native")
    assert len(list(read(source, "native"))) == 3


def test_convert_counts_written_and_reports_rejects(tmp_path, data):
    output = tmp_path / "xlam.openai.jsonl"
    rejects = Rejects(tmp_path / "rejects.jsonl")
    with rejects:
        assert convert(data / "xlam.json", output, "xlam", "openai", rejects) == 3
    assert rejects.count == 1
    assert len(output.read_text().splitlines()) == 3
    logged = json.loads((tmp_path / "rejects.jsonl").read_text())
    assert logged["where"].endswith("xlam.json[3]") and logged["error"].startswith("tools: ")


def test_convert_strict_stops_at_the_first_bad_row(tmp_path, data):
    with pytest.raises(RecordError, match=r"sharegpt\.jsonl:5: conversations\[1\]\.value: call list is not JSON"):
        convert(data / "sharegpt.jsonl", tmp_path / "o.jsonl", "sharegpt", "trl", Rejects(strict=True))


@pytest.mark.parametrize("fmt", ROUND_TRIP)
def test_round_trip(tmp_path, samples, fmt):
    path = tmp_path / f"out.{fmt}.jsonl"
    write(samples, path, fmt)
    assert [comparable(s) for s in read(path, fmt)] == [comparable(s) for s in samples]


@pytest.mark.parametrize("fmt", ["openai", "sharegpt"])
def test_reading_a_fixture_then_writing_it_round_trips(tmp_path, data, fmt):
    source = data / ("openai.jsonl" if fmt == "openai" else "sharegpt.jsonl")
    first = list(read(source, fmt, Rejects()))
    path = tmp_path / "again.jsonl"
    write(first, path, fmt)
    assert [comparable(s) for s in read(path, fmt)] == [comparable(s) for s in first]


_text = st.text(alphabet=string.ascii_letters + string.digits + " .,?!'\n", min_size=1, max_size=40).map(str.strip).filter(bool)
_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}(\.[a-z][a-z0-9_]{0,8})?", fullmatch=True)
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False) | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=8,
)
_calls = st.lists(st.builds(ToolCall, name=_names, arguments=st.dictionaries(_names, _values, max_size=3)), min_size=1, max_size=3)


_reasoning = st.just("") | _text


@st.composite
def _history(draw) -> list[dict]:
    """A conversation before the target: earlier calls with their results, answers, user turns."""
    messages = [{"role": "system", "content": draw(_text)}] if draw(st.booleans()) else []
    messages.append({"role": "user", "content": draw(_text)})
    for _ in range(draw(st.integers(0, 2))):
        messages.append(assistant_message(draw(_reasoning), draw(_calls)))
        messages.append({"role": "tool", "content": draw(_text)})
        if draw(st.booleans()):
            messages.append(assistant_message(draw(_reasoning), draw(_text)))
            messages.append({"role": "user", "content": draw(_text)})
    return messages


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reasoning=_reasoning, answer=_calls | _text, messages=_history(), fmt=st.sampled_from(ROUND_TRIP))
def test_round_trip_property(tmp_path, weather, reasoning, answer, messages, fmt):
    """native -> fmt -> native gives the sample back, multi-turn history with tool results included."""
    sample = Sample(id="p", source="prop", messages=messages, tools=[weather], reasoning=reasoning, answer=answer)
    path = tmp_path / f"prop.{fmt}.jsonl"
    write([sample], path, fmt)
    assert [comparable(s) for s in read(path, fmt)] == [comparable(sample)]


def _first_row(name):
    text = (Path(__file__).parent / "data" / name).read_text(encoding="utf-8")
    return json.loads(text)[0] if text.lstrip().startswith("[") else json.loads(text.splitlines()[0])


ROWS = {
    "xlam": "xlam.json", "sharegpt": "sharegpt.jsonl", "hermes": "hermes.jsonl", "glaive": "glaive.jsonl",
    "openai": "openai.jsonl", "tooln1": "tooln1.json",
}  # fmt: skip


@pytest.mark.parametrize("flood", ["many rows", "a long query"])
@pytest.mark.parametrize("fmt", ROWS)
def test_formats_are_read_in_time_linear_in_their_size(tmp_path, time_per_kb, fmt, flood):
    row = json.dumps(_first_row(ROWS[fmt]))
    path = tmp_path / "rows.jsonl"

    def build(n):
        if flood == "many rows":
            return (row + "\n") * max(1, n // len(row))
        return row.replace('"', '"' + '[<tool_call>\\"' * (n // 16), 4) + "\n"  # a corrupt row, or long values

    def load(text):
        path.write_text(text, encoding="utf-8")
        list(read(path, fmt, Rejects()))

    time_per_kb(load, build)
