"""Shared set-up for the results tests: a two-lesson course, a computer's database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import httpx
from sqlmodel import Session

from companion.core import results
from companion.core.caliper import DEFAULT_APP
from companion.core.catalogue import Catalogue, Course, Lesson
from companion.core.journal import LessonSettings, Line
from companion.core.rules import Score
from companion.session import closing
from companion.store import runs
from companion.store.db import Database
from companion.store.results import queue_result
from companion.store.tables import RosterUser
from companion.sync.results import ResultCounts, deliver_results
from companion.timeback import GradebookClient, auth_for, gradebook_client, sandbox_environment

ANCHOR = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
STUDENT = "demo-student-01"  # in the sandbox's demo roster
COURSE = "demo-course-1"
LESSON_1 = "gb-lesson-1"
LESSON_2 = "gb-lesson-2"
APP_ID = DEFAULT_APP.app_id
CTX = runs.EventContext(oneroster_base="https://sandbox.example/")
SETTINGS = LessonSettings(idle_timeout_ms=60_000, abandon_after_ms=600_000,
                          expected_xp=Decimal(8), min_questions=5)

CATALOGUE = Catalogue(
    courses=(Course(COURSE, "Companion Demo Course", "Math", "05"),),
    lessons=(
        Lesson(LESSON_1, "Fractions 1", COURSE, "Math", "05", 1, SETTINGS),
        Lesson(LESSON_2, "Fractions 2", COURSE, "Math", "05", 2, SETTINGS),
    ),
)


def open_computer(path: Path) -> Database:
    """A computer's database with the catalogue's lessons and the student in its roster."""
    db = Database.open(path, "sandbox")
    runs.save_lessons(db, CATALOGUE)

    def add_student(session: Session) -> None:
        session.add(RosterUser(sourced_id=STUDENT, given_name="Ava", family_name="Johnson",
                               email="ava.johnson@demo.school", role="student"))

    db.write(add_student)
    return db


def study(db: Database, lesson_id: str, correct: int, answers: int = 5,
          minutes: int = 10) -> runs.CloseResult:
    """One completed run: input every 30 s for ``minutes``, ``correct`` of ``answers`` right."""
    run_id = runs.open_run(db, STUDENT, lesson_id, anchor=ANCHOR)
    lines = [Line(t, "input") for t in range(30_000, minutes * 60_000 + 1, 30_000)]
    lines += [Line(1_000 + i * 10_000, "answer", item=f"q{i}", correct=i < correct)
              for i in range(answers)]
    runs.append_many(db, run_id, sorted(lines, key=lambda line: line.t))
    return closing.close_run(db, run_id, completed=True, at_ms=minutes * 60_000, ctx=CTX)


def client_for(url: str, timeout_s: float = 5.0) -> GradebookClient:
    env = sandbox_environment(url)
    return gradebook_client(env, auth_for(env), timeout=httpx.Timeout(timeout_s))


def deliver_all(db: Database, client: GradebookClient, rounds: int = 60) -> list[ResultCounts]:
    """Deliver until nothing is due, moving a fake clock past every backoff (no sleeping)."""
    now = datetime.now(UTC)  # rows are queued at the real time; later passes move on
    rng = random.Random(7)
    passes = []
    for _ in range(rounds):
        counts = deliver_results(db, client, now, max_items=10, rng=rng)
        passes.append(counts)
        if counts == ResultCounts():
            break
        now += timedelta(seconds=400)  # past the backoff cap (300 s) and any Retry-After
    return passes


PERFECT = Score(questions=5, correct=5, accuracy=Fraction(1), completed=True, abandoned=False,
                active_ms=600_000, gate_passed=True, multiplier=Fraction(5, 4), capped=False,
                xp=Decimal("10.0"), mastered=True, attempt=1)


def queue_results(db: Database, lessons: list[str], first: int = 0) -> None:
    """Queue a perfect result of a distinct run for each of ``lessons``, in one write."""

    def work(session: Session) -> None:
        for i, lesson_id in enumerate(lessons, start=first):
            info = results.RunResult(APP_ID, STUDENT, lesson_id,
                                     f"00000000-0000-4000-8000-{i:012d}",
                                     "2026-01-05T09:10:00.000Z")
            queue_result(session, results.result_payload(info, PERFECT))

    db.write(work)
