"""Data care: journals go some days after delivery, summaries and answers stay; nothing
undelivered is ever removed; audit says which journals were removed and when."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from companion.commands.audit import audit_run
from companion.core import periods
from companion.session.report import build_report
from companion.store import outbox, runs, summaries
from companion.store.db import Database
from tests.session.report_seed import Study, record, seed_roster, student_id

DELIVERED_AT = datetime(2026, 3, 5, 12, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as database:
        seed_roster(database, 3)
        yield database


def ids_of(db: Database, run_id: str) -> list[int]:
    return [r.id for r in outbox.list_items(db) if r.run_id == run_id and r.id is not None]


@pytest.fixture
def three_runs(db: Database) -> dict[str, str]:
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    done = record(db, Study(student_id(0), "add-1", start, 8, (True,) * 5))
    half = record(db, Study(student_id(1), "add-1", start, 8, (True,) * 5))
    refused = record(db, Study(student_id(2), "add-1", start, 8, (True,) * 5))
    outbox.mark_acked(db, ids_of(db, done), now=DELIVERED_AT)
    outbox.mark_acked(db, ids_of(db, half)[:-1], now=DELIVERED_AT)  # one row still pending
    outbox.mark_acked(db, ids_of(db, refused)[:-1], now=DELIVERED_AT)
    assert outbox.mark_dead(db, ids_of(db, refused)[-1], "422: bad event", now=DELIVERED_AT)
    return {"done": done, "half": half, "refused": refused}


def test_only_journals_delivered_long_enough_ago_go(
    db: Database, three_runs: dict[str, str]
) -> None:
    lines_before = {k: runs.count_lines(db, r) for k, r in three_runs.items()}
    assert summaries.remove_delivered_journals(db, 90, DELIVERED_AT + timedelta(days=89)) == []
    removed = summaries.remove_delivered_journals(db, 90, DELIVERED_AT + timedelta(days=91))
    assert removed == [three_runs["done"]]
    assert runs.count_lines(db, three_runs["done"]) == 0
    # anything not delivered keeps its journal, however old
    for key in ("half", "refused"):
        assert runs.count_lines(db, three_runs[key]) == lines_before[key]
    later = DELIVERED_AT + timedelta(days=400)
    assert summaries.remove_delivered_journals(db, 90, later) == []
    summary = summaries.get(db, three_runs["done"])
    assert summary is not None and summary.journal_removed_at is not None
    assert summary.journal_removed_at.startswith("2026-06-04")
    assert len(summaries.answers(db, [three_runs["done"]])[three_runs["done"]]) == 5


def test_the_report_and_audit_keep_working_from_the_summary(
    db: Database, three_runs: dict[str, str]
) -> None:
    week = periods.Period(datetime(2026, 3, 2).date(), datetime(2026, 3, 8).date())
    before = build_report(db, week, tz=UTC)
    summaries.remove_delivered_journals(db, 90, DELIVERED_AT + timedelta(days=91))
    after = build_report(db, week, tz=UTC)
    assert [s.xp for s in after.students] == [s.xp for s in before.students]
    lesson = after.students[0].lessons[0]
    assert lesson.attempts[0].journal_removed_at is not None
    assert lesson.attempts[0].explanation == before.students[0].lessons[0].attempts[0].explanation
    audit = audit_run(db, three_runs["done"])
    assert audit.mismatches == []
    assert "journal removed on 2026-06-04" in audit.lines[0]
    assert audit.lines[-1] == "  Events: match the stored summary"


def test_at_least_a_day_is_kept(db: Database) -> None:
    with pytest.raises(ValueError, match="at least one day"):
        summaries.remove_delivered_journals(db, 0, DELIVERED_AT)
