import io
import json

import pytest

from funreason.records import (
    NothingValid,
    RecordError,
    Rejects,
    Sample,
    ToolCall,
    atomic_output,
    iter_json_objects,
    iter_json_stream,
    read_samples,
    require_valid,
    write_jsonl,
)

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def make_sample(answer, tools=(WEATHER,), sample_id="s1") -> Sample:
    return Sample(
        id=sample_id,
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=list(tools),
        answer=answer,
    )


def test_shape_follows_calls_and_tools():
    call = {"name": "get_weather", "arguments": {"city": "Paris"}}
    other = {**WEATHER, "name": "get_time"}
    assert make_sample([call]).shape == "simple"
    assert make_sample([call], tools=[WEATHER, other]).shape == "multiple"
    assert make_sample([call, call]).shape == "parallel"
    assert make_sample([call, call], tools=[WEATHER, other]).shape == "parallel_multiple"
    assert make_sample("None of the tools can help.").shape == "irrelevance"


def test_query_is_last_user_turn():
    sample = Sample(
        id="m",
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "second"},
        ],
        answer="done",
    )
    assert sample.query == "second"


def test_content_hash_ignores_bookkeeping_but_not_content():
    sample = make_sample([{"name": "get_weather", "arguments": {"city": "Paris"}}])
    relabelled = sample.model_copy(update={"id": "other", "meta": {"x": 1}})
    assert relabelled.content_hash() == sample.content_hash()
    changed = make_sample([{"name": "get_weather", "arguments": {"city": "Rome"}}])
    assert changed.content_hash() != sample.content_hash()


def test_with_answer_keeps_the_original_in_history():
    sample = make_sample([{"name": "get_weather", "arguments": {"city": "Pariss"}}])
    fixed = sample.with_answer([ToolCall(name="get_weather", arguments={"city": "Paris"})], "stage 4")
    assert fixed.calls[0].arguments == {"city": "Paris"}
    assert fixed.history == [
        {"field": "answer", "value": [{"name": "get_weather", "arguments": {"city": "Pariss"}}], "reason": "stage 4"}
    ]
    assert sample.history == []


def test_round_trip_through_jsonl(tmp_path):
    samples = [make_sample([{"name": "get_weather", "arguments": {"city": "Paris"}}], sample_id=f"s{i}") for i in range(3)]
    path = tmp_path / "out" / "data.jsonl"
    assert write_jsonl(path, samples) == 3
    assert list(read_samples(path)) == samples


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_malformed_lines_are_counted_located_and_written(tmp_path):
    good = make_sample("no call").model_dump_json()
    missing_answer = json.dumps({"id": "x", "messages": [{"role": "user", "content": "hi"}]})
    source = tmp_path / "in.jsonl"
    write_lines(source, [good, "{not json", "", missing_answer, good])

    with Rejects(tmp_path / "rejects.jsonl") as rejects:
        samples = list(read_samples(source, rejects))

    assert len(samples) == 2
    assert rejects.count == 2
    rows = [json.loads(line) for line in (tmp_path / "rejects.jsonl").read_text().splitlines()]
    assert [row["where"] for row in rows] == [f"{source}:2", f"{source}:4"]
    assert "invalid JSON" in rows[0]["error"]
    assert rows[1]["error"] == "answer: Field required"
    assert rows[0]["raw"] == "{not json"


def test_strict_mode_stops_at_the_first_bad_record_with_its_location(tmp_path):
    source = tmp_path / "in.jsonl"
    write_lines(source, [make_sample("ok").model_dump_json(), json.dumps({"id": "", "messages": [], "answer": "x"})])
    with pytest.raises(RecordError) as info:
        list(read_samples(source, Rejects(strict=True)))
    assert str(info.value).startswith(f"{source}:2: ")
    assert "id:" in str(info.value) and "messages:" in str(info.value)


def test_reads_a_json_array_file_with_indexed_locations(tmp_path):
    source = tmp_path / "in.json"
    source.write_text(json.dumps([make_sample("ok").model_dump(mode="json"), {"id": "bad"}]))
    rejects = Rejects()
    assert len(list(read_samples(source, rejects))) == 1
    assert rejects.count == 1 and rejects.examples[0].startswith(f"{source}[1]: ")


def test_unknown_fields_are_rejected_not_dropped():
    with pytest.raises(ValueError, match="typo"):
        Sample.model_validate({"id": "a", "messages": [{"role": "user", "content": "q"}], "answer": "x", "typo": 1})


def test_an_empty_call_list_is_not_an_answer():
    with pytest.raises(ValueError, match="an empty call list is not an answer"):
        make_sample([])
    with pytest.raises(ValueError, match="an empty call list is not an answer"):
        make_sample("no call").with_answer([], "stage 4")


def test_rejects_count_units_and_notes(tmp_path):
    with Rejects(tmp_path / "rejects.jsonl") as rejects:
        rejects.add("f:1", "tools: not valid JSON", {"a": 1}, units=3)
        rejects.add("f:2", "bad", "raw")
        rejects.note("twice-encoded arguments")
    assert rejects.count == 4 and rejects.notes == {"twice-encoded arguments": 1}
    first, second = map(json.loads, (tmp_path / "rejects.jsonl").read_text().splitlines())
    assert first["units"] == 3 and "units" not in second


def test_a_stream_is_read_once_front_to_back():
    rejects = Rejects()
    lines = io.StringIO('\n\n{"a": 1}\nnot json\n{"b": 2}\n')
    assert list(iter_json_stream(lines, "<stdin>", rejects)) == [("<stdin>:3", {"a": 1}), ("<stdin>:5", {"b": 2})]
    assert rejects.examples == ["<stdin>:4: invalid JSON: Expecting value (column 1)"]
    array = io.StringIO('\n[{"a": 1},\n {"b": 2}]')
    assert list(iter_json_stream(array, "<stdin>", rejects)) == [("<stdin>[0]", {"a": 1}), ("<stdin>[1]", {"b": 2})]
    list(iter_json_stream(io.StringIO('\n[{"a": 1},\n oops]'), "<stdin>", rejects))
    assert rejects.examples[-2:] == ["<stdin>:2: invalid JSON: Expecting value (column 11)",
                                     "<stdin>:3: invalid JSON: Expecting value (column 2)"]


def test_jsonl_whose_lines_are_arrays_yields_every_record():
    rejects = Rejects()
    text = '[{"a": 1}, {"a": 2}]\n{"b": 3}\n[{"c": 4}]\n'
    assert list(iter_json_stream(io.StringIO(text), "f", rejects)) == [
        ("f:1[0]", {"a": 1}), ("f:1[1]", {"a": 2}), ("f:2", {"b": 3}), ("f:3[0]", {"c": 4})]
    assert rejects.count == 0


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b'{"n": ' + b"9" * 5000 + b"}", "Exceeds the limit"),
        (b'{"hex": "' + b"f" * 4000 + b'", "x": ' + b"[" * 20000 + b"]" * 20000 + b"}", "nested too deeply"),
        (b'{"text": "caf\xe9"}', "not UTF-8 text (byte 0xe9 at column 14)"),
        (b'{"text": "\\ud800 alone"}', "lone surrogate"),
    ],
)
def test_a_line_that_cannot_be_read_is_a_reject_and_the_file_goes_on(tmp_path, line, error):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"ok": 1}\n' + line + b'\n{"ok": 2}\n')
    rejects = Rejects(tmp_path / "rejects.jsonl")
    with rejects:
        rows = list(iter_json_objects(path, rejects))
    assert rows == [(f"{path}:1", {"ok": 1}), (f"{path}:3", {"ok": 2})]
    assert rejects.count == 1 and rejects.examples[0].startswith(f"{path}:2: ") and error in rejects.examples[0]
    [kept] = map(json.loads, (tmp_path / "rejects.jsonl").read_text(encoding="utf-8").splitlines())
    assert kept["raw"][:8] == line.decode("latin-1")[:8]  # the line's text is kept, not emptied


def test_a_pair_of_surrogate_escapes_is_one_character():
    rejects = Rejects()
    assert list(iter_json_stream(io.StringIO('{"t": "\\ud83d\\ude00"}\n'), "f", rejects)) == [("f:1", {"t": "😀"})]


def _failing(records, after):
    """`records`, then an error after `after` of them, as a reader or a generator fails midway."""
    for index, record in enumerate(records):
        if index == after:
            raise RuntimeError("disk on fire")
        yield record


def test_a_writer_failing_midway_leaves_no_partial_file(tmp_path):
    samples = [make_sample([ToolCall(name="get_weather", arguments={"city": c})], sample_id=c) for c in "abc"]
    path = tmp_path / "sub" / "out.jsonl"
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_jsonl(path, _failing(samples, after=2))
    assert list(tmp_path.rglob("*")) == [tmp_path / "sub"]  # no output, no temporary file
    assert write_jsonl(path, samples) == 3
    with pytest.raises(RuntimeError):
        write_jsonl(path, _failing(samples[:1] * 5, after=4))
    assert [s.id for s in read_samples(path)] == ["a", "b", "c"]  # the old file is intact
    assert list(path.parent.iterdir()) == [path]


def test_atomic_output_can_keep_unfinished_work_under_another_name(tmp_path):
    path, partial = tmp_path / "out.jsonl", tmp_path / "out.partial.jsonl"
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(path, partial=partial) as handle:
            handle.write("done\n")
            raise KeyboardInterrupt
    assert not path.exists() and partial.read_text() == "done\n"
    with pytest.raises(ValueError):
        with atomic_output(path, partial=tmp_path / "empty.jsonl"):
            raise ValueError("nothing written: nothing kept")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.partial.jsonl"]
    with atomic_output(tmp_path / "plot.png", binary=True) as handle:
        handle.write(b"\x89PNG")
    assert (tmp_path / "plot.png").read_bytes() == b"\x89PNG"


def test_require_valid_fails_a_run_that_rejects_everything(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "a"}\n{not json\n')
    rejects = Rejects(tmp_path / "rejects.jsonl")
    with pytest.raises(NothingValid, match=r"in\.jsonl: all 2 record\(s\) were rejected \(see .*rejects\.jsonl\)"):
        write_jsonl(tmp_path / "out.jsonl", require_valid(read_samples(path, rejects), rejects, path))
    rejects.close()
    assert not (tmp_path / "out.jsonl").exists()
    path.write_text("")  # no records at all: nothing was dropped, so no error
    assert list(require_valid(read_samples(path, Rejects()), Rejects(), path)) == []
    good = make_sample("No.")
    path.write_text(good.model_dump_json() + "\n{not json\n")
    assert list(require_valid(read_samples(path, rejects), rejects, path)) == [good]


def test_rejects_appear_whole_at_close_and_replace_an_older_runs(tmp_path):
    path = tmp_path / "rejects.jsonl"
    path.write_text('{"where": "old:1", "error": "from an older run", "raw": ""}\n')
    with Rejects(path) as rejects:
        rejects.add("new:1", "bad", "x")
        assert "older run" in path.read_text()  # still the old file while this run goes on
    assert [json.loads(line)["where"] for line in path.read_text().splitlines()] == ["new:1"]
    assert [p.name for p in tmp_path.iterdir()] == ["rejects.jsonl"]  # no temporary file left


JSONL_FLOODS = {
    "one long line": lambda n: '{"a": "' + "x" * n + '"}\n',
    "many bad lines": lambda n: "{bad\n" * (n // 5),
    "an array opening that is not one": lambda n: "[1]\n" * (n // 4) + "[\n",
    "deep nesting": lambda n: "[" * n + "\n",
    "lone surrogate escapes": lambda n: '{"a": "' + "\\ud800" * (n // 6) + '"}\n',
    "escaped quotes": lambda n: '{"a": "' + '\\"' * (n // 2) + '"}\n',
}


@pytest.mark.parametrize("build", JSONL_FLOODS.values(), ids=JSONL_FLOODS.keys())
def test_jsonl_is_read_in_time_linear_in_its_size(time_per_kb, build):
    time_per_kb(lambda text: list(iter_json_stream(io.StringIO(text), "x", Rejects())), build)
