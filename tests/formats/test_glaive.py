"""Raw glaive-function-calling-v2 text: USER / ASSISTANT / FUNCTION RESPONSE turns."""

import json

from funreason.formats import read
from funreason.formats.glaive import APOSTROPHES, tools_in_system
from funreason.records import Rejects, ToolCall


def test_reads_every_assistant_turn_with_tools_from_the_system_text(read_file, data):
    samples, rejects, path = read_file("glaive.jsonl", "glaive")
    rows = [json.loads(line) for line in (data / "glaive.jsonl").read_text().splitlines()]
    assert len(samples) + rejects.count == sum(r["chat"].count("ASSISTANT:") for r in rows) == 10

    ask, median, told, virus, sms, sent, rate, said = samples
    assert [s.id for s in (ask, median, told)] == ["glaive-0-t1", "glaive-0-t3", "glaive-0-t5"]
    assert ask.answer == "Of course, I can help you with that. Please provide me with the list of numbers."
    assert median.messages[0]["content"].startswith("You are a helpful assistant with access to the following functions.")
    assert [t["name"] for t in median.tools] == ["calculate_median"]
    # glaive's single-quoted arguments string holds JSON
    assert median.answer == [ToolCall(name="calculate_median", arguments={"numbers": [5, 2, 9, 1, 7, 4, 6, 3, 8]})]
    assert told.messages[-1] == {"role": "tool", "content": '{"median": 5}'} and told.answer.endswith("is 5.")
    assert virus.id == "glaive-1" and virus.tools == [] and virus.messages[0]["content"].endswith("no access to external functions.")
    # An apostrophe inside the quoted JSON: read as the JSON between the quotes, and counted.
    assert sms.answer == [ToolCall(name="send_sms", arguments={"phone_number": "555-0100", "message": "I'll be late"})]
    assert rejects.notes == {APOSTROPHES: 1}
    assert [t["name"] for t in rate.tools] == ["send_sms", "get_exchange_rate"]
    assert rate.meta == {"assistant_content": "Let me check that for you.", "conversation": "glaive-2"}
    assert rate.messages[-4]["tool_calls"][0]["function"]["name"] == "send_sms"
    assert said.answer == "One dollar is 0.92 euros." and sent.answer == "Your message has been sent."

    assert rejects.count == 2  # the unreadable call and the answer after it, one reject line
    assert rejects.examples == [
        f"{path}:4: chat turn 1 (ASSISTANT): <functioncall>: arguments of get_exchange_rate is not JSON: "
        "Expecting value (line 1, column 45); the 1 later target turn(s) need it as history"
    ]


def test_tools_in_system():
    assert tools_in_system("You are a helpful assistant, with no access to external functions.") == []
    assert tools_in_system('Use them -\n{"name": "a"}\n\n{"name": "b"}\n') == [{"name": "a"}, {"name": "b"}]


def test_text_before_the_first_marker_is_a_reject(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps({"system": "", "chat": "hello USER: hi ASSISTANT: hey"}) + "\n")
    rejects = Rejects()
    assert list(read(path, "glaive", rejects)) == []
    assert rejects.examples == [f"{path}:1: chat: text before the first USER:/ASSISTANT: marker: 'hello USER: hi ASSISTANT: hey'"]
