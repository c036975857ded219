"""The shared row loop: whatever a row holds, it becomes a sample or a located reject."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funreason.formats import READERS, read
from funreason.records import Rejects

PER_TURN = {"sharegpt", "hermes", "glaive", "llamafactory"}


def test_rows_that_are_not_objects_are_rejected(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text("42\n")
    rejects = Rejects()
    assert list(read(path, "openai", rejects)) == []
    assert rejects.examples == [f"{path}:1: expected a JSON object, got int"]


_KEYS = st.sampled_from(
    ["id", "query", "tools", "answers", "answer", "messages", "role", "content", "tool_calls", "function",
     "name", "arguments", "conversations", "from", "value", "system", "question", "prompt", "output",
     "response", "completion", "reward_model", "ground_truth", "reasoning_content", "type", "parameters",
     "chat", "targets", "required", "returns"]
)  # fmt: skip
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.sampled_from(["[]", "{}", "<think>x</think>", "gpt", "function_call", "assistant", "USER: a ASSISTANT: b",
                       "<tool_call>{'name': 'f'}</tool_call>", "tool_call", "reasoning"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.dictionaries(_KEYS, _JSON, max_size=5), min_size=1, max_size=3))
def test_readers_never_crash_on_junk(tmp_path, rows):
    path = tmp_path / "junk.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    for fmt in READERS:
        rejects = Rejects()
        samples = list(read(path, fmt, rejects))
        if fmt in PER_TURN:  # a conversation row is worth one unit per assistant turn, at least one
            assert len(samples) + rejects.count >= len(rows)
        else:
            assert len(samples) + rejects.count == len(rows)
