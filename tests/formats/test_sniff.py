"""`--from auto`: every fixture file is told right, and mixed or unknown rows are refused."""

import json

import pytest

from funreason.formats import sniff


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("xlam.json", "xlam"), ("openai.jsonl", "openai"), ("drone_training.jsonl", "openai"),
        ("sharegpt.jsonl", "sharegpt"), ("glaive_toolcall_en_demo.json", "sharegpt"), ("toolace.jsonl", "sharegpt"),
        ("hermes.jsonl", "hermes"), ("glaive.jsonl", "glaive"), ("reason_tool_use_demo.jsonl", "llamafactory"),
        ("tooln1.json", "tooln1"), ("bfcl/BFCL_v4_sample.json", "bfcl"),
    ],
)  # fmt: skip
def test_fixture_files(data, name, fmt):
    assert sniff(data / name)[0] == fmt


def test_native_and_plain_conversations(tmp_path, samples):
    path = tmp_path / "n.jsonl"
    path.write_text("".join(s.model_dump_json() + "\n" for s in samples))
    assert sniff(path)[0] == "native"
    plain = tmp_path / "plain.jsonl"
    plain.write_text(json.dumps({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}) + "\n")
    assert sniff(plain) == ("openai", "openai: plain messages rows without calls (first 1 rows)")


def test_refuses_what_it_cannot_tell(tmp_path):
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(json.dumps({"query": "q", "answers": "[]", "tools": "[]"}) + "\n" + json.dumps({"chat": "USER: hi"}) + "\n")
    with pytest.raises(ValueError, match=r"rows look like different formats: xlam \(.*:1\), glaive \(.*:2\); name one with --from"):
        sniff(mixed)
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text('{"text": "hello"}\n')
    with pytest.raises(ValueError, match="cannot tell the format from the first 1 rows; name it with --from"):
        sniff(unknown)
    odd = tmp_path / "odd.jsonl"
    odd.write_text(json.dumps({"conversations": [{"from": "function_call", "value": "{}"}]}) + "\n"
                   + json.dumps({"messages": [{"role": "user", "content": "hi"}]}) + "\n")  # fmt: skip
    with pytest.raises(ValueError, match="sharegpt rows .* mixed with messages rows"):
        sniff(odd)
