"""A run killed before any answer does not use up an attempt (a real SIGKILLed recorder)."""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from companion.core.catalogue import Catalogue, Course, Lesson
from companion.core.clock import FakeClock
from companion.core.periods import today
from companion.session import closing
from companion.session.library import LibraryView
from companion.session.report import build_report
from companion.session.run import SessionController
from companion.store import outbox, runs
from companion.store.db import Database
from companion.store.lease import Lease
from companion.store.results import RESULT_KIND
from companion.system.fakes import FakeFocus, FakeInput, FakeLock
from tests.store.run_child import ANCHOR, CTX, LESSON, NEXT_LESSON, SETTINGS, STUDENT, seed
from tests.store.test_run_recovery import start_child

COURSE = Course("math-g3", "Math G3", "Math", "3")
CATALOGUE = Catalogue(
    (COURSE,),
    (
        Lesson(LESSON, "Fractions 1", "math-g3", "Math", "3", 0, SETTINGS),
        Lesson(NEXT_LESSON, "Fractions 2", "math-g3", "Math", "3", 1, SETTINGS),
    ),
)


def killed_run(db_path: Path, *args: str) -> str:
    """A recorder opens a run, journals a little, and is SIGKILLed; returns its run id."""
    child, run_id = start_child(db_path, *args)
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    assert child.returncode == -signal.SIGKILL
    return run_id


def recover(db: Database) -> list[str]:
    later = time.time() + 120  # past the dead recorder's lease
    lease = Lease(db, ttl_s=30, clock=lambda: later)
    assert lease.try_acquire()
    return closing.recover_orphaned_runs(db, lease, CTX)


def results_of(db: Database) -> list[dict[str, Any]]:
    """The metadata of the gradebook results in the outbox, oldest first."""
    rows = [row for row in outbox.list_items(db) if row.kind == RESULT_KIND]
    return [json.loads(row.payload)["assessmentResult"]["metadata"] for row in rows]


def study_perfectly(db: Database) -> tuple[int, float]:
    """Ten focused minutes with four right answers through the session controller."""
    clock = FakeClock(monotonic_ms=9_000_000)
    keys = FakeInput(clock)
    ctl = SessionController(db, clock, CTX, CATALOGUE, keys, FakeFocus(), FakeLock())
    handle = ctl.start(STUDENT, LESSON)
    for i in range(600):
        clock.advance(1000)
        if i % 5 == 0:
            keys.touch()
        ctl.tick()
        if i % 150 == 149:
            ctl.answer(f"q{i}", True)
    summary = ctl.complete()
    return handle.attempt, summary.multiplier


def test_a_run_killed_before_any_answer_is_not_an_attempt(tmp_path: Path) -> None:
    db_path = tmp_path / "companion-sandbox.sqlite3"
    with Database.open(db_path, "sandbox") as db:
        seed(db)
    lost = killed_run(db_path, "--no-answer")

    with Database.open(db_path, "sandbox") as db:
        assert recover(db) == [lost]
        # Its time is still reported; it yields no gradebook result and counts no attempt.
        types = [e["type"] for e in runs.run_events(db, lost)]
        assert types.count("TimeSpentEvent") == 1
        assert results_of(db) == []
        progress = runs.get_progress(db, STUDENT, LESSON)
        assert progress is not None and progress.attempts == 0

        # The first real attempt is attempt 1 and earns the first-attempt multiplier.
        attempt, multiplier = study_perfectly(db)
        assert (attempt, multiplier) == (1, 1.25)
        [metadata] = results_of(db)
        assert metadata["attempt"] == 1
        view = LibraryView(db, CATALOGUE, FakeClock())
        [course] = view.lessons_for(STUDENT)
        assert course.lessons[0].attempts == 1  # "Tried 1 time", not 2
        # The guide's report counts one attempt, and the time of both runs.
        closing.backfill_summaries(db)
        period = today(datetime(2026, 1, 5, 9, 30, tzinfo=UTC), UTC)
        [row] = build_report(db, period, tz=UTC, student_ids=[STUDENT]).students
        assert (row.attempts, row.minutes["focused"]) == (1, 11.5)


def test_a_run_killed_after_an_answer_is_an_attempt(tmp_path: Path) -> None:
    db_path = tmp_path / "companion-sandbox.sqlite3"
    with Database.open(db_path, "sandbox") as db:
        seed(db)
    lost = killed_run(db_path)

    with Database.open(db_path, "sandbox") as db:
        assert recover(db) == [lost]
        [metadata] = results_of(db)
        assert metadata["attempt"] == 1
        attempt, multiplier = study_perfectly(db)
        assert (attempt, multiplier) == (2, 1.0)
        assert sorted(m["attempt"] for m in results_of(db)) == [1, 2]


def test_the_student_is_told_once_what_happened_to_the_interrupted_lesson(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "companion-sandbox.sqlite3"
    with Database.open(db_path, "sandbox") as db:
        seed(db)
    lost = killed_run(db_path, "--no-answer")

    with Database.open(db_path, "sandbox") as db:
        assert recover(db) == [lost]
        view = LibraryView(db, CATALOGUE, FakeClock(), tz=UTC)
        assert view.take_notices("someone-else") == []
        [text] = view.take_notices(STUDENT)
        # 90 s of the child's journal, all focused; closed at its last line, 09:01:30 UTC.
        assert text == (
            "Your lesson 'Fractions 1' stopped at 09:01 on Monday because the app closed "
            "unexpectedly. Its 1.5 focused minutes were kept and reported; it ended without "
            "XP. It did not count as an attempt. You can start it again."
        )
        assert view.take_notices(STUDENT) == []  # shown once


def test_a_run_with_no_focused_time_is_told_without_minutes(tmp_path: Path) -> None:
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as db:
        seed(db)
        runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)  # then the process died at once
        recover(db)
        [text] = LibraryView(db, CATALOGUE, FakeClock(), tz=UTC).take_notices(STUDENT)
        assert "Its time was kept and reported; it ended without XP." in text
        assert "focused" not in text
