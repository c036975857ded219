"""Hermes function calling: <tools>, <tool_call> and <tool_response>, as JSON or Python literals."""

import json

import pytest

from funreason.formats import read
from funreason.formats.hermes import literal, tools_block
from funreason.records import Rejects, ToolCall


def test_reads_hermes_v1_and_qwen_rows_one_sample_per_assistant_turn(read_file, data):
    samples, rejects, path = read_file("hermes.jsonl", "hermes")
    rows = [json.loads(line) for line in (data / "hermes.jsonl").read_text().splitlines()]
    units = sum(t.get("from", t.get("role")) in ("gpt", "assistant") for r in rows for t in r.get("conversations", r.get("messages")))
    assert len(samples) + rejects.count == units == 7

    camera, aapl, said, msft, paris, answer = samples
    # Python-literal tools and calls (hermes-function-calling-v1), read without evaluating anything.
    assert camera.id == "85f6c398-69c7-4df2-aed1-29d614a93a26"
    assert [t["name"] for t in camera.tools] == ["get_camera_live_feed", "record_camera_feed"]
    assert camera.tools[0]["parameters"]["properties"]["stream_quality"]["enum"] == ["720p", "1080p", "4k"]
    assert camera.calls == [
        ToolCall(name="get_camera_live_feed", arguments={"camera_id": "front_door", "stream_quality": "1080p"}),
        ToolCall(name="record_camera_feed", arguments={"camera_id": "front_door", "duration_minutes": 30}),
    ]
    assert camera.meta["unread"]["category"] == "IoT and Home Automation"
    assert [s.id for s in (aapl, said, msft)] == ["hermes-1-t2", "hermes-1-t4", "hermes-1-t6"]
    assert said.messages[-1] == {"role": "tool", "content": "{'name': 'get_stock_price', 'content': {'price': 150.75}}"}
    assert said.answer == "The current stock price of Apple (AAPL) is $150.75."
    assert msft.calls == [ToolCall(name="get_stock_price", arguments={"symbol": "MSFT"})]
    assert [m["role"] for m in msft.messages] == ["system", "user", "assistant", "tool", "assistant", "user"]
    # Qwen's template: JSON tools one per line, reasoning, text beside the calls, two results.
    assert [t["name"] for t in paris.tools] == ["get_weather", "get_time"]
    assert paris.reasoning == "Two questions about one city: both tools."
    assert paris.meta == {"assistant_content": "Let me look both up.", "conversation": "hermes-2"}
    assert [m["content"] for m in answer.messages[3:]] == ['{"temp_c": 18}', '{"time": "14:05"}']
    assert answer.messages[2]["content"] == "Let me look both up." and len(answer.messages[2]["tool_calls"]) == 2

    assert rejects.count == 1
    assert rejects.examples[0].startswith(f"{path}:4: conversations[2]: <tool_call> block 1: call list is not JSON")


def test_tools_block_forms():
    one = {"name": "f", "parameters": {"type": "object", "properties": {}}}
    assert tools_block("no tools here", "system") == []
    assert tools_block("within <tools> </tools> tags: <tools>\n{'name': 'f'}\n</tools>", "system")[0]["name"] == "f"
    per_line = f"<tools>\n{json.dumps(one)}\n{json.dumps({**one, 'name': 'g'})}\n</tools>"
    assert [t["name"] for t in tools_block(per_line, "system")] == ["f", "g"]
    with pytest.raises(ValueError, match="system: <tools> block: neither JSON nor a Python literal"):
        tools_block("<tools>\n{'name': 'f'\n</tools>", "system")


def test_literals_are_never_evaluated():
    assert literal("{'a': (1, 2), 'b': None}") == {"a": (1, 2), "b": None}
    assert literal("__import__('os').getcwd()") is None
    assert literal("[" * 100_000) is None


def test_messages_shape_and_a_tools_key(tmp_path):
    row = {"messages": [{"role": "user", "content": "Call f"}, {"role": "assistant", "content": "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call>"}],
           "tools": [{"name": "f"}]}  # fmt: skip
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps(row) + "\n")
    (sample,) = read(path, "hermes", Rejects(strict=True))
    assert sample.id == "h-0" and sample.calls == [ToolCall(name="f", arguments={})] and sample.tools[0]["name"] == "f"
