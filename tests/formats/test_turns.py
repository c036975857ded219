"""The per-turn split: whatever a conversation holds, its target turns are samples or counted rejects."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funreason.formats import read
from funreason.records import Rejects

_CALL = '{"name": "f", "arguments": {"a": 1}}'
_TURNS = st.sampled_from([
    ("human", "Hi"), ("gpt", "Hello"), ("gpt", ""), ("function_call", _CALL), ("function_call", "f(a="),
    ("function_call", "[]"), ("observation", '{"ok": true}'), ("gpt", "<think>r</think>Done."),
])  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(conversations=st.lists(st.lists(_TURNS, min_size=1, max_size=8), min_size=1, max_size=4))
def test_samples_plus_rejects_are_the_target_turns(tmp_path, conversations):
    rows = [{"conversations": [{"from": kind, "value": value} for kind, value in turns]} for turns in conversations]
    path = tmp_path / "conv.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    rejects = Rejects()
    samples = list(read(path, "sharegpt", rejects))
    targets = [sum(kind in ("gpt", "function_call") for kind, _ in turns) for turns in conversations]
    assert len(samples) + rejects.count == sum(max(1, n) for n in targets)  # a row with none counts once
    assert len({s.id for s in samples}) == len(samples)
    for sample in samples:  # a tool result in history always answers a call
        for before, message in zip(sample.messages, sample.messages[1:], strict=False):
            if message["role"] == "tool":
                assert before["role"] == "tool" or before.get("tool_calls")


def test_targets_name_the_samples_and_are_checked(tmp_path):
    turns = [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}, {"from": "human", "value": "Call f"},
             {"from": "function_call", "value": _CALL}]  # fmt: skip
    rows = [{"id": "a", "conversations": turns, "targets": [3]}, {"id": "b", "conversations": turns, "targets": [1, 3]},
            {"id": "c", "conversations": turns, "targets": [2]}]  # fmt: skip
    path = tmp_path / "t.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    rejects = Rejects()
    samples = list(read(path, "sharegpt", rejects))
    assert [s.id for s in samples] == ["a", "b-t1", "b-t3"]
    # split samples name their row, so training trains each turn once (as its own sample's target)
    assert [s.meta.get("conversation") for s in samples] == [None, "b", "b"]
    assert rejects.examples == [f"{path}:3: targets: turn 2 is not an assistant turn"]
    assert rejects.count == 2  # row c had two assistant turns
