"""Schema migrations: version 1 is frozen; every later step upgrades it and keeps the data.

``tests/data/v1-sample.sqlite3`` was written by the code of commit 53cac6f (see
``make_v1_sample``): closed runs with delivered, pending and refused events, a run left
open by a crash, a PIN and a stale lease. Opening it with today's code must migrate it to
the latest version, keep every run, journal line and outbox row, and audit clean.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlmodel import SQLModel

import companion.store.launch_tables
import companion.store.pins
import companion.store.remote_tables
import companion.store.run_tables
import companion.store.tables  # noqa: F401  (all five register their tables)
from companion.commands.audit import audit_run
from companion.store import outbox, runs
from companion.store.db import Database, latest_version
from companion.store.migrations import MIGRATIONS
from companion.store.schema_v1 import V1_DDL

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "v1-sample.sqlite3"


def _columns(con: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in con.execute(f'PRAGMA table_info("{table}")')}


def _tables(con: sqlite3.Connection) -> set[str]:
    rows = con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows if not row[0].startswith("sqlite_")}


def _snapshot(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every run, journal line and outbox row, by the columns version 1 has."""
    with sqlite3.connect(path) as con:
        return {
            "runs": con.execute(
                "SELECT run_id, student_id, lesson_id, attempt, state, xp FROM runs ORDER BY run_id"
            ).fetchall(),
            "journal": con.execute(
                "SELECT run_id, seq, t_ms, kind, data FROM journal_lines ORDER BY run_id, seq"
            ).fetchall(),
            "outbox": con.execute(
                "SELECT event_id, kind, payload, run_id FROM outbox ORDER BY id"
            ).fetchall(),
            "pins": con.execute("SELECT user_id, hash FROM pins").fetchall(),
        }


def test_the_frozen_ddl_is_version_one_of_the_steps() -> None:
    first_version = MIGRATIONS[0][0]
    assert first_version == 1
    versions = [version for version, _ in MIGRATIONS]
    assert versions == list(range(1, len(MIGRATIONS) + 1)), "steps are numbered 1, 2, 3, ..."
    assert "CREATE TABLE runs" in V1_DDL and "CREATE TABLE outbox" in V1_DDL


def test_the_sample_is_a_version_one_database() -> None:
    with sqlite3.connect(SAMPLE) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 1
        made = con.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'runs'"
        ).fetchone()[0]
    assert " ".join(made.split()) in " ".join(V1_DDL.split())


def test_the_models_describe_the_migrated_schema(tmp_path: Path) -> None:
    path = tmp_path / "fresh.sqlite3"
    Database.open(path, "sandbox").close()
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == latest_version(MIGRATIONS)
        assert _tables(con) == set(SQLModel.metadata.tables)
        for name, table in SQLModel.metadata.tables.items():
            assert _columns(con, name) == {c.name for c in table.columns}, name


def test_a_version_one_database_upgrades_and_keeps_everything(tmp_path: Path) -> None:
    path = tmp_path / "companion-sandbox.sqlite3"
    shutil.copyfile(SAMPLE, path)
    before = _snapshot(path)
    assert len(before["runs"]) == 3 and len(before["outbox"]) == 7

    with Database.open(path, "sandbox") as db:
        assert db.schema_version() == latest_version(MIGRATIONS)
        closed = runs.closed_run_ids(db, None)
        assert len(closed) == 2
        for run_id in closed:
            report = audit_run(db, run_id)
            assert report.mismatches == [], report.lines
    assert _snapshot(path) == before


def test_step_two_adds_the_lease_holders_start_and_keeps_the_old_lease(tmp_path: Path) -> None:
    path = tmp_path / "companion-sandbox.sqlite3"
    shutil.copyfile(SAMPLE, path)
    before = _snapshot(path)
    with sqlite3.connect(path) as con:
        lease_before = con.execute("SELECT * FROM lease").fetchall()
    assert len(lease_before) == 1  # the sample's stale lease of a process that is gone

    Database.open(path, "sandbox", migrations=MIGRATIONS[:2]).close()

    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == 2
        assert "pid_start" in _columns(con, "lease")
        # An old row's start is unknown (NULL): only its pid can be checked.
        lease_after = con.execute("SELECT * FROM lease").fetchall()
    assert lease_after == [(*lease_before[0], None)]
    assert _snapshot(path) == before


def test_step_four_adds_content_resume_and_keeps_old_runs(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from companion.store import content_state

    path = tmp_path / "companion-sandbox.sqlite3"
    shutil.copyfile(SAMPLE, path)
    before = _snapshot(path)
    with Database.open(path, "sandbox") as db:
        run_ids = [row[0] for row in before["runs"]]
        assert [content_state.session_time_of(db, r) for r in run_ids] == [None] * 3
        assert content_state.load_resume(db, "s1", "l1") is None
        content_state.keep_session_time(db, run_ids[0], "PT1M5S")
        content_state.save_resume(db, "s1", "l1", content_state.Resume("page=3", "p3"),
                                  datetime(2026, 1, 1, tzinfo=UTC))
        assert content_state.session_time_of(db, run_ids[0]) == "PT1M5S"
        assert content_state.load_resume(db, "s1", "l1") == content_state.Resume("page=3", "p3")
    with sqlite3.connect(path) as con:
        assert "content_resume" in _tables(con)
        assert "content_session_time" in _columns(con, "runs")
    assert _snapshot(path) == before


def test_step_five_names_every_outbox_state_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "companion-sandbox.sqlite3"
    shutil.copyfile(SAMPLE, path)
    with sqlite3.connect(path) as con:
        # Shapes the version-1 code left: a batch being settled, a held gradebook result.
        con.execute("UPDATE outbox SET state = 'in_flight', settle_until = next_attempt_at "
                    "WHERE id = (SELECT MAX(id) FROM outbox WHERE kind = 'caliper' "
                    "AND state = 'pending')")
        con.execute("UPDATE outbox SET last_error = 'line item missing: run `companion "
                    "content push` (line item li-1)' WHERE kind = 'gradebook.result' "
                    "AND state = 'pending'")
        old = dict(con.execute("SELECT event_id, state FROM outbox").fetchall())
        pending_ids = [e for e, s in old.items() if s == "pending"]
    assert set(old.values()) == {"acked", "dead", "pending", "in_flight"}

    with Database.open(path, "sandbox") as db:
        rows = {row.event_id: row for row in outbox.list_items(db)}
    assert set(rows) == set(old)  # every row kept, ids unchanged
    expected = {"acked": "delivered", "dead": "refused", "in_flight": "settling"}
    for event_id, state in old.items():
        row = rows[event_id]
        if state == "pending":
            want = "held" if row.kind == "gradebook.result" else "pending"
        else:
            want = expected[state]
        assert row.state == want, (event_id, state)
    held = [row for row in rows.values() if row.state == "held"]
    assert held and all(r.hold_reason and r.hold_reason.startswith("line item missing")
                        for r in held)
    assert all(rows[e].state in ("pending", "held") for e in pending_ids)
    with sqlite3.connect(path) as con, pytest.raises(sqlite3.IntegrityError):
        con.execute("UPDATE outbox SET state = 'acked'")  # the column takes only the names


def test_step_six_adds_other_computers_results_and_keeps_everything(tmp_path: Path) -> None:
    from companion.store import remote_results
    from companion.store.results import RESULT_KIND, body_of

    path = tmp_path / "companion-sandbox.sqlite3"
    shutil.copyfile(SAMPLE, path)
    before = _snapshot(path)
    Database.open(path, "sandbox", migrations=MIGRATIONS[:5]).close()
    with sqlite3.connect(path) as con:
        assert "remote_results" not in _tables(con)

    with Database.open(path, "sandbox") as db:
        assert db.schema_version() == 6 == latest_version(MIGRATIONS)
        own = [body_of(row) for row in outbox.list_items(db) if row.kind == RESULT_KIND]
        assert own, "the sample holds a result this computer wrote"
        mine = own[0]
        student = mine["student"]["sourcedId"]
        line_item = mine["assessmentLineItem"]["sourcedId"]
        other = {
            **mine,
            "sourcedId": "result-from-another-computer",
            "scoreDate": "2026-01-05T09:10:00.000Z",
            "metadata": {**mine["metadata"], "runId": "run-elsewhere", "xp": 7,
                         "computer": "Room 12 / PC 3"},
        }
        lessons = {line_item: mine["metadata"]["lessonId"]}
        kept = remote_results.keep_for_student(db, student, [mine, other], lessons)
        assert kept == 1  # this computer's own result is not kept again
        found = remote_results.for_student(db, student)
        assert [(r.sourced_id, r.xp, r.source, r.score_date) for r in found] == [
            ("result-from-another-computer", 7, "Room 12 / PC 3", "2026-01-05T09:10:00+00:00")
        ]
    with sqlite3.connect(path) as con:
        assert _columns(con, "remote_results") == {
            c.name for c in SQLModel.metadata.tables["remote_results"].columns
        }
    assert _snapshot(path) == before
