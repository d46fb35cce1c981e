"""A class that studied: the roster, a small course and runs closed through the real store.

Shared by the report tests, the `companion report` tests and ``bench/report.py``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from companion.core.catalogue import Catalogue, Course, Lesson
from companion.core.journal import LessonSettings, Line
from companion.session import closing
from companion.store import runs
from companion.store.db import Database
from companion.store.tables import RosterClass, RosterEnrollment, RosterUser

CLASS_ID = "cls-3a"
OTHER_CLASS = "cls-4b"
TEACHER = "tch-1"
CTX = runs.EventContext(oneroster_base="https://sandbox.example/")
SETTINGS = LessonSettings(idle_timeout_ms=60_000, abandon_after_ms=600_000)
COURSE = Course("math-g3", "Math G3", "Math", "3")
CATALOGUE = Catalogue(
    courses=(COURSE,),
    lessons=tuple(
        Lesson(f"add-{i}", f"Adding {i}", COURSE.id, "Math", "3", i, SETTINGS)
        for i in range(1, 5)
    ),
)
LESSONS = tuple(lesson.id for lesson in CATALOGUE.lessons)


def student_id(n: int) -> str:
    """The id of seeded student ``n``."""
    return f"stu-{n:03d}"


def seed_roster(db: Database, students: int, *, disabled: Sequence[int] = ()) -> None:
    """One class of ``students`` (those in ``disabled`` turned off), a teacher, the course."""

    def work(session: Session) -> None:
        session.add(RosterClass(sourced_id=CLASS_ID, title="Class 3A"))
        session.add(RosterClass(sourced_id=OTHER_CLASS, title="Class 4B"))
        session.add(RosterUser(sourced_id=TEACHER, given_name="Grace", family_name="Hopper",
                               email="grace@example.org", role="teacher"))
        session.add(RosterEnrollment(sourced_id="enr-t", role="teacher", user_sourced_id=TEACHER,
                                     class_sourced_id=CLASS_ID))
        for n in range(students):
            sid = student_id(n)
            session.add(RosterUser(
                sourced_id=sid, given_name=f"Student{n:03d}", family_name="Test",
                email=f"{sid}@example.org", role="student",
                enabled_user="false" if n in disabled else "true",
            ))
            session.add(RosterEnrollment(sourced_id=f"enr-{sid}", role="student",
                                         user_sourced_id=sid, class_sourced_id=CLASS_ID))

    db.write(work)
    runs.save_lessons(db, CATALOGUE)


@dataclass(frozen=True, slots=True)
class Study:
    """One run to record: who, which lesson, when, for how long, which answers."""

    student: str
    lesson: str
    start: datetime
    minutes: int
    answers: tuple[bool, ...]
    completed: bool = True
    off_task_s: int = 0


def journal_for(study: Study) -> list[Line]:
    """Input every 20 s for the minutes, the answers spread over them, optional focus loss."""
    end = study.minutes * 60_000
    lines = [Line(t, "input") for t in range(20_000, end + 1, 20_000)]
    step = max(1, end // (len(study.answers) + 1))
    for i, right in enumerate(study.answers):
        lines.append(Line(step * (i + 1) + 7, "answer", item=f"q{i + 1}", correct=right))
    if study.off_task_s:
        lines.append(Line(30_001, "focus", focused=False, app="game"))
        lines.append(Line(30_001 + study.off_task_s * 1000, "focus", focused=True))
        lines = [ln for ln in lines
                 if not (ln.kind == "input" and 30_001 < ln.t <= 30_001 + study.off_task_s * 1000)]
    return sorted(lines, key=lambda line: line.t)


def record(db: Database, study: Study) -> str:
    """Open, journal and close one run through the store; returns its id."""
    run_id = runs.open_run(db, study.student, study.lesson, anchor=study.start)
    lines = journal_for(study)
    runs.append_many(db, run_id, lines)
    end = max(study.minutes * 60_000, lines[-1].t if lines else 0)
    closing.close_run(db, run_id, completed=study.completed, at_ms=end, ctx=CTX)
    return run_id


def month_of_study(
    db: Database, students: int, days: int, per_day: int, first_day: datetime, seed: int = 7
) -> int:
    """``students`` × ``days`` × ``per_day`` runs of 5 to 12 minutes; returns the run count."""
    rng = random.Random(seed)
    count = 0
    for d in range(days):
        day = first_day + timedelta(days=d)
        for n in range(students):
            at = day.replace(hour=8, minute=0, tzinfo=UTC) + timedelta(minutes=n % 30)
            for k in range(per_day):
                minutes = rng.randint(5, 12)
                answers = tuple(rng.random() < 0.85 for _ in range(rng.randint(4, 8)))
                record(db, Study(student_id(n), LESSONS[k % len(LESSONS)], at, minutes,
                                 answers, off_task_s=rng.choice((0, 0, 45))))
                at += timedelta(minutes=minutes + 1)
                count += 1
    return count
