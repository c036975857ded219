"""The refinement store: every verdict, every regeneration attempt and every sample's outcome, in SQLite.

Verdicts are keyed by (stage, judge name, judge version, content key), so no stored judgement is
ever asked for again, whatever run or input it came from. Regeneration attempts are keyed by
(stage, regenerator name and version, the failing sample's content key, attempt number): a rerun
takes every finished attempt from the store, usable or not, and asks the teacher nothing twice. Outcomes are keyed by the sample's
position in the input, with a hash of the input record and of the run's settings, so a run that
was killed resumes where it stopped and a changed input or setting is recomputed (mostly from
cached verdicts). Outputs are rebuilt from the outcomes, in input order.

The schema grows by numbered, add-only migrations (`MIGRATIONS`); `schema_version` records the
last one applied. WAL mode lets a crash at any moment lose at most the uncommitted batch.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from funreason.records import ToolCall
from funreason.refine.judges import Judgement
from funreason.refine.stages import Regeneration

MIGRATIONS: tuple[str, ...] = (
    # 1: verdicts and outcomes
    """
    CREATE TABLE verdicts (
        stage TEXT NOT NULL, judge TEXT NOT NULL, version TEXT NOT NULL, key TEXT NOT NULL,
        decision TEXT NOT NULL, reason TEXT NOT NULL, correction TEXT,
        PRIMARY KEY (stage, judge, version, key)
    );
    CREATE TABLE outcomes (
        seq INTEGER PRIMARY KEY, sample_id TEXT NOT NULL, input_key TEXT NOT NULL, config TEXT NOT NULL,
        outcome TEXT NOT NULL, stage TEXT NOT NULL, reason TEXT NOT NULL, sample TEXT NOT NULL,
        trail TEXT NOT NULL
    );
    """,
    # 2: answers written by a regenerator
    """
    CREATE TABLE regenerations (
        stage TEXT NOT NULL, regenerator TEXT NOT NULL, version TEXT NOT NULL, key TEXT NOT NULL,
        answer TEXT,
        PRIMARY KEY (stage, regenerator, version, key)
    );
    """,
    # 3: when each verdict was stored (unix seconds), for auditing judge runs
    "ALTER TABLE verdicts ADD COLUMN created REAL;",
    # 4: every regeneration attempt: the prompt's hash, the reply, what was read from it (reasoning and
    # answer, or a note on why it is unusable), and `new_key`, the content key of the sample it made
    # (its verdicts are the `verdicts` rows with that key). Replaces `regenerations` (answers only).
    """
    CREATE TABLE attempts (
        stage TEXT NOT NULL, regenerator TEXT NOT NULL, version TEXT NOT NULL, key TEXT NOT NULL,
        attempt INTEGER NOT NULL, prompt_hash TEXT NOT NULL, reply TEXT NOT NULL, reasoning TEXT, answer TEXT,
        note TEXT NOT NULL, new_key TEXT, created REAL NOT NULL,
        PRIMARY KEY (stage, regenerator, version, key, attempt)
    );
    """,
)
_CHUNK = 500  # host parameters per IN (...) query, under SQLite's limit on every build


def migrate(conn: sqlite3.Connection, upto: int | None = None) -> int:
    """Apply the migrations not yet applied (up to number `upto`); returns the schema version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    current = row[0] or 0
    target = len(MIGRATIONS) if upto is None else upto
    if current > len(MIGRATIONS):
        raise RuntimeError(f"the store has schema version {current}, newer than this funreason "
                           f"({len(MIGRATIONS)}); upgrade funreason or use another output folder")
    for number in range(current + 1, target + 1):
        with conn:  # one transaction per migration: applied whole or not at all
            for statement in MIGRATIONS[number - 1].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    return max(current, target)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _calls_json(calls: Sequence[ToolCall] | None) -> str | None:
    return None if calls is None else json.dumps([c.model_dump(mode="json") for c in calls], ensure_ascii=False)


def _calls(text: str | None) -> list[ToolCall] | None:
    return None if text is None else [ToolCall.model_validate(c) for c in json.loads(text)]


class Store:
    """One SQLite file of verdicts, regeneration attempts and outcomes (see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and not self.path.is_file():
            raise ValueError(f"{self.path} is not a file: the refine store must be one (move it away)")
        try:
            self.conn = sqlite3.connect(self.path, isolation_level="DEFERRED")
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")  # in WAL mode: durable against a killed process
            migrate(self.conn)
        except sqlite3.DatabaseError as exc:  # not SQLite, truncated, or another program's database
            raise ValueError(
                f"{self.path} is not a usable refine store ({exc}); move or delete it to start the run over"
            ) from None

    def close(self) -> None:
        self.conn.close()

    def commit(self) -> None:
        self.conn.commit()

    # --- verdicts ---------------------------------------------------------------------------------

    def verdicts(self, stage: str, judge: str, version: str, keys: Sequence[str]) -> dict[str, Judgement]:
        """The stored judgements for `keys` (errors are not reused: they are judged again)."""
        found: dict[str, Judgement] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                "SELECT key, decision, reason, correction FROM verdicts WHERE stage=? AND judge=? AND version=? "
                f"AND decision != 'error' AND key IN ({marks})", (stage, judge, version, *chunk))
            for key, decision, reason, correction in rows:
                found[key] = Judgement(decision, reason, _calls(correction))
        return found

    def add_verdicts(self, stage: str, judge: str, version: str, items: Iterable[tuple[str, Judgement]],
                     created: float) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO verdicts (stage, judge, version, key, decision, reason, correction, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(stage, judge, version, key, j.decision, j.reason, _calls_json(j.correction), created)
             for key, j in items])

    # --- regeneration attempts ---------------------------------------------------------------------

    def attempts(self, stage: str, name: str, version: str,
                 wanted: Sequence[tuple[str, int]]) -> dict[tuple[str, int], Regeneration]:
        """The stored attempts among `wanted` `(key, attempt number)` pairs."""
        found: dict[tuple[str, int], Regeneration] = {}
        for chunk in _chunks(list(dict.fromkeys(wanted)), _CHUNK // 2):  # two parameters each
            marks = ",".join("(?, ?)" for _ in chunk)
            rows = self.conn.execute(
                "SELECT key, attempt, answer, reasoning, note, prompt_hash, reply FROM attempts WHERE stage=? "
                f"AND regenerator=? AND version=? AND (key, attempt) IN (VALUES {marks})",
                (stage, name, version, *(item for pair in chunk for item in pair)))
            for key, attempt, answer, reasoning, note, prompt_hash, reply in rows:
                found[key, attempt] = Regeneration(_calls(answer), reasoning, note, prompt_hash, reply)
        return found

    def add_attempts(self, stage: str, name: str, version: str,
                     items: Iterable[tuple[str, int, Regeneration, str | None]], created: float) -> None:
        """Store `(key, attempt, regeneration, new_key)`s; an attempt already stored is kept (the first
        answer stands, so two batches that asked at once go on with the same one)."""
        self.conn.executemany(
            "INSERT OR IGNORE INTO attempts (stage, regenerator, version, key, attempt, prompt_hash, reply, "
            "reasoning, answer, note, new_key, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(stage, name, version, key, attempt, r.prompt_hash, r.reply, r.reasoning, _calls_json(r.calls),
              r.note, new_key, created) for key, attempt, r, new_key in items])

    # --- outcomes ---------------------------------------------------------------------------------

    def finished(self, seqs: Sequence[int], config: str) -> dict[int, str]:
        """`{seq: input_key}` of samples already done under `config` (errors are not done: retried)."""
        found: dict[int, str] = {}
        for chunk in _chunks(list(seqs)):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT seq, input_key FROM outcomes WHERE config=? AND outcome != 'error' AND seq IN ({marks})",
                (config, *chunk))
            found.update(rows)
        return found

    def add_outcomes(self, rows: Iterable[tuple[int, str, str, str, str, str, str, str, str]]) -> None:
        """Rows of (seq, sample_id, input_key, config, outcome, stage, reason, sample JSON, trail JSON)."""
        self.conn.executemany(
            "INSERT OR REPLACE INTO outcomes (seq, sample_id, input_key, config, outcome, stage, reason, sample, "
            "trail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def truncate(self, count: int) -> None:
        """Forget outcomes past the end of the current input (an earlier, longer input left them)."""
        self.conn.execute("DELETE FROM outcomes WHERE seq >= ?", (count,))
        self.conn.commit()

    def results(self, count: int) -> Iterator[tuple[str, str, str, str]]:
        """`(outcome, stage, sample JSON, trail JSON)` of the first `count` samples, in input order."""
        yield from self.conn.execute(
            "SELECT outcome, stage, sample, trail FROM outcomes WHERE seq < ? ORDER BY seq", (count,))
