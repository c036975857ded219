"""Sources: standard input, Parquet and Arrow files (pyarrow), hub ids (through `datasets`)."""

import io
import json
import sys
import types

import pytest

from funreason.formats import read
from funreason.formats.sources import open_source
from funreason.records import Rejects, ToolCall

XLAM_ROW = {"id": 7, "query": "Weather in Paris?", "tools": json.dumps([{"name": "get_weather", "parameters": {"city": {"type": "str"}}}]),
            "answers": json.dumps([{"name": "get_weather", "arguments": {"city": "Paris"}}])}  # fmt: skip


def test_standard_input_is_read_once_and_named(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(XLAM_ROW) + "\n{oops\n"))
    source = open_source("-")
    rejects = Rejects()
    assert [s.id for s in read(source, "xlam", rejects)] == ["xlam-7"]
    assert rejects.examples == ["<stdin>:2: invalid JSON: Expecting property name enclosed in double quotes (column 2)"]
    assert [s.id for s in read(source, "auto", Rejects())] == ["xlam-7"]  # spooled: sniffed, then read again


def test_parquet_and_arrow_rows_arrive_decoded(tmp_path, data):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.ipc
    import pyarrow.parquet

    conversations = json.loads((data / "glaive_toolcall_en_demo.json").read_text())[:3]
    table = pa.Table.from_pylist(conversations)  # conversations: list<struct<from, value>>, as on the hub
    pyarrow.parquet.write_table(table, tmp_path / "train.parquet")
    with pa.OSFile(str(tmp_path / "file.arrow"), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    with pa.OSFile(str(tmp_path / "stream.arrow"), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    (tmp_path / "rows.json").write_text(json.dumps(conversations))
    expected = [_content(s) for s in read(tmp_path / "rows.json", "sharegpt")]
    for name in ("train.parquet", "file.arrow", "stream.arrow"):
        rejects = Rejects()
        samples = list(read(tmp_path / name, "auto", rejects))
        assert [_content(s) for s in samples] == expected and rejects.count == 0
        assert samples[0].id == name.split(".")[0] + "-0-t1"
    bad = tmp_path / "bad.parquet"
    pyarrow.parquet.write_table(pa.Table.from_pylist([{"query": "q"}]), bad)
    rejects = Rejects()
    assert list(read(bad, "xlam", rejects)) == [] and rejects.examples == [f"{bad}[0]: tools: missing"]


def test_hub_ids_go_through_datasets(monkeypatch):
    calls = []

    def load_dataset(repo, split):
        calls.append((repo, split))
        return [XLAM_ROW]

    monkeypatch.setitem(sys.modules, "datasets", types.SimpleNamespace(load_dataset=load_dataset))
    (sample,) = read("hf:Salesforce/xlam-function-calling-60k", "xlam", Rejects())
    assert sample.answer == [ToolCall(name="get_weather", arguments={"city": "Paris"})]
    assert calls == [("Salesforce/xlam-function-calling-60k", "train")]
    source = open_source("hf:Salesforce/xlam-function-calling-60k:test")
    assert (source.name, source.stem) == ("hf:Salesforce/xlam-function-calling-60k:test", "xlam-function-calling-60k")


def test_clear_errors(monkeypatch, tmp_path):
    with pytest.raises(FileNotFoundError, match="input file not found"):
        open_source(tmp_path / "missing.jsonl")
    with pytest.raises(ValueError, match=r"expected hf:<owner>/<name>\[:<split>\]"):
        open_source("hf:xlam")
    monkeypatch.setitem(sys.modules, "datasets", None)  # as if not installed
    with pytest.raises(RuntimeError, match=r"needs the datasets package: pip install 'funreason\[hf\]'"):
        list(read("hf:a/b", "xlam", Rejects()))


def _content(sample):
    """A sample without what names its file (its id, and the row a split turn came from)."""
    fields = sample.model_dump(exclude={"id"})
    fields["meta"].pop("conversation", None)
    return fields
