"""Tables for lessons, per-student progress, runs and their journals.

``companion.store.db`` imports this module so that ``create_all`` creates these tables.
Times of day are UTC ISO-8601 text; run time is integer milliseconds; XP is Decimal text.
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class LessonRow(SQLModel, table=True):
    """One lesson of the catalogue, with its settings as journal-style JSON."""

    __tablename__ = "lessons"

    id: str = Field(primary_key=True)
    title: str = ""
    course_id: str = Field(default="", index=True)
    course_title: str = ""
    subject: str = ""
    grade: str | None = None
    sort_order: int = 0
    settings_json: str = "{}"  # LessonSettings.to_json()


class ProgressRow(SQLModel, table=True):
    """A student's progress in one lesson, updated when a run closes."""

    __tablename__ = "progress"

    student_id: str = Field(primary_key=True)
    lesson_id: str = Field(primary_key=True)
    mastered: bool = False
    attempts: int = 0
    best_accuracy: float | None = None
    total_xp: str = "0"  # Decimal text
    mastered_at: str | None = None  # UTC ISO text


class RunRow(SQLModel, table=True):
    """One attempt at one lesson by one student."""

    __tablename__ = "runs"

    run_id: str = Field(primary_key=True)  # UUID text
    student_id: str = Field(index=True)
    lesson_id: str = Field(index=True)
    attempt: int = 1
    anchor: str  # wall-clock start, UTC ISO text
    state: str = Field(default="open", index=True)  # open | closed
    completed: bool | None = None
    abandoned: bool | None = None
    xp: str | None = None  # Decimal text, set on close
    end_ms: int | None = None  # run time at which the classification ends
    reported_until_ms: int = 0  # TimeSpentEvents built up to here
    events_pending_reason: str | None = None  # e.g. "no email in roster"
    created_at: str = ""
    closed_at: str | None = None
    content_session_time: str | None = None  # a SCORM package's own; never used for time


class JournalLineRow(SQLModel, table=True):
    """One journal line of a run; ``data`` is the line in the export format (JSON)."""

    __tablename__ = "journal_lines"

    run_id: str = Field(primary_key=True, foreign_key="runs.run_id")
    seq: int = Field(primary_key=True)
    t_ms: int
    kind: str
    data: str


class RunSummaryRow(SQLModel, table=True):
    """What a closed run produced, kept after its journal is removed (data care).

    Written in the transaction that closes the run (or filled later for runs closed before
    summaries existed). Minutes are kept per kind of time (``core.words``) in milliseconds.
    """

    __tablename__ = "run_summaries"

    run_id: str = Field(primary_key=True, foreign_key="runs.run_id")
    student_id: str = Field(index=True)
    lesson_id: str
    attempt: int = 1
    started_at: str = Field(index=True)  # the run's anchor, UTC ISO text
    closed_at: str = ""  # UTC ISO text
    focused_ms: int = 0
    idle_ms: int = 0
    away_ms: int = 0
    off_task_ms: int = 0
    not_seen_ms: int = 0
    questions: int = 0
    correct: int = 0
    xp: str = "0"  # Decimal text
    completed: bool = False
    abandoned: bool = False
    mastered: bool = False
    explanation: str = "[]"  # JSON list of rules.explain lines
    journal_removed_at: str | None = None  # UTC ISO text, once data care removed the journal


class RunAnswerRow(SQLModel, table=True):
    """The first answer to one question in a closed run: right or wrong (never its text)."""

    __tablename__ = "run_answers"

    run_id: str = Field(primary_key=True, foreign_key="runs.run_id")
    item: str = Field(primary_key=True)
    position: int = 0  # order of the first answers in the run, from 0
    correct: bool = False


class ContentResumeRow(SQLModel, table=True):
    """What a SCORM package asked to keep for a student's next attempt at a lesson."""

    __tablename__ = "content_resume"

    student_id: str = Field(primary_key=True)
    lesson_id: str = Field(primary_key=True)
    suspend_data: str = ""
    location: str = ""
    updated_at: str = ""  # UTC ISO text
