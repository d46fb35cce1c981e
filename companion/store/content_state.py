"""What lesson content keeps between attempts, and with a run (SCORM packages).

``load_resume`` / ``save_resume``: a package's ``suspend_data`` and location, per student and
lesson, given back on the next attempt. ``keep_session_time``: the package's own
``session_time``, stored with the run for reference only (focused time is the app's own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from companion.store.db import Database
from companion.store.run_tables import ContentResumeRow, RunRow

MAX_SUSPEND_DATA = 64 * 1024  # SCORM 2004 4th edition allows 64,000 characters
MAX_LOCATION = 1000
MAX_SESSION_TIME = 64


@dataclass(frozen=True, slots=True)
class Resume:
    """A student's saved place in a lesson."""

    suspend_data: str
    location: str


def load_resume(db: Database, student_id: str, lesson_id: str) -> Resume | None:
    """The saved place, or None when the student has none for the lesson."""
    with db.read() as session:
        row = session.get(ContentResumeRow, (student_id, lesson_id))
        return None if row is None else Resume(row.suspend_data, row.location)


def save_resume(
    db: Database, student_id: str, lesson_id: str, resume: Resume, now: datetime
) -> None:
    """Keep the place (cut to the sizes SCORM allows); ValueError for text that is too long."""
    if len(resume.suspend_data) > MAX_SUSPEND_DATA or len(resume.location) > MAX_LOCATION:
        raise ValueError("suspend_data or location is longer than SCORM allows")

    def work(session: Session) -> None:
        row = session.get(ContentResumeRow, (student_id, lesson_id))
        if row is None:
            row = ContentResumeRow(student_id=student_id, lesson_id=lesson_id)
        row.suspend_data = resume.suspend_data
        row.location = resume.location
        row.updated_at = now.isoformat()
        session.add(row)

    db.write(work)


def keep_session_time(db: Database, run_id: str, session_time: str) -> None:
    """Store the package's session_time with the run (text, as the package said it)."""
    value = session_time[:MAX_SESSION_TIME]

    def work(session: Session) -> None:
        row = session.get(RunRow, run_id)
        if row is not None:
            row.content_session_time = value
            session.add(row)

    db.write(work)


def session_time_of(db: Database, run_id: str) -> str | None:
    """The package's session_time kept with a run, or None."""
    with db.read() as session:
        row = session.get(RunRow, run_id)
        return None if row is None else row.content_session_time
