import json
from collections import Counter

import pytest

from funreason.formats import read, write
from funreason.formats.turns import TRAILING
from funreason.records import Rejects, ToolCall


def _turn_counts(path) -> tuple[int, int]:
    """Target turns (the unit: gpt and function_call turns) and function_call turns, from the raw JSON."""
    kinds = Counter(turn["from"] for row in json.loads(path.read_text()) for turn in row["conversations"])
    return kinds["gpt"] + kinds["function_call"], kinds["function_call"]


def _read_counted(path):
    units, calls = _turn_counts(path)
    rejects = Rejects()
    samples = list(read(path, "sharegpt", rejects))
    assert len(samples) + rejects.count == units  # nothing lost in silence
    assert len({s.id for s in samples}) == len(samples)
    return samples, rejects, calls


@pytest.mark.parametrize(("name", "lost"), [("glaive_toolcall_en_demo.json", 0), ("glaive_toolcall_zh_demo.json", 6)])
def test_real_llamafactory_rows_give_every_turn(data, name, lost):
    samples, rejects, calls = _read_counted(data / name)
    assert sum(s.is_call for s in samples) == calls  # every function_call turn is a call sample
    assert rejects.count == lost and not rejects.notes  # zh: rows 197 and 293 write a call as text
    for sample in samples:
        roles = [m["role"] for m in sample.messages]
        assert roles[-1] in ("user", "tool") and roles.count("tool") == sum(
            1 for m in sample.messages if m["role"] == "assistant" and m.get("tool_calls")
        )


def test_the_whole_real_demo_files_give_a_call_sample_per_function_call_turn(real_data):
    found = [_read_counted(real_data / f"glaive_toolcall_{lang}_demo.json") for lang in ("en", "zh")]
    assert [len(samples) for samples, _, _ in found] == [957, 934]
    assert [rejects.count for _, rejects, _ in found] == [0, 6]
    assert sum(sum(s.is_call for s in samples) for samples, _, _ in found) == sum(c for _, _, c in found) == 427


def test_every_assistant_turn_is_a_sample_with_the_turns_before_as_history(read_file):
    samples, rejects, path = read_file("sharegpt.jsonl", "sharegpt")

    assert [s.id for s in samples] == ["sharegpt-0-t1", "sharegpt-0-t3", "sharegpt-0-t5", "sharegpt-1", "sharegpt-2", "sharegpt-3"]
    first, statement, multi, parallel, haiku, dangling = samples
    assert first.messages == [{"role": "user", "content": "I need the area of a rectangle 5 by 3."}]
    assert first.answer == [ToolCall(name="calculate_area", arguments={"shape": "rectangle", "dimensions": [5, 3]})]
    # A text turn after a tool result is a statement sample of its own.
    assert [m["role"] for m in statement.messages] == ["user", "assistant", "tool"]
    assert statement.answer == "The area is 15 square units."
    assert [m["role"] for m in multi.messages] == ["user", "assistant", "tool", "assistant", "user"]
    assert multi.messages[1]["tool_calls"][0]["function"] == {
        "name": "calculate_area",
        "arguments": '{"shape": "rectangle", "dimensions": [5, 3]}',
    }
    assert multi.messages[2] == {"role": "tool", "content": '{"area": 15}'}
    assert multi.reasoning == "A circle needs only its radius."
    assert multi.answer == [ToolCall(name="calculate_area", arguments={"shape": "circle", "dimensions": [4]})]
    assert multi.tools[0]["parameters"]["required"] == ["shape", "dimensions"]

    assert parallel.messages[0] == {"role": "system", "content": "You are a geometry assistant."}
    assert len(parallel.calls) == 2 and parallel.reasoning == ""
    assert haiku.answer == "Soft rain on the roof." and haiku.reasoning == "No tool writes poems."
    assert haiku.tools == []
    # A trailing tool result belongs to no sample: counted as a note, not dropped in silence.
    assert dangling.calls[0].arguments == {"shape": "square", "dimensions": [3]}
    assert rejects.notes == {TRAILING: 1}

    assert rejects.count == 1
    assert rejects.examples[0].startswith(f"{path}:5: conversations[1].value: call list is not JSON")


def test_an_unreadable_turn_loses_itself_and_the_targets_after_it_in_one_counted_reject(tmp_path):
    turns = [
        {"from": "human", "value": "Area of a 2 by 3 rectangle, then of a circle of radius 1?"},
        {"from": "gpt", "value": "Sure."},
        {"from": "function_call", "value": "calculate_area(shape='rectangle')"},
        {"from": "observation", "value": '{"area": 6}'},
        {"from": "function_call", "value": '{"name": "calculate_area", "arguments": {"shape": "circle"}}'},
        {"from": "observation", "value": '{"area": 3.14}'},
        {"from": "gpt", "value": "6 and 3.14."},
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"id": "r", "conversations": turns}) + "\n")
    rejects = Rejects(tmp_path / "rejects.jsonl")
    with rejects:
        assert [s.id for s in read(path, "sharegpt", rejects)] == ["r-t1"]
    assert rejects.count == 3  # turns 2, 4 and 6: one reject line, three units
    logged = json.loads((tmp_path / "rejects.jsonl").read_text())
    assert logged["units"] == 3
    assert logged["error"].startswith("conversations[2].value: call list is not JSON")
    assert logged["error"].endswith("; the 2 later target turn(s) need it as history")


def test_a_call_written_as_text_before_a_tool_result_is_refused_not_trained_as_a_statement(tmp_path):
    # glaive_toolcall_zh_demo.json rows 197 and 293 hold such a turn (a call translated as prose).
    turns = [
        {"from": "human", "value": "20% off 200 dollars?"},
        {"from": "gpt", "value": "AI 计算折扣: {\"原价\": 200, \"折扣百分比\": 20}"},
        {"from": "observation", "value": '{"discounted_price": 160}'},
        {"from": "gpt", "value": "160 dollars."},
    ]
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"conversations": turns}) + "\n")
    rejects = Rejects()
    assert list(read(path, "sharegpt", rejects)) == []
    assert rejects.count == 2
    assert "conversations[1]: a tool result follows this text turn, which makes no call" in rejects.examples[0]


def test_toolace_tools_in_the_system_prompt_and_python_calls(data):
    rejects = Rejects()
    samples = list(read(data / "toolace.jsonl", "sharegpt", rejects))
    assert [s.id for s in samples] == ["toolace-0-t1", "toolace-0-t3", "toolace-1", "toolace-2", "toolace-3"]
    call, statement = samples[0], samples[1]
    assert [t["name"] for t in call.tools] == ["newAddress", "getBalance"]
    # ToolACE writes `required` beside `parameters` (and `"required": null`): it is moved in.
    assert call.tools[1]["parameters"]["required"] == ["address"]
    assert call.answer == [ToolCall(name="newAddress", arguments={"password": "securePassword123"})]
    assert [m["role"] for m in statement.messages] == ["system", "user", "assistant", "tool"]
    assert statement.answer.startswith("Your new Ethereum address")
    assert samples[2].answer == [ToolCall(name="getBalance", arguments={"address": "0x1"}), ToolCall(name="newAddress", arguments={"password": "p"})]
    assert samples[3].answer == "[Note] I cannot do that."  # text that only looks like a list stays text
    # ToolACE's tool names need not be python names: "Weather API" is matched as an offered name.
    assert samples[4].answer == [ToolCall(name="Weather API", arguments={"city": "Oslo"})]
    assert rejects.count == 0


def test_tool_names_python_cannot_read_are_matched_only_where_a_call_name_stands(tmp_path):
    tools = [{"name": "Weather API"}, {"name": "Weather API v2"}, {"name": "class"}]
    text = '[Weather API v2(city="Weather API(x)", n=[1, 2]), class(q={"a": "b, Weather API(y)"}),  Weather API (city=\'O\\\'s\')]'
    row = {"conversations": [{"from": "human", "value": "?"}, {"from": "gpt", "value": text}], "tools": tools}
    path = tmp_path / "names.jsonl"
    path.write_text(json.dumps(row) + "\n")
    (sample,) = read(path, "sharegpt", Rejects(strict=True))
    assert sample.answer == [
        ToolCall(name="Weather API v2", arguments={"city": "Weather API(x)", "n": [1, 2]}),
        ToolCall(name="class", arguments={"q": {"a": "b, Weather API(y)"}}),
        ToolCall(name="Weather API", arguments={"city": "O's"}),
    ]


def test_hermes_tags_are_refused_with_a_pointer(tmp_path):
    row = {"conversations": [
        {"from": "system", "value": "<tools>\n[{'name': 'f', 'parameters': {}}]\n</tools>"},
        {"from": "human", "value": "Call f."},
        {"from": "gpt", "value": "<tool_call>\n{'name': 'f', 'arguments': {}}\n</tool_call>"},
    ]}  # fmt: skip
    path = tmp_path / "hermes.jsonl"
    path.write_text(json.dumps(row) + "\n" + json.dumps({**row, "tools": "[]"}) + "\n")
    rejects = Rejects()
    assert list(read(path, "sharegpt", rejects)) == []
    assert rejects.examples == [
        f"{path}:1: system: a <tools> block is Hermes function calling: read this file with --from hermes",
        f"{path}:2: conversations[2].value: a <tool_call> block is Hermes function calling: read this file with --from hermes",
    ]


def test_an_empty_call_list_is_a_reject(tmp_path):
    row = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "function_call", "value": "[]"}]}
    path = tmp_path / "empty.jsonl"
    path.write_text(json.dumps(row) + "\n")
    rejects = Rejects()
    assert list(read(path, "sharegpt", rejects)) == []
    assert rejects.examples == [f"{path}:1: conversations[1]: an empty call list is not an answer: give at least one call, or a statement string for 'no call'"]


def test_writer_shape(tmp_path, samples, weather):
    path = tmp_path / "out.jsonl"
    write(samples, path, "sharegpt")
    call, statement, multi = map(json.loads, path.read_text().splitlines())
    assert call["system"] == "Be brief."
    assert call["conversations"] == [
        {"from": "human", "value": "Weather in Paris?"},
        {
            "from": "function_call",
            "value": '<think>\nThe user names one city.\n</think>\n\n[{"name": "get_weather", "arguments": {"city": "Paris"}}]',
        },
    ]
    assert json.loads(call["tools"]) == [weather]  # LLaMA-Factory keeps tools as a JSON string
    assert statement["conversations"][-1] == {"from": "gpt", "value": "No."}
    assert [t["from"] for t in multi["conversations"]] == ["human", "function_call", "observation", "gpt", "human", "function_call"]


def test_writer_joins_consecutive_tool_results(tmp_path, samples):
    sample = samples[2]
    messages = [*sample.messages[:3], {"role": "tool", "content": "rainy"}, *sample.messages[3:]]
    path = tmp_path / "out.jsonl"
    write([sample.model_copy(update={"messages": messages})], path, "sharegpt")
    turns = json.loads(path.read_text())["conversations"]
    assert turns[2] == {"from": "observation", "value": '["sunny", "rainy"]'}
    assert turns[3]["from"] == "gpt"  # user/observation and assistant turns still alternate
