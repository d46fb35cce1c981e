"""A recorder process for the crash-recovery test, and the seed data the run tests share.

Run as ``python -m tests.store.run_child DB_PATH [--no-answer]``: it takes the lease, opens
a run, appends journal lines (without the answer with ``--no-answer``), prints
``ready <run_id>`` and then blocks until it is killed.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from companion.core.journal import LessonSettings, Line
from companion.store import runs
from companion.store.db import Database
from companion.store.run_tables import LessonRow
from companion.store.tables import RosterUser

ANCHOR = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
STUDENT = "stu-1"
LESSON = "fractions-1"
NEXT_LESSON = "fractions-2"
CTX = runs.EventContext(oneroster_base="https://sandbox.example/")
SETTINGS = LessonSettings(idle_timeout_ms=60_000, abandon_after_ms=600_000)

# What the child writes after `start`: a minute of work, then heartbeats only.
CHILD_LINES = (
    Line(5_000, "input"),
    Line(20_000, "answer", item="q1", correct=True),
    Line(30_000, "input"),
    Line(45_000, "heartbeat"),
    Line(60_000, "input"),
    Line(75_000, "heartbeat"),
    Line(90_000, "heartbeat"),
)
NO_ANSWER_LINES = tuple(line for line in CHILD_LINES if line.kind != "answer")


def seed(db: Database, email: str | None = "ada@example.org") -> None:
    """Two lessons of a Math course and one student (with ``email``) in the roster."""

    def work(session: Session) -> None:
        for order, lesson_id in enumerate((LESSON, NEXT_LESSON)):
            session.add(
                LessonRow(
                    id=lesson_id,
                    title=f"Fractions {order + 1}",
                    course_id="math-g3",
                    course_title="Math G3",
                    subject="Math",
                    grade="3",
                    sort_order=order,
                    settings_json=json.dumps(SETTINGS.to_json()),
                )
            )
        session.add(
            RosterUser(
                sourced_id=STUDENT, given_name="Ada", family_name="L", email=email, role="student"
            )
        )

    db.write(work)


def main(db_path: str, answer: bool = True) -> int:
    """Open a run, journal a little, say ready, then wait to be killed."""
    from companion.store.lease import Lease

    db = Database.open(Path(db_path), "sandbox")
    lease = Lease(db, name="owner", ttl_s=30)
    if not lease.try_acquire():
        print("no lease", flush=True)
        return 1
    run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append_many(db, run_id, list(CHILD_LINES if answer else NO_ANSWER_LINES))
    print(f"ready {run_id}", flush=True)
    sys.stdin.read()  # blocks until killed (or until the parent closes our stdin)
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], answer="--no-answer" not in sys.argv[2:]))
