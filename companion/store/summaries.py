"""Run summaries: what each closed run produced, so reports never classify journals again.

``add_summary`` runs inside the write that closes a run; for runs closed before summaries
existed (a version-1 database) ``unsummarised`` and ``save_summaries`` read their journals
and write the summaries the session computes from them. Per-question results keep the item
id and right or wrong only, never an answer's text.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from companion.core.journal import Line, parse_line
from companion.core.report import Answer
from companion.core.run_outcome import RunSummary
from companion.store.db import Database
from companion.store.run_tables import (
    JournalLineRow,
    LessonRow,
    RunAnswerRow,
    RunRow,
    RunSummaryRow,
)
from companion.store.tables import OutboxState

log = logging.getLogger(__name__)


def summary_rows(
    run: RunRow, summary: RunSummary, closed_at: str
) -> tuple[RunSummaryRow, list[RunAnswerRow]]:
    """The summary row and answer rows of a closed run (not yet added to a session)."""
    row = RunSummaryRow(
        run_id=run.run_id,
        student_id=run.student_id,
        lesson_id=run.lesson_id,
        attempt=run.attempt,
        started_at=run.anchor,
        closed_at=closed_at,
        focused_ms=summary.focused_ms,
        idle_ms=summary.idle_ms,
        away_ms=summary.away_ms,
        off_task_ms=summary.off_task_ms,
        not_seen_ms=summary.not_seen_ms,
        questions=summary.questions,
        correct=summary.correct,
        xp=str(summary.xp),
        completed=summary.completed,
        abandoned=summary.abandoned,
        mastered=summary.mastered,
        explanation=json.dumps(list(summary.explanation), ensure_ascii=False),
    )
    answers = [
        RunAnswerRow(run_id=run.run_id, item=a.item, position=i, correct=a.correct)
        for i, a in enumerate(summary.answers)
    ]
    return row, answers


def add_summary(session: Session, run: RunRow, summary: RunSummary, closed_at: str) -> None:
    """Write a closed run's summary and answers inside the caller's write."""
    row, answers = summary_rows(run, summary, closed_at)
    session.merge(row)
    for answer in answers:
        session.merge(answer)


def missing(db: Database) -> list[str]:
    """Closed runs without a summary (runs closed before summaries existed)."""
    with db.read() as session:
        rows = session.exec(
            select(RunRow.run_id)
            .outerjoin(RunSummaryRow, col(RunSummaryRow.run_id) == col(RunRow.run_id))
            .where(RunRow.state == "closed", col(RunSummaryRow.run_id).is_(None))
            .order_by(col(RunRow.created_at))
        ).all()
    return list(rows)


@dataclass(frozen=True, slots=True)
class Unsummarised:
    """A closed run without a summary, with its journal (to summarise it from)."""

    run_id: str
    anchor: str  # UTC ISO text
    closed_at: str | None
    lines: list[Line]


def unsummarised(db: Database, run_ids: Sequence[str]) -> list[Unsummarised]:
    """These closed runs, with their journals, if they still have no summary (runs with
    no journal lines are left out)."""
    out: list[Unsummarised] = []
    with db.read() as session:
        for run_id in run_ids:
            run = session.get(RunRow, run_id)
            if run is None or session.get(RunSummaryRow, run_id) is not None:
                continue
            rows = session.exec(
                select(JournalLineRow)
                .where(JournalLineRow.run_id == run_id)
                .order_by(col(JournalLineRow.seq))
            ).all()
            if not rows:
                continue
            lines = [parse_line(json.loads(r.data), r.seq + 1) for r in rows]
            out.append(Unsummarised(run_id, run.anchor, run.closed_at, lines))
    return out


def save_summaries(db: Database, made: Sequence[tuple[str, RunSummary, str]]) -> int:
    """Write (run id, summary, closed at) for runs that still have none, in one write;
    returns how many were written."""

    def work(session: Session) -> int:
        n = 0
        for run_id, summary, closed_at in made:
            run = session.get(RunRow, run_id)
            if run is None or session.get(RunSummaryRow, run_id) is not None:
                continue
            add_summary(session, run, summary, closed_at)
            n += 1
        return n

    written: int = db.write(work)
    return written


SUMMARY_COLUMNS = (
    "run_id", "student_id", "lesson_id", "attempt", "started_at", "closed_at", "focused_ms",
    "idle_ms", "away_ms", "off_task_ms", "not_seen_ms", "questions", "correct", "xp",
    "completed", "abandoned", "mastered", "explanation", "journal_removed_at",
)


@dataclass(frozen=True, slots=True)
class Summary:
    """A run's stored summary as a plain value (what reports read, fast)."""

    run_id: str
    student_id: str
    lesson_id: str
    attempt: int
    started_at: str
    closed_at: str
    focused_ms: int
    idle_ms: int
    away_ms: int
    off_task_ms: int
    not_seen_ms: int
    questions: int
    correct: int
    xp: str
    completed: bool
    abandoned: bool
    mastered: bool
    explanation: str
    journal_removed_at: str | None


def _raw(db: Database, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Rows of a read straight from the driver (many rows: no per-row wrapping)."""
    with db.read() as session:
        driver = session.connection().connection.dbapi_connection
        assert driver is not None
        return list(driver.execute(sql, params).fetchall())


def _summaries(db: Database, where: str, params: tuple[Any, ...]) -> list[Summary]:
    sql = (f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM run_summaries WHERE {where} "
           "ORDER BY started_at, run_id")
    rows = _raw(db, sql, params)
    out = []
    for r in rows:
        values = list(r)
        for i in (14, 15, 16):  # completed, abandoned, mastered
            values[i] = bool(values[i])
        out.append(Summary(*values))
    return out


def in_range(
    db: Database, start_utc: str, end_utc: str, student_ids: Sequence[str] | None = None
) -> list[Summary]:
    """Summaries of runs started in [start_utc, end_utc) (UTC ISO text), oldest first."""
    where = "started_at >= ? AND started_at < ?"
    params: tuple[Any, ...] = (start_utc, end_utc)
    if student_ids is not None:
        if not student_ids:
            return []
        where += f" AND student_id IN ({','.join('?' * len(student_ids))})"
        params += tuple(student_ids)
    return _summaries(db, where, params)


def answers_in_range(
    db: Database, start_utc: str, end_utc: str, student_ids: Sequence[str] | None = None
) -> dict[str, list[Answer]]:
    """The first answers of the runs ``in_range`` returns, in order, by run id."""
    where = "s.started_at >= ? AND s.started_at < ?"
    params: tuple[Any, ...] = (start_utc, end_utc)
    if student_ids is not None:
        if not student_ids:
            return {}
        where += f" AND s.student_id IN ({','.join('?' * len(student_ids))})"
        params += tuple(student_ids)
    rows = _raw(db, "SELECT a.run_id, a.item, a.correct FROM run_answers a "
                    f"JOIN run_summaries s ON s.run_id = a.run_id WHERE {where} "
                    "ORDER BY a.run_id, a.position", params)
    out: dict[str, list[Answer]] = {}
    for run_id, item, correct in rows:
        out.setdefault(run_id, []).append(Answer(item, bool(correct)))
    return out


def for_student(db: Database, student_id: str) -> list[Summary]:
    """Every summary of one student, oldest first."""
    return _summaries(db, "student_id = ?", (student_id,))


def get(db: Database, run_id: str) -> Summary | None:
    """One run's summary."""
    found = _summaries(db, "run_id = ?", (run_id,))
    return found[0] if found else None


def answers(db: Database, run_ids: Sequence[str]) -> dict[str, list[Answer]]:
    """The first answers of these runs, in order, by run id."""
    out: dict[str, list[Answer]] = {run_id: [] for run_id in run_ids}
    if not run_ids:
        return out
    wanted = set(run_ids)
    with db.read() as session:
        conn = session.connection()
        if len(wanted) > 500:  # many runs: one pass over the table beats many IN lists
            rows = conn.exec_driver_sql(
                "SELECT run_id, item, correct FROM run_answers ORDER BY run_id, position"
            ).all()
        else:
            rows = conn.exec_driver_sql(
                f"SELECT run_id, item, correct FROM run_answers WHERE run_id IN "
                f"({','.join('?' * len(wanted))}) ORDER BY run_id, position",
                tuple(wanted),
            ).all()
    for run_id, item, correct in rows:
        if run_id in wanted:
            out[run_id].append(Answer(item, bool(correct)))
    return out


def explanation(row: Summary | RunSummaryRow) -> list[str]:
    """The stored lines that explain a run's XP and mastery."""
    value = json.loads(row.explanation or "[]")
    return [str(v) for v in value] if isinstance(value, list) else []


def stored_lessons(db: Database) -> list[LessonRow]:
    """Every lesson in the lessons table (titles for reports), by course and order."""
    with db.read() as session:
        rows = session.exec(
            select(LessonRow).order_by(col(LessonRow.course_id), col(LessonRow.sort_order))
        ).all()
        return [LessonRow.model_validate(r.model_dump()) for r in rows]


# ---------------------------------------------------------------- data care


def journals_due_for_removal(db: Database, keep_days: int, now: datetime) -> list[str]:
    """Closed runs whose every outbox row was delivered more than ``keep_days`` ago.

    A run with anything not delivered (pending, in flight, refused, or events not built
    yet) never qualifies; nor does a run without a summary.
    """
    if keep_days < 1:
        raise ValueError("journals are kept at least one day after delivery")
    cutoff = (now - timedelta(days=keep_days)).astimezone(UTC).isoformat(timespec="microseconds")
    with db.read() as session:
        rows = session.connection().exec_driver_sql(
            "SELECT r.run_id FROM runs r JOIN run_summaries s ON s.run_id = r.run_id "
            "JOIN outbox o ON o.run_id = r.run_id "
            "WHERE r.state = 'closed' AND r.events_pending_reason IS NULL "
            "AND s.journal_removed_at IS NULL "
            "GROUP BY r.run_id "
            "HAVING SUM(o.state != ?) = 0 AND MAX(o.acked_at) <= ? "
            "ORDER BY r.created_at",
            (OutboxState.DELIVERED.value, cutoff),
        ).all()
    return [str(r[0]) for r in rows]


def remove_delivered_journals(db: Database, keep_days: int, now: datetime) -> list[str]:
    """Remove the journals of runs delivered more than ``keep_days`` ago; returns the runs.

    Each run keeps its summary and per-question results; the summary records the day its
    journal was removed (``audit`` says so). Checked again inside the write, so a row that
    went back to pending meanwhile keeps its journal.
    """
    due = journals_due_for_removal(db, keep_days, now)
    stamp = now.astimezone(UTC).isoformat()

    def work(session: Session) -> list[str]:
        removed = []
        conn = session.connection()
        for run_id in due:
            undelivered = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM outbox WHERE run_id = ? AND state != ?",
                (run_id, OutboxState.DELIVERED.value),
            ).scalar_one()
            summary = session.get(RunSummaryRow, run_id)
            if undelivered or summary is None:
                continue
            conn.exec_driver_sql("DELETE FROM journal_lines WHERE run_id = ?", (run_id,))
            summary.journal_removed_at = stamp
            session.add(summary)
            removed.append(run_id)
        return removed

    removed: list[str] = db.write(work) if due else []
    if removed:
        log.info("removed %d journals delivered more than %d days ago", len(removed), keep_days)
    return removed


def mastered_by_student(db: Database, student_ids: Sequence[str]) -> dict[str, set[str]]:
    """The lessons each of these students has mastered on this computer (one query)."""
    out: dict[str, set[str]] = {sid: set() for sid in student_ids}
    if not student_ids:
        return out
    with db.read() as session:
        rows = session.connection().exec_driver_sql(
            "SELECT student_id, lesson_id FROM progress WHERE mastered = 1"
        ).all()
    for student_id, lesson_id in rows:
        if student_id in out:
            out[student_id].add(lesson_id)
    return out
