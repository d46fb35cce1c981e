"""Open runs as the machine service keeps them: one open run per student, many per computer.

``companion.store.runs`` opens one run at a time per database, which is right for a
personal computer. The machine service serves every account of a classroom computer from
one database, so it opens a run per student (a second open run of the same student is
refused) and appends the journal lines the app streams at the sequence numbers the app
gave them: a line already stored is acknowledged again and not stored twice. Closing,
reporting time and abandonment go through ``companion.store.runs`` by run id as before.

The wire's sequence numbers are the journal's own: the `start` line is 0, the app's lines
count from 1.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, select

from companion.core.journal import Line
from companion.store.db import Database
from companion.store.journal_appends import Append, apply_appends, check_lines
from companion.store.journal_appends import SequenceGap as SequenceGap  # raised by append_at
from companion.store.run_tables import JournalLineRow, LessonRow, ProgressRow, RunRow
from companion.store.runs import RunClosed, RunError, UnknownLesson, UnknownRun, lesson_settings


class StudentRunOpen(RunError):
    """The student already has an open run on this computer."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"this student's run {run_id} is still open")
        self.run_id = run_id


@dataclass(frozen=True, slots=True)
class OpenRun:
    """An open run: whose, which lesson, its wall-clock anchor, its journal's end."""

    run_id: str
    student_id: str
    lesson_id: str
    attempt: int
    anchor: datetime
    last_seq: int
    last_t: int


def open_runs(db: Database) -> list[OpenRun]:
    """Every open run of this database, oldest first."""
    with db.read() as session:
        rows = session.exec(
            select(RunRow).where(RunRow.state == "open").order_by(col(RunRow.created_at))
        ).all()
        return [_open_run(session, row) for row in rows]


def get_open_run(db: Database, run_id: str) -> OpenRun:
    """The open run ``run_id``; UnknownRun or RunClosed."""
    with db.read() as session:
        row = session.get(RunRow, run_id)
        if row is None:
            raise UnknownRun(run_id)
        if row.state != "open":
            raise RunClosed(run_id)
        return _open_run(session, row)


def open_student_run(db: Database, student_id: str, lesson_id: str, *, anchor: datetime) -> OpenRun:
    """Open a run of ``lesson_id`` for ``student_id`` and write its `start` line.

    The attempt is the student's attempts at the lesson plus one. StudentRunOpen when the
    student has an open run (checked in the same transaction as the insert), UnknownLesson
    when the lesson is not stored.
    """
    if anchor.utcoffset() is None:
        raise ValueError("the run's anchor must be timezone-aware")
    anchor_text = anchor.astimezone(UTC).isoformat()
    run_id = str(uuid.uuid4())

    def work(session: Session) -> OpenRun:
        existing = session.exec(
            select(RunRow).where(RunRow.state == "open", RunRow.student_id == student_id)
        ).first()
        if existing is not None:
            raise StudentRunOpen(existing.run_id)
        lesson = session.get(LessonRow, lesson_id)
        if lesson is None:
            raise UnknownLesson(f"lesson {lesson_id!r} is not in the lessons table")
        progress = session.get(ProgressRow, (student_id, lesson_id))
        attempt = (progress.attempts if progress else 0) + 1
        row = RunRow(
            run_id=run_id,
            student_id=student_id,
            lesson_id=lesson_id,
            attempt=attempt,
            anchor=anchor_text,
            state="open",
            created_at=anchor_text,
        )
        session.add(row)
        session.flush()
        start = Line(
            0, "start", lesson=lesson_id, settings=lesson_settings(lesson), attempt=attempt
        )
        session.add(_line_row(run_id, 0, start))
        return OpenRun(run_id, student_id, lesson_id, attempt, anchor.astimezone(UTC), 0, 0)

    result: OpenRun = db.write(work)
    return result


def append_at(db: Database, run_id: str, first_seq: int, lines: Sequence[Line]) -> int:
    """Store ``lines`` as journal lines ``first_seq``, ``first_seq + 1``, ... of an open run.

    Lines whose seq is already stored are skipped (a re-send after a reconnect); the rest
    must follow the journal's end without a gap (SequenceGap) and must not go back in time
    (ValueError). `start` and `end` are refused (ValueError). All or nothing, in one write
    of its own (``journal_appends.GroupedAppends`` shares a write among many appends).
    Returns the last seq the journal now holds.
    """
    check_lines(first_seq, lines)

    def work(session: Session) -> int:
        outcome = apply_appends(session, [Append(run_id, first_seq, lines)])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    result: int = db.write(work)
    return result


def _tail(session: Session, run_id: str) -> tuple[int, int]:
    row = session.exec(
        select(JournalLineRow)
        .where(JournalLineRow.run_id == run_id)
        .order_by(col(JournalLineRow.seq).desc())
        .limit(1)
    ).first()
    return (-1, 0) if row is None else (row.seq, row.t_ms)


def _open_run(session: Session, row: RunRow) -> OpenRun:
    last_seq, last_t = _tail(session, row.run_id)
    anchor = datetime.fromisoformat(row.anchor)
    if anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=UTC)
    return OpenRun(row.run_id, row.student_id, row.lesson_id, row.attempt, anchor, last_seq, last_t)


def _line_row(run_id: str, seq: int, line: Line) -> JournalLineRow:
    return JournalLineRow(
        run_id=run_id,
        seq=seq,
        t_ms=line.t,
        kind=line.kind,
        data=json.dumps(line.to_json(), ensure_ascii=False),
    )
