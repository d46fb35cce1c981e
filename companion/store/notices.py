"""Notices kept for a student until they next sign in: a lesson closed by crash recovery.

When recovery closes a run that a crashed or killed process left open, it leaves a notice
for the run's student in ``store_meta`` (key ``notice.recovered.<run id>``, a small JSON
object), so that the student sees at their next sign-in what happened to that lesson. A
notice is taken (read and removed in one write): it is shown once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, col, select

from companion.store.db import Database
from companion.store.meta import put_meta
from companion.store.tables import StoreMeta

PREFIX = "notice.recovered."


@dataclass(frozen=True, slots=True)
class RecoveredRun:
    """A run that recovery closed: whose, which lesson, its focused time and when it ended."""

    run_id: str
    student_id: str
    lesson_id: str
    active_ms: int
    attempt_counted: bool  # rules.counts_as_attempt of the closed run
    ended_at: str  # UTC ISO text


def leave_recovered(session: Session, notice: RecoveredRun) -> None:
    """Inside a write: keep ``notice`` until its student next signs in."""
    value = {
        "student": notice.student_id,
        "lesson": notice.lesson_id,
        "activeMs": notice.active_ms,
        "attempt": notice.attempt_counted,
        "endedAt": notice.ended_at,
    }
    put_meta(session, {PREFIX + notice.run_id: json.dumps(value)})


def take_recovered(db: Database, student_id: str) -> list[RecoveredRun]:
    """The student's notices, oldest first, removed from the store in the same write.

    A notice that cannot be read is removed too (and not returned).
    """

    def work(session: Session) -> list[RecoveredRun]:
        rows = session.exec(
            select(StoreMeta).where(col(StoreMeta.key).startswith(PREFIX))
        ).all()
        out: list[RecoveredRun] = []
        for row in rows:
            notice = _parse(row.key.removeprefix(PREFIX), row.value)
            if notice is not None and notice.student_id != student_id:
                continue
            session.delete(row)
            if notice is not None:
                out.append(notice)
        return sorted(out, key=lambda n: n.ended_at)

    taken: list[RecoveredRun] = db.write(work)
    return taken


def _parse(run_id: str, text: str) -> RecoveredRun | None:
    try:
        value = json.loads(text)
        return RecoveredRun(
            run_id=run_id,
            student_id=str(value["student"]),
            lesson_id=str(value["lesson"]),
            active_ms=int(value["activeMs"]),
            attempt_counted=bool(value["attempt"]),
            ended_at=str(value["endedAt"]),
        )
    except (ValueError, KeyError, TypeError):
        return None
