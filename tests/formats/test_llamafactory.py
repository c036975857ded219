"""LLaMA-Factory v1 typed-part messages, on real rows of reason_tool_use_demo_50.jsonl."""

import json

from funreason.formats import read
from funreason.records import Rejects, ToolCall


def _read_counted(path):
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assistant = [m for row in rows for m in row["messages"] if m["role"] == "assistant"]
    rejects = Rejects()
    samples = list(read(path, "llamafactory", rejects))
    assert len(samples) + rejects.count == len(assistant)  # the unit: assistant messages
    calls = sum(any(part["type"] == "tool_call" for part in m["content"]) for m in assistant)
    assert sum(s.is_call for s in samples) == calls
    return samples, rejects


def test_real_rows_every_assistant_message_with_its_reasoning(data):
    samples, rejects = _read_counted(data / "reason_tool_use_demo.jsonl")
    assert rejects.count == 0 and len(samples) == 28 and not rejects.notes
    assert all(s.reasoning for s in samples)  # every assistant message has a reasoning part
    first = samples[0]
    assert first.id == "reason_tool_use_demo-0" and isinstance(first.answer, str)
    assert [m["role"] for m in first.messages] == ["system", "user"]
    assert first.messages[1]["content"] == "What are the schools near latitude 40 and longitude -75?"
    # xLAM-style tools with `required` beside `parameters`: moved into them.
    assert first.tools[0]["parameters"]["required"] == ["identifier"]
    parallel = [s for s in samples if len(s.calls) > 1]
    assert sorted(len(s.calls) for s in parallel) == [2, 2, 2, 3, 3]
    later = next(s for s in samples if s.id.endswith("-t4") and s.messages[2].get("tool_calls"))
    assert later.messages[2]["reasoning_content"] and later.messages[3]["role"] == "tool"


def test_the_whole_real_file(real_data):
    samples, rejects = _read_counted(real_data / "reason_tool_use_demo_50.jsonl")
    assert (len(samples), sum(s.is_call for s in samples), rejects.count) == (112, 53, 0)


def test_parts_that_cannot_be_joined_are_refused(tmp_path):
    tools = json.dumps([{"name": "f", "parameters": {"type": "object", "properties": {"a": {"type": "integer"}}}}])
    rows = [
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [
            {"type": "text", "value": "Hello"}, {"type": "text", "value": "there"}]}], "tools": tools},
        {"messages": [{"role": "user", "content": [{"type": "image", "value": "cat.png"}]},
                      {"role": "assistant", "content": "A cat."}]},
        {"messages": [{"role": "user", "content": "Call f"}, {"role": "assistant", "content": [
            {"type": "reasoning", "value": "One call."}, {"type": "tool_call", "value": '{"name": "f", "arguments": {"a": 1}}'},
            {"type": "text", "value": "Calling f."}]}], "tools": tools, "lang": "en"},
    ]  # fmt: skip
    path = tmp_path / "parts.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    rejects = Rejects()
    (sample,) = read(path, "llamafactory", rejects)
    assert (sample.reasoning, sample.answer) == ("One call.", [ToolCall(name="f", arguments={"a": 1})])
    assert sample.meta == {"unread": {"lang": "en"}, "assistant_content": "Calling f."}
    assert rejects.examples == [
        f"{path}:1: messages[1].content[1]: a second text part; there is no one way to join them",
        f"{path}:2: messages[0].content[0]: expected a text, reasoning or tool_call part with a string value; "
        "the 1 target turn(s) from messages[1] on need it as history",
    ]
