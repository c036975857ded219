import json

import pytest

from funreason.formats import read, write
from funreason.formats.openai_chat import TWICE_ENCODED
from funreason.records import RecordError, Rejects, ToolCall


def test_reads_target_turn_reasoning_and_context(read_file):
    samples, rejects, path = read_file("openai.jsonl", "openai")

    parallel, statement, multi = samples
    assert parallel.id == "w-1"
    assert parallel.reasoning == "Two cities, one call each."
    assert [c.arguments for c in parallel.calls] == [{"city": "Paris", "unit": "c"}, {"city": "Tokyo", "unit": "c"}]
    assert [m["role"] for m in parallel.messages] == ["system", "user"]
    assert parallel.tools[0]["name"] == "get_weather" and "function" not in parallel.tools[0]

    assert statement.id == "openai-1"  # no id in the row: file stem and record index
    assert statement.reasoning == "No tool tells jokes."
    assert statement.answer == "I can only look up weather and time."

    # Earlier turns stay as they are; arguments given as an object are accepted too.
    assert [m["role"] for m in multi.messages] == ["user", "assistant", "tool", "user"]
    assert multi.messages[1]["tool_calls"][0]["id"] == "c1"
    assert multi.reasoning == "Same city, weather tool."
    assert multi.answer == [ToolCall(name="get_weather", arguments={"city": "Oslo"})]

    assert rejects.count == 2
    assert rejects.examples[0] == (
        f"{path}:4: messages: the last turn must be the assistant's target turn (found 'user')"
    )
    assert rejects.examples[1].startswith(f"{path}:5: messages[1].tool_calls: arguments of get_weather is not JSON")


def test_without_rejects_the_first_bad_row_raises(data):
    with pytest.raises(RecordError, match=r"openai\.jsonl:4: messages: the last turn"):
        list(read(data / "openai.jsonl", "openai"))


def test_writer_shape(tmp_path, samples, weather):
    path = tmp_path / "out.jsonl"
    assert write(samples, path, "openai") == 3
    call, statement, _ = map(json.loads, path.read_text().splitlines())
    assert call["id"] == "call" and call["source"] == "synth"
    assert call["messages"][-1] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}],
        "reasoning_content": "The user names one city.",
    }
    assert call["tools"] == [{"type": "function", "function": weather}]
    assert statement["messages"][-1] == {"role": "assistant", "content": "No."}


def test_openai_cookbook_rows_with_arguments_encoded_twice_are_read_and_counted(read_file):
    samples, rejects, _ = read_file("drone_training.jsonl", "openai")
    assert len(samples) == 6 and rejects.count == 0
    assert rejects.notes == {TWICE_ENCODED: 4}
    assert [s.calls[0].arguments for s in samples] == [{"altitude": 100}] * 2 + [{"location": "current"}] * 2 + [
        {"location": "home_base"}
    ] * 2
    assert samples[0].meta == {"unread": {"parallel_tool_calls": False}}
    assert len(samples[0].tools) == 16


def test_twice_encoded_arguments_in_earlier_turns_are_decoded_once(tmp_path):
    twice = json.dumps(json.dumps({"city": "Oslo"}))
    call = {"id": "c1", "type": "function", "function": {"name": "get_time", "arguments": twice}}
    row = {"messages": [
        {"role": "user", "content": "Time in Oslo?"}, {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "c1", "content": "14:05"}, {"role": "assistant", "content": "It is 14:05."},
    ]}  # fmt: skip
    path = tmp_path / "o.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps({"messages": [row["messages"][0], {"role": "assistant", "tool_calls": []}]}) + "\n")
    rejects = Rejects()
    (sample,) = read(path, "openai", rejects)
    assert sample.messages[1]["tool_calls"][0]["function"]["arguments"] == '{"city": "Oslo"}'
    assert rejects.notes == {TWICE_ENCODED: 1}
    # An empty tool_calls list is no call target; without content the row is a reject.
    assert rejects.examples == [f"{path}:2: messages[1]: the target turn has neither tool_calls nor content"]
