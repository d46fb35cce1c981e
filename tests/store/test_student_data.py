"""One student's data: export as JSON, erase only with what still waits discarded on purpose."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from companion.core.clock import FakeClock
from companion.session.signin import SignInService
from companion.store import outbox, pins, runs, student_data, summaries
from companion.store.db import Database
from tests.session.report_seed import TEACHER, Study, record, seed_roster, student_id

ADA, BEN = student_id(0), student_id(1)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as database:
        seed_roster(database, 2)
        service = SignInService(database, FakeClock(datetime(2026, 3, 1, tzinfo=UTC)))
        assert service.set_guide_pin(TEACHER, "4812").ok
        assert service.set_pin(ADA, "1357", TEACHER, "4812").ok
        start = datetime(2026, 3, 2, 9, tzinfo=UTC)
        record(database, Study(ADA, "add-1", start, 8, (True,) * 5))
        record(database, Study(ADA, "add-2", start.replace(hour=10), 6, (True, False, True)))
        record(database, Study(BEN, "add-1", start, 8, (True,) * 5))
        yield database


def ack_all_but_lesson_two(db: Database) -> None:
    keep = {r.run_id for r in runs_of(db, ADA) if r.lesson_id == "add-2"}
    outbox.mark_acked(db, [r.id for r in outbox.list_items(db)
                           if r.id is not None and r.run_id not in keep])


def runs_of(db: Database, sid: str) -> list[runs.RunRow]:
    return [row for r in runs.closed_run_ids(db, sid) if (row := runs.get_run(db, r))]


def test_the_export_holds_everything_but_secrets(db: Database) -> None:
    data = student_data.export(db, ADA)
    text = json.dumps(data)
    assert data["format"] == student_data.FORMAT
    assert data["student"]["sourced_id"] == ADA
    assert len(data["runs"]) == 2 and len(data["summaries"]) == 2
    assert sum(len(lines) for lines in data["journals"].values()) == sum(
        runs.count_lines(db, r.run_id) for r in runs_of(db, ADA))
    assert len(data["answers"]) == 8
    assert data["pin"] == {"set": True, "failures": 0}
    pin = pins.get(db, ADA)
    assert pin is not None and pin.hash is not None
    assert pin.hash.hex() not in text and "salt" not in text
    assert all(d["state"] == "pending" for d in data["deliveries"])
    assert BEN not in text


def test_erase_waits_for_what_is_not_delivered(db: Database) -> None:
    ack_all_but_lesson_two(db)
    before = student_data.kept(db, ADA)
    assert before.runs == 2 and before.delivered > 0 and before.has_pin
    assert {w.lesson_title for w in before.waiting} == {"Adding 2"}
    with pytest.raises(student_data.StillWaiting) as refused:
        student_data.erase(db, ADA)
    assert refused.value.waiting == before.waiting
    assert len(runs_of(db, ADA)) == 2  # nothing removed

    assert student_data.erase(db, ADA, discard_waiting=True) == 2
    after = student_data.kept(db, ADA)
    assert (after.runs, after.journal_lines, after.delivered, after.waiting, after.has_pin) == (
        0, 0, 0, (), False)
    assert summaries.for_student(db, ADA) == []
    assert runs.get_progress(db, ADA, "add-1") is None
    # the other student is untouched
    assert len(runs_of(db, BEN)) == 1 and summaries.for_student(db, BEN)
    assert all(r.run_id for r in outbox.list_items(db))


def test_nothing_waiting_erases_at_once(db: Database) -> None:
    outbox.mark_acked(db, [r.id for r in outbox.list_items(db) if r.id is not None])
    assert student_data.kept(db, BEN).waiting == ()
    assert student_data.erase(db, BEN) == 1
