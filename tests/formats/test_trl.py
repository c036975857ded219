import json

from funreason.formats import write
from funreason.records import Sample, ToolCall


def test_writer_shape(tmp_path, samples, weather):
    path = tmp_path / "out.jsonl"
    write(samples, path, "trl")
    call, statement, multi = map(json.loads, path.read_text().splitlines())
    assert set(call) == {"prompt", "completion", "tools"}
    assert call["prompt"] == samples[0].messages
    assert call["completion"] == [
        {"role": "assistant", "content": "<think>\nThe user names one city.\n</think>\n\n[get_weather(city='Paris')]"}
    ]
    assert call["tools"] == [{"type": "function", "function": weather}]
    assert statement["completion"][0]["content"] == "No."
    # Chat templates print earlier tool-call arguments with `tojson`: objects, not JSON strings.
    assert multi["prompt"][1]["tool_calls"][1]["function"] == {"name": "get_weather", "arguments": {"city": "Rome"}}


def test_calls_python_cannot_write_are_exported_in_json(tmp_path):
    """An argument named like a keyword is a valid call: its sample is written, the calls in JSON,
    and earlier turns' calls with such names pass through as they are."""
    book = ToolCall(name="book_flight", arguments={"from": "Oslo", "class": "economy"})
    earlier = {"role": "assistant", "content": "", "tool_calls": [
        {"id": "c0", "type": "function", "function": {"name": "book_flight", "arguments": '{"from": "Rome"}'}}]}
    kw = Sample(id="kw", messages=[{"role": "user", "content": "Oslo, economy."}, earlier,
                                   {"role": "tool", "tool_call_id": "c0", "content": "booked"},
                                   {"role": "user", "content": "And from Oslo?"}],
                tools=[{"name": "book_flight", "parameters": {"type": "object", "properties": {}}}],
                reasoning="From Oslo, economy.", answer=[book])
    path = tmp_path / "out.jsonl"
    assert write([kw], path, "trl") == 1
    (row,) = map(json.loads, path.read_text().splitlines())
    assert row["completion"][0]["content"] == (
        '<think>\nFrom Oslo, economy.\n</think>\n\n[{"name": "book_flight", "arguments": {"from": "Oslo", '
        '"class": "economy"}}]'
    )
    assert row["prompt"][1]["tool_calls"][0]["function"] == {"name": "book_flight", "arguments": {"from": "Rome"}}
