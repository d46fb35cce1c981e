"""Runs in the store: open, journal, settled-time reports, atomic close, progress, email."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, col, select

from companion.core import rules
from companion.core.catalogue import Catalogue, Course, Lesson
from companion.core.journal import LessonSettings, Line
from companion.core.rules import Category
from companion.session import closing
from companion.store import outbox, runs
from companion.store.db import Database
from companion.store.run_tables import JournalLineRow, LessonRow
from companion.store.tables import OutboxItem, RosterUser
from tests.store.run_child import ANCHOR, CTX, LESSON, NEXT_LESSON, STUDENT, seed

CATEGORIES: tuple[Category, ...] = ("active", "inactive", "waste", "unknown")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as database:
        seed(database)
        yield database


def practice(answers: int, correct: int, minutes: int = 10) -> list[Line]:
    """Input every 30 s for ``minutes``, with ``answers`` answers of which ``correct`` right."""
    lines = [Line(t, "input") for t in range(30_000, minutes * 60_000 + 1, 30_000)]
    for i in range(answers):
        lines.append(Line(1_000 + i * 10_000, "answer", item=f"q{i}", correct=i < correct))
    return sorted(lines, key=lambda line: line.t)


def mixed_journal() -> list[Line]:
    """Active, idle, focus lost, sensing lost and odd milliseconds, over about 17 minutes."""
    return [
        Line(1_234, "input"),
        Line(50_001, "input"),
        Line(60_000, "answer", item="q1", correct=True),
        Line(200_777, "input"),  # a 150.776 s gap: idle with a 60 s timeout
        Line(230_000, "focus", focused=False, app="game"),
        Line(400_500, "focus", focused=True),
        Line(420_000, "input"),
        Line(455_000, "sensing", available=False),
        Line(500_003, "sensing", available=True),
        Line(520_000, "input"),
        Line(600_000, "input"),
        Line(700_000, "input"),
        Line(800_000, "input"),
        Line(900_000, "input"),
        Line(1_000_000, "input"),
    ]


def events_of(db: Database, run_id: str, type_: str) -> list[dict[str, Any]]:
    return [e for e in runs.run_events(db, run_id) if e["type"] == type_]


def reported_ms(events: list[dict[str, Any]]) -> dict[str, int]:
    """Milliseconds per category summed over TimeSpentEvents."""
    sums: dict[str, int] = dict.fromkeys(CATEGORIES, 0)
    for event in events:
        for item in event["generated"]["items"]:
            sums[item["type"]] += int(Decimal(str(item["value"])) * 1000)
    return sums


def metrics(event: dict[str, Any]) -> dict[str, Any]:
    return {item["type"]: item["value"] for item in event["generated"]["items"]}


def outbox_rows(db: Database) -> int:
    return len(outbox.list_items(db))


def test_open_append_close_writes_journal_events_and_progress(db: Database) -> None:
    run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    body = practice(answers=10, correct=10)
    runs.append_many(db, run_id, body[:5])
    for line in body[5:]:
        runs.append(db, run_id, line)

    result = closing.close_run(db, run_id, completed=True, at_ms=600_000, ctx=CTX)

    lines = runs.journal(db, run_id)
    assert lines[0].kind == "start" and lines[0].lesson == LESSON and lines[0].attempt == 1
    assert lines[0].settings is not None and lines[0].settings.idle_timeout_ms == 60_000
    assert lines[1:-1] == body
    assert lines[-1] == Line(600_000, "end", completed=True)
    # 10 focused minutes, 10/10 on a first attempt: 10 x 1.25
    assert result.xp == Decimal("12.5") and result.mastered and result.completed
    run = runs.get_run(db, run_id)
    assert run is not None and run.state == "closed" and run.xp == "12.5"
    assert run.end_ms == 600_000 and run.events_pending_reason is None
    activity = events_of(db, run_id, "ActivityEvent")
    assert len(activity) == 1
    assert metrics(activity[0]) == {
        "totalQuestions": 10,
        "correctQuestions": 10,
        "xpEarned": 12.5,
        "masteredUnits": 1,
    }
    assert activity[0]["actor"]["email"] == "ada@example.org"
    assert activity[0]["object"]["subject"] == "Math"
    assert activity[0]["eventTime"] == "2026-01-05T09:10:00.000Z"
    spent = events_of(db, run_id, "TimeSpentEvent")
    assert reported_ms(spent) == {"active": 600_000, "inactive": 0, "waste": 0, "unknown": 0}
    progress = runs.get_progress(db, STUDENT, LESSON)
    assert progress is not None
    assert (progress.mastered, progress.attempts, progress.total_xp) == (True, 1, "12.5")
    assert progress.best_accuracy == 1.0
    assert progress.mastered_at == "2026-01-05T09:10:00+00:00"


def test_one_run_open_at_a_time(db: Database) -> None:
    first = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    with pytest.raises(runs.RunAlreadyOpen) as excinfo:
        runs.open_run(db, "stu-2", NEXT_LESSON, anchor=ANCHOR)
    assert excinfo.value.run_id == first
    assert runs.open_run_id(db) == first

    closing.close_run(db, first, completed=True, at_ms=1_000, ctx=CTX)
    second = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    assert second != first
    assert runs.journal(db, second)[0].attempt == 2  # progress.attempts + 1


def test_append_refuses_time_going_back_closed_runs_and_unknown_ids(db: Database) -> None:
    run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append(db, run_id, Line(10_000, "input"))
    with pytest.raises(ValueError, match="backwards"):
        runs.append_many(db, run_id, [Line(12_000, "input"), Line(11_000, "input")])
    assert len(runs.journal(db, run_id)) == 2  # the failed batch left nothing
    with pytest.raises(ValueError, match="end"):
        runs.append(db, run_id, Line(20_000, "end"))
    with pytest.raises(ValueError, match="before the last line"):
        closing.close_run(db, run_id, completed=True, at_ms=5_000, ctx=CTX)
    closing.close_run(db, run_id, completed=True, at_ms=20_000, ctx=CTX)
    with pytest.raises(runs.RunClosed):
        runs.append(db, run_id, Line(30_000, "input"))
    with pytest.raises(runs.RunClosed):
        closing.close_run(db, run_id, completed=True, at_ms=30_000, ctx=CTX)
    with pytest.raises(runs.UnknownRun):
        runs.journal(db, "no-such-run")


def test_open_run_needs_a_stored_lesson(db: Database) -> None:
    with pytest.raises(runs.UnknownLesson):
        runs.open_run(db, STUDENT, "not-a-lesson", anchor=ANCHOR)
    assert runs.open_run_id(db) is None


@pytest.mark.parametrize("window_ms", [7_000, 60_000, 300_000, 12_345])
def test_settled_time_reports_then_close_sum_to_totals(db: Database, window_ms: int) -> None:
    run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    body = mixed_journal()
    written = 0
    reported_until = 0
    for cut in (4, 9, len(body)):
        runs.append_many(db, run_id, body[written:cut])
        written = cut
        now = body[cut - 1].t + 30_000
        closing.report_time_spent(db, run_id, now, CTX, window_ms=window_ms)
        run = runs.get_run(db, run_id)
        assert run is not None
        settled = rules.classify(runs.journal(db, run_id), now).settled_until
        assert run.reported_until_ms <= settled
        reported_until = run.reported_until_ms
        spent = events_of(db, run_id, "TimeSpentEvent")
        assert sum(reported_ms(spent).values()) == reported_until
    assert reported_until > 0  # something settled was reported while open

    closing.close_run(db, run_id, completed=True, at_ms=1_010_000, ctx=CTX)

    lines = runs.journal(db, run_id)
    classification = rules.classify(lines)
    spent = events_of(db, run_id, "TimeSpentEvent")
    assert reported_ms(spent) == {c: classification.total(c) for c in CATEGORIES}
    assert sum(reported_ms(spent).values()) == 1_010_000
    # consecutive windows, no gap, no overlap, ids unique
    assert len({e["id"] for e in spent}) == len(spent)


def test_reporting_twice_at_the_same_time_adds_nothing(db: Database) -> None:
    run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append_many(db, run_id, practice(0, 0, minutes=12))
    first = closing.report_time_spent(db, run_id, 720_000, CTX, window_ms=60_000)
    again = closing.report_time_spent(db, run_id, 720_000, CTX, window_ms=60_000)
    assert first > 0 and again == 0
    assert outbox_rows(db) == first


def test_close_is_one_transaction(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append_many(db, run_id, practice(answers=5, correct=5))

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "add_events", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        closing.close_run(db, run_id, completed=True, at_ms=600_000, ctx=CTX)

    run = runs.get_run(db, run_id)
    assert run is not None and run.state == "open" and run.xp is None
    assert [line.kind for line in runs.journal(db, run_id)].count("end") == 0
    assert runs.get_progress(db, STUDENT, LESSON) is None
    assert outbox_rows(db) == 0

    monkeypatch.undo()
    result = closing.close_run(db, run_id, completed=True, at_ms=600_000, ctx=CTX)
    assert result.mastered and outbox_rows(db) == result.events


def test_mastery_only_on_mastery_and_attempts_count(db: Database) -> None:
    first = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append_many(db, first, practice(answers=10, correct=7))
    low = closing.close_run(db, first, completed=True, at_ms=600_000, ctx=CTX)
    assert (low.xp, low.mastered) == (Decimal(0), False)  # 70 % < 80 % gate
    progress = runs.get_progress(db, STUDENT, LESSON)
    assert progress is not None
    assert (progress.mastered, progress.attempts) == (False, 1)
    assert Decimal(progress.total_xp) == 0
    assert progress.best_accuracy == 0.7 and progress.mastered_at is None

    second = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append_many(db, second, practice(answers=10, correct=9))
    good = closing.close_run(db, second, completed=True, at_ms=600_000, ctx=CTX)
    # attempt 2, 90 %: 10 minutes x 0.5
    assert (good.xp, good.mastered) == (Decimal(5), True)
    progress = runs.get_progress(db, STUDENT, LESSON)
    assert progress is not None
    assert (progress.mastered, progress.attempts) == (True, 2)
    assert Decimal(progress.total_xp) == 5
    assert progress.best_accuracy == 0.9

    third = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append_many(db, third, practice(answers=10, correct=10))
    quit_early = closing.close_run(db, third, completed=False, at_ms=600_000, ctx=CTX)
    assert (quit_early.xp, quit_early.mastered) == (Decimal(0), False)
    progress = runs.get_progress(db, STUDENT, LESSON)
    assert progress is not None and progress.mastered and progress.attempts == 3


def test_check_abandoned_closes_the_run_at_the_abandonment_instant(db: Database) -> None:
    run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append(db, run_id, Line(10_000, "input"))
    runs.append(db, run_id, Line(12_000, "answer", item="q1", correct=True))
    runs.append_many(db, run_id, [Line(t, "heartbeat") for t in range(15_000, 600_001, 15_000)])
    assert closing.check_abandoned(db, run_id, 605_000, CTX) is False
    assert runs.open_run_id(db) == run_id
    runs.append_many(db, run_id, [Line(t, "heartbeat") for t in range(615_000, 700_001, 15_000)])
    # last signal at 10 s; idle from there (60 s timeout); 600 s later: 610 s
    assert closing.check_abandoned(db, run_id, 700_000, CTX) is True

    run = runs.get_run(db, run_id)
    assert run is not None and run.state == "closed"
    assert (run.completed, run.abandoned, run.end_ms) == (False, True, 610_000)
    assert run.xp is not None and Decimal(run.xp) == 0
    assert runs.journal(db, run_id)[-1] == Line(690_000, "end", completed=False)
    activity = events_of(db, run_id, "ActivityEvent")
    assert metrics(activity[0])["xpEarned"] == 0
    assert activity[0]["eventTime"] == "2026-01-05T09:10:10.000Z"
    spent = reported_ms(events_of(db, run_id, "TimeSpentEvent"))
    assert spent == {"active": 10_000, "inactive": 600_000, "waste": 0, "unknown": 0}
    assert closing.check_abandoned(db, run_id, 800_000, CTX) is False  # already closed


def test_missing_email_closes_now_and_builds_events_later(db: Database) -> None:
    def drop_email(session: Session) -> None:
        user = session.get(RosterUser, STUDENT)
        assert user is not None
        user.email = None
        session.add(user)

    db.write(drop_email)
    run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append_many(db, run_id, practice(answers=10, correct=10))
    assert closing.report_time_spent(db, run_id, 600_000, CTX, window_ms=60_000) == 0
    result = closing.close_run(db, run_id, completed=True, at_ms=600_000, ctx=CTX)

    assert result.pending_reason == runs.NO_EMAIL and result.events == 0
    run = runs.get_run(db, run_id)
    assert run is not None and run.state == "closed"
    assert run.events_pending_reason == "no email in roster"
    progress = runs.get_progress(db, STUDENT, LESSON)
    assert progress is not None and progress.mastered and progress.total_xp == "12.5"
    assert outbox_rows(db) == 0
    assert closing.build_pending_events(db, CTX) == []  # still no email

    def add_email(session: Session) -> None:
        user = session.get(RosterUser, STUDENT)
        assert user is not None
        user.email = "ada@example.org"
        session.add(user)

    db.write(add_email)
    assert closing.build_pending_events(db, CTX, window_ms=60_000) == [run_id]
    run = runs.get_run(db, run_id)
    assert run is not None and run.events_pending_reason is None
    activity = events_of(db, run_id, "ActivityEvent")
    assert metrics(activity[0])["xpEarned"] == 12.5
    spent = events_of(db, run_id, "TimeSpentEvent")
    assert len(spent) == 10
    assert reported_ms(spent)["active"] == 600_000
    count = outbox_rows(db)
    assert closing.build_pending_events(db, CTX) == [] and outbox_rows(db) == count


def test_journal_rows_keep_t_and_kind_columns(db: Database) -> None:
    run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append(db, run_id, Line(1_500, "focus", focused=False, app="game"))
    with db.read() as session:
        rows = session.exec(select(JournalLineRow).where(JournalLineRow.run_id == run_id)).all()
        assert [(r.seq, r.t_ms, r.kind) for r in rows] == [(0, 0, "start"), (1, 1_500, "focus")]
        assert session.exec(select(OutboxItem)).all() == []


def test_save_lessons_fills_the_lessons_table_from_the_catalogue(tmp_path: Path) -> None:
    course = Course(id="read-g2", title="Reading G2", subject="Reading", grade="2")
    settings = LessonSettings(idle_timeout_ms=300_000, expected_xp=Decimal(15))
    catalogue = Catalogue(
        courses=(course,),
        lessons=(
            Lesson("r1", "Sounds", "read-g2", "Reading", "2", 1, settings),
            Lesson("r2", "Words", "read-g2", None, "2", 2),
        ),
    )
    with Database.open(tmp_path / "c.sqlite3", "sandbox") as database:
        assert runs.save_lessons(database, catalogue) == 2
        assert runs.save_lessons(database, catalogue) == 2  # again: updates, no duplicates
        with database.read() as session:
            rows = session.exec(select(LessonRow).order_by(col(LessonRow.sort_order))).all()
            assert [(r.id, r.course_title, r.subject, r.sort_order) for r in rows] == [
                ("r1", "Reading G2", "Reading", 1),
                ("r2", "Reading G2", "Reading", 2),
            ]
            assert runs.lesson_settings(rows[0]) == settings
        run_id = runs.open_run(database, STUDENT, "r1", anchor=ANCHOR)
        assert runs.journal(database, run_id)[0].settings == settings


def test_a_run_with_only_its_start_closes_with_just_an_activity_event(db: Database) -> None:
    run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    result = closing.close_run(db, run_id, completed=False, at_ms=0, ctx=CTX)
    assert (result.end_ms, result.events, result.xp) == (0, 1, Decimal(0))
    assert [e["type"] for e in runs.run_events(db, run_id)] == ["ActivityEvent"]
