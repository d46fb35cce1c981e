"""The guide's report from stored run summaries: periods, time zones, attempts, delivery."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from companion.core import periods, rules
from companion.session import report as rep
from companion.store import outbox, runs
from companion.store.db import Database
from tests.session.report_seed import (
    CATALOGUE,
    CLASS_ID,
    OTHER_CLASS,
    Study,
    record,
    seed_roster,
    student_id,
)

NEW_YORK = periods.time_zone("America/New_York")
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday
ADA, BEN, CY = student_id(0), student_id(1), student_id(2)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as database:
        seed_roster(database, 3, disabled=(2,))
        yield database


@pytest.fixture
def studied(db: Database) -> dict[str, str]:
    """Ada masters lesson 1, fails lesson 2, then crashes before answering; Ben studies
    late on Monday evening in New York (Tuesday in UTC)."""
    ids = {
        "ada-1": record(db, Study(ADA, "add-1", datetime(2026, 3, 2, 15, tzinfo=UTC), 10,
                                  (True,) * 5, off_task_s=45)),
        "ada-2": record(db, Study(ADA, "add-2", datetime(2026, 3, 2, 15, 20, tzinfo=UTC), 6,
                                  (True, False, False, True))),
        "ada-crash": record(db, Study(ADA, "add-2", datetime(2026, 3, 2, 15, 30, tzinfo=UTC), 2,
                                      (), completed=False)),
        "ben-1": record(db, Study(BEN, "add-1", datetime(2026, 3, 3, 2, 30, tzinfo=UTC), 8,
                                  (True, False, True, True, True))),
    }
    return ids


def focused_minutes(db: Database, run_ids: list[str]) -> float:
    return sum(rules.classify(runs.journal(db, r)).total("active") for r in run_ids) / 60_000


def test_a_week_of_a_class_per_student(db: Database, studied: dict[str, str]) -> None:
    week = periods.this_week(NOW, NEW_YORK)
    assert (week.first, week.last) == (date(2026, 3, 2), date(2026, 3, 8))
    report = rep.build_report(db, week, tz=NEW_YORK, class_id=CLASS_ID, catalogue=CATALOGUE)

    assert [s.student_id for s in report.students] == [ADA, BEN, CY]
    ada = report.student(ADA)
    assert ada is not None
    assert (ada.lessons_studied, ada.lessons_mastered, ada.attempts) == (2, 1, 2)
    assert ada.best_accuracy == 1.0 and ada.last_accuracy == 0.5
    assert [(n.course_title, n.lesson_title) for n in ada.next_lessons] == [("Math G3", "Adding 2")]
    # the crashed run is no attempt, but its minutes count
    all_ada = [studied["ada-1"], studied["ada-2"], studied["ada-crash"]]
    assert ada.minutes["focused"] == pytest.approx(focused_minutes(db, all_ada))
    assert ada.minutes["off-task"] == pytest.approx(0.75)
    lesson_2 = next(lesson for lesson in ada.lessons if lesson.lesson_id == "add-2")
    assert len(lesson_2.attempts) == 1 and lesson_2.attempts[0].xp == Decimal("0.0")
    assert [(a.item, a.correct) for a in lesson_2.attempts[0].answers] == [
        ("q1", True), ("q2", False), ("q3", False), ("q4", True)
    ]
    assert any("80 % gate: failed" in text for text in lesson_2.attempts[0].explanation)
    assert ada.xp == Decimal(runs.get_run(db, studied["ada-1"]).xp or "0")  # type: ignore[union-attr]

    ben = report.student(BEN)
    assert ben is not None
    # 02:30 UTC on Tuesday is 21:30 on Monday in New York
    assert [d.day for d in ben.days if d.attempts] == [date(2026, 3, 2)]
    assert ben.best_accuracy == ben.last_accuracy == 0.8

    cy = report.student(CY)
    assert cy is not None and not cy.can_sign_in
    assert cy.disabled_why == rep.TURNED_OFF_WHY and cy.where_to_change == rep.WHERE_TO_CHANGE
    assert cy.attempts == 0 and cy.delivery.state == rep.NOTHING

    missed = {(m.lesson_id, m.item): (m.missed_by, m.answered_by) for m in report.missed}
    assert missed == {("add-1", "q2"): (1, 2), ("add-2", "q2"): (1, 1), ("add-2", "q3"): (1, 1)}
    monday = report.days[0]
    assert monday.attempts == 3 and monday.day == date(2026, 3, 2)


def test_days_follow_the_time_zone(db: Database, studied: dict[str, str]) -> None:
    tuesday = periods.Period(date(2026, 3, 3), date(2026, 3, 3))
    in_utc = rep.build_report(db, tuesday, tz=UTC)
    assert [s.student_id for s in in_utc.students] == [BEN]
    in_new_york = rep.build_report(db, tuesday, tz=NEW_YORK)
    assert in_new_york.students == ()
    last_week = periods.last_week(NOW, NEW_YORK)
    assert rep.build_report(db, last_week, tz=NEW_YORK, class_id=CLASS_ID).students[0].attempts == 0
    assert rep.build_report(db, periods.this_week(NOW, NEW_YORK), tz=NEW_YORK,
                            class_id=OTHER_CLASS).students == ()


def test_delivery_state_per_student(db: Database, studied: dict[str, str]) -> None:
    week = periods.this_week(NOW, NEW_YORK)
    before = rep.build_report(db, week, tz=NEW_YORK, class_id=CLASS_ID)
    assert {s.student_id: s.delivery.state for s in before.students} == {
        ADA: rep.WAITING, BEN: rep.WAITING, CY: rep.NOTHING
    }
    rows = outbox.list_items(db)
    ada_runs = {studied["ada-1"], studied["ada-2"], studied["ada-crash"]}
    outbox.mark_acked(db, [r.id for r in rows if r.run_id in ada_runs and r.id is not None])
    ben_row = next(r for r in rows if r.run_id == studied["ben-1"])
    assert ben_row.id is not None
    outbox.mark_dead(db, ben_row.id, "422: actor email unknown")
    after = rep.build_report(db, week, tz=NEW_YORK, class_id=CLASS_ID)
    ada, ben = after.student(ADA), after.student(BEN)
    assert ada is not None and ben is not None
    assert ada.delivery.state == rep.DELIVERED and ada.delivery.waiting == 0
    assert ben.delivery.state == rep.REFUSED and "actor email unknown" in ben.delivery.text()


def test_bad_periods_and_zones_say_why() -> None:
    with pytest.raises(periods.PeriodError, match="YYYY-MM-DD"):
        periods.between("2026-13-01", "2026-12-01")
    with pytest.raises(periods.PeriodError, match="before it starts"):
        periods.between("2026-03-08", "2026-03-01")
    with pytest.raises(periods.PeriodError, match="unknown time zone"):
        periods.time_zone("Mars/Olympus")
