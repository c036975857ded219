"""The SQLite store: add-only migrations, the verdict cache, stored outcomes."""

import sqlite3

import pytest

from funreason.records import ToolCall
from funreason.refine import Judgement
from funreason.refine.stages import Regeneration
from funreason.refine.store import MIGRATIONS, Store, migrate

COLUMNS = {
    "schema_version": ["version"],
    "verdicts": ["stage", "judge", "version", "key", "decision", "reason", "correction", "created"],
    "outcomes": ["seq", "sample_id", "input_key", "config", "outcome", "stage", "reason", "sample", "trail"],
    "regenerations": ["stage", "regenerator", "version", "key", "answer"],
    "attempts": ["stage", "regenerator", "version", "key", "attempt", "prompt_hash", "reply", "reasoning", "answer",
                 "note", "new_key", "created"],
}


def columns(conn):
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
    return {t: [row[1] for row in conn.execute(f"PRAGMA table_info({t})")] for t in tables}


def test_a_blank_database_gets_every_migration(tmp_path):
    conn = sqlite3.connect(tmp_path / "blank.sqlite")
    assert migrate(conn) == len(MIGRATIONS) == 4
    assert columns(conn) == COLUMNS
    assert migrate(conn) == 4  # applying again changes nothing
    assert [row[0] for row in conn.execute("SELECT version FROM schema_version")] == [1, 2, 3, 4]


def test_an_older_database_is_migrated_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    assert migrate(conn, upto=1) == 1
    conn.execute("INSERT INTO verdicts VALUES ('format', 'rules', '1:python', 'k', 'pass', 'fine', NULL)")
    conn.commit()
    assert "regenerations" not in columns(conn) and "attempts" not in columns(conn)
    assert "created" not in columns(conn)["verdicts"]
    conn.close()
    store = Store(path)  # opening migrates
    assert columns(store.conn) == COLUMNS
    assert store.verdicts("format", "rules", "1:python", ["k"]) == {"k": Judgement("pass", "fine")}
    store.close()


def test_a_database_from_a_newer_funreason_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / "new.sqlite")
    migrate(conn)
    conn.execute("INSERT INTO schema_version VALUES (99)")
    conn.commit()
    with pytest.raises(RuntimeError, match="schema version 99, newer than this funreason"):
        migrate(conn)


def test_verdicts_round_trip_with_corrections_and_errors_are_not_reused(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    fix = [ToolCall(name="f", arguments={"a": [1, {"b": None}]})]
    keys = [f"k{i}" for i in range(1200)]  # more than one IN (...) chunk
    items = [(key, Judgement("fail", "wrong", fix)) for key in keys] + [("bad", Judgement("error", "timeout"))]
    store.add_verdicts("function_params", "rules", "1", items, created=0.0)
    store.commit()
    found = store.verdicts("function_params", "rules", "1", [*keys, "bad", "unknown"])
    assert set(found) == set(keys) and found["k7"] == Judgement("fail", "wrong", fix)
    assert store.verdicts("function_params", "rules", "2", keys) == {}  # another judge version
    assert store.verdicts("format", "rules", "1", keys) == {}  # another stage
    store.close()


def test_attempts_round_trip_and_the_first_stored_answer_stands(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    fix = [ToolCall(name="f", arguments={"a": 2})]
    good = Regeneration(fix, "because a is 2", prompt_hash="h1", reply="<reasoning>...")
    bad = Regeneration(None, note="unusable reply: found 0", prompt_hash="h2", reply="garbage")
    pairs = [(f"k{i}", i % 3) for i in range(700)]  # more than one chunk of (key, attempt) pairs
    store.add_attempts("format", "teacher", "1", [(key, n, good, "new") for key, n in pairs] + [("x", 1, bad, None)],
                       created=0.0)
    store.add_attempts("format", "teacher", "1", [("x", 1, good, "new")], created=1.0)  # asked twice at once
    store.commit()
    found = store.attempts("format", "teacher", "1", [*pairs, ("x", 1), ("x", 0), ("k1", 2)])
    assert set(found) == {*pairs, ("x", 1)}
    assert found["k4", 1] == good and found["x", 1] == bad
    assert store.attempts("format", "teacher", "2", pairs) == {} and store.attempts("function_params", "teacher", "1", pairs) == {}
    store.close()


def test_outcomes_are_done_per_config_errors_are_not_done_and_results_come_in_order(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    rows = [(2, "c", "i2", "cfg", "error", "format", "", "{}", "[]"),
            (0, "a", "i0", "cfg", "refined", "format", "", '{"id": "a"}', "[]"),
            (1, "b", "i1", "cfg", "dropped", "reasoning", "", '{"id": "b"}', "[]"),
            (3, "d", "i3", "cfg", "hard", "format", "", '{"id": "d"}', "[]")]
    store.add_outcomes(rows)
    store.commit()
    assert store.finished([0, 1, 2, 3], "cfg") == {0: "i0", 1: "i1", 3: "i3"}
    assert store.finished([0, 1], "other") == {}
    store.truncate(3)
    assert [row[2] for row in store.results(10)] == ['{"id": "a"}', '{"id": "b"}', "{}"]
    store.close()
