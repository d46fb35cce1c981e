"""Runs in the offline store: open, journal, and write what a closed run produced.

Every function takes the `Database` and does its work in one write (one transaction), so a
run is never half-closed: the `end` line, the final TimeSpentEvents, the ActivityEvent, the
gradebook result, the progress update, the summary and the closed state are written
together or not at all. What they are is computed by the run use case
(``companion.session``) with ``companion.core.run_outcome``; nothing here classifies a
journal or decides what a run earned.

Run time is integer milliseconds from the run's start (the `start` line is at t = 0); the
wall clock appears only as the run's anchor, passed in by the caller, so nothing here reads
a clock of its own. ``EventContext``, ``NO_EMAIL`` and ``NOT_IN_ROSTER`` live in
``companion.core.run_outcome`` and can still be imported from here.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from companion.core import rules, session_types
from companion.core.catalogue import Catalogue
from companion.core.journal import LessonSettings, Line, parse_line
from companion.core.results import ProgressFacts
from companion.core.run_outcome import (
    NO_EMAIL,
    NOT_IN_ROSTER,
    CloseOutcome,
    Delivery,
    LessonFacts,
    RosterPerson,
    RunFacts,
    TimeReport,
    progress_after,
)
from companion.core.run_outcome import EventContext as EventContext  # its old place: here
from companion.store import notices, outbox, results, summaries
from companion.store.db import Database, PendingWrite
from companion.store.run_tables import JournalLineRow, LessonRow, ProgressRow, RunRow
from companion.store.tables import OutboxItem, RosterUser

log = logging.getLogger(__name__)

class RunError(Exception):
    """A run operation that cannot be done."""


class RunAlreadyOpen(RunError, session_types.RunAlreadyOpen):
    """This database already has an open run (one run at a time per computer)."""


class UnknownRun(RunError):
    """No run with this id in the database."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"no run {run_id!r} in this database")
        self.run_id = run_id


class RunClosed(RunError):
    """The run is already closed."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} is already closed")
        self.run_id = run_id


class UnknownLesson(RunError):
    """The lesson is not in the lessons table (call `save_lessons` first)."""


class JournalOutOfStep(RunError):
    """The journal in the database is not the one the writer expected (a line before these
    was not saved); nothing of this write was kept."""


@dataclass(frozen=True, slots=True)
class CloseResult:
    """What closing a run computed and wrote."""

    run_id: str
    end_ms: int
    completed: bool
    abandoned: bool
    xp: Decimal
    mastered: bool
    events: int  # outbox rows written: events and the gradebook result (0 when pending)
    pending_reason: str | None
    active_ms: int = 0  # focused time of the run
    questions: int = 0  # items answered (first answers before any abandonment)
    # the close's own classification and score, for a caller that explains them
    classification: rules.Classification | None = None
    score: rules.Score | None = None


# ---------------------------------------------------------------- lessons


def save_lessons(db: Database, catalogue: Catalogue) -> int:
    """Fill (insert or update) the lessons table from the catalogue; returns the lesson count."""
    courses = {course.id: course for course in catalogue.courses}
    rows = [
        LessonRow(
            id=lesson.id,
            title=lesson.title,
            course_id=lesson.course_id,
            course_title=courses[lesson.course_id].title,
            subject=lesson.subject or courses[lesson.course_id].subject or "None",
            grade=lesson.grade,
            sort_order=lesson.order,
            settings_json=json.dumps(lesson.settings.to_json()),
        )
        for lesson in catalogue.lessons
    ]

    def work(session: Session) -> int:
        for row in rows:
            session.merge(row)
        return len(rows)

    return db.write(work)


def lesson_settings(row: LessonRow) -> LessonSettings:
    """The settings stored with a lesson row."""
    return LessonSettings.from_json(json.loads(row.settings_json or "{}"))


# ---------------------------------------------------------------- open and journal


def open_run(
    db: Database,
    student_id: str,
    lesson_id: str,
    attempt: int | None = None,
    *,
    anchor: datetime,
) -> str:
    """Open a run and write its `start` line; returns the new run id (a UUID).

    ``anchor`` is the run's wall-clock start (timezone-aware). ``attempt`` defaults to the
    student's attempts at this lesson plus one; runs that were not attempts
    (`rules.counts_as_attempt`) are not counted, so a run killed before any answer gives
    its number to the next one. Raises RunAlreadyOpen when any run is open
    in this database, UnknownLesson when the lesson is not stored.
    """
    if anchor.utcoffset() is None:
        raise ValueError("the run's anchor must be timezone-aware")
    anchor_text = anchor.astimezone(UTC).isoformat()
    run_id = str(uuid.uuid4())

    def work(session: Session) -> str:
        existing = session.exec(select(RunRow).where(RunRow.state == "open")).first()
        if existing is not None:
            raise RunAlreadyOpen(existing.run_id)
        lesson = session.get(LessonRow, lesson_id)
        if lesson is None:
            raise UnknownLesson(f"lesson {lesson_id!r} is not in the lessons table")
        n = attempt
        if n is None:
            progress = session.get(ProgressRow, (student_id, lesson_id))
            n = (progress.attempts if progress else 0) + 1
        if n < 1:
            raise ValueError(f"attempt must be at least 1, not {n}")
        session.add(
            RunRow(
                run_id=run_id,
                student_id=student_id,
                lesson_id=lesson_id,
                attempt=n,
                anchor=anchor_text,
                state="open",
                created_at=anchor_text,
            )
        )
        session.flush()
        start = Line(0, "start", lesson=lesson_id, settings=lesson_settings(lesson), attempt=n)
        _add_lines(session, run_id, [start], next_seq=0, last_t=0)
        return run_id

    result: str = db.write(work)
    return result


def append(db: Database, run_id: str, line: Line, first_seq: int | None = None) -> None:
    """Append one line to an open run's journal."""
    append_many(db, run_id, [line], first_seq)


def append_many(
    db: Database, run_id: str, lines: Sequence[Line], first_seq: int | None = None
) -> None:
    """Append lines to an open run's journal in one write.

    ``t`` must not go backwards; `start` and `end` lines are refused (`open_run` and
    `save_close` write them). With ``first_seq``, the journal must have exactly that many
    lines (else JournalOutOfStep, and nothing is written).
    """
    batch = _checked_body(lines)
    if not batch:
        return

    def work(session: Session) -> None:
        _open_run_row(session, run_id)
        seq, last_t = _journal_tail(session, run_id)
        if first_seq is not None and seq != first_seq:
            raise JournalOutOfStep(f"run {run_id} has {seq} journal lines, not {first_seq}")
        _add_lines(session, run_id, batch, next_seq=seq, last_t=last_t)

    db.write(work)


def _checked_body(lines: Sequence[Line]) -> list[Line]:
    batch = list(lines)
    for line in batch:
        if line.kind in ("start", "end"):
            raise ValueError(f"{line.kind!r} lines are written by open_run/save_close")
    return batch


def journal(db: Database, run_id: str) -> list[Line]:
    """The run's journal lines, in order. Raises UnknownRun."""
    with db.read() as session:
        return _journal(session, run_id)


def get_run(db: Database, run_id: str) -> RunRow | None:
    """The run row (a detached copy), or None."""
    with db.read() as session:
        row = session.get(RunRow, run_id)
        if row is None:
            return None
        return RunRow.model_validate(row.model_dump())


def open_run_id(db: Database) -> str | None:
    """The id of this database's open run, if any."""
    with db.read() as session:
        row = session.exec(select(RunRow).where(RunRow.state == "open")).first()
        return None if row is None else row.run_id


def get_progress(db: Database, student_id: str, lesson_id: str) -> ProgressRow | None:
    """A student's progress row for a lesson (a detached copy), or None."""
    with db.read() as session:
        row = session.get(ProgressRow, (student_id, lesson_id))
        if row is None:
            return None
        return ProgressRow.model_validate(row.model_dump())


# ---------------------------------------------------------------- what a run's events need


def run_facts(row: RunRow) -> RunFacts:
    """The facts of a stored run that its events and result carry."""
    return RunFacts(
        run_id=row.run_id,
        student_id=row.student_id,
        lesson_id=row.lesson_id,
        attempt=row.attempt,
        anchor=datetime.fromisoformat(row.anchor),
    )


def lesson_facts(db: Database, lesson_id: str) -> LessonFacts:
    """The stored lesson as its events name it. Raises UnknownLesson."""
    with db.read() as session:
        row = session.get(LessonRow, lesson_id)
    if row is None:
        raise UnknownLesson(f"lesson {lesson_id!r} is not in the lessons table")
    return LessonFacts(row.id, row.title, row.course_id, row.course_title, row.subject)


def roster_person(db: Database, sourced_id: str) -> RosterPerson | None:
    """The cached roster user as events need them, or None when the roster lacks them."""
    with db.read() as session:
        user = session.get(RosterUser, sourced_id)
    if user is None:
        return None
    return RosterPerson(user.sourced_id, user.email, user.given_name, user.family_name,
                        user.role)


def mastered_lessons(db: Database, student_id: str) -> set[str]:
    """Ids of the lessons this student has mastered (on this computer)."""
    with db.read() as session:
        rows = session.exec(
            select(ProgressRow.lesson_id).where(
                ProgressRow.student_id == student_id, ProgressRow.mastered == True  # noqa: E712
            )
        ).all()
        return set(rows)


def progress_of(db: Database, student_id: str) -> dict[str, ProgressRow]:
    """The student's progress rows (detached copies), by lesson id."""
    with db.read() as session:
        rows = session.exec(select(ProgressRow).where(ProgressRow.student_id == student_id))
        return {p.lesson_id: ProgressRow.model_validate(p.model_dump()) for p in rows.all()}


def closed_runs_of(db: Database, student_id: str) -> list[tuple[str, str | None, str | None]]:
    """(run id, XP text, closed at) of the student's closed runs."""
    with db.read() as session:
        rows = session.exec(
            select(RunRow.run_id, RunRow.xp, RunRow.closed_at).where(
                RunRow.student_id == student_id, RunRow.state == "closed"
            )
        ).all()
    return [(run_id, xp, closed_at) for run_id, xp, closed_at in rows]


def open_run_ids(db: Database) -> list[str]:
    """The ids of every run open in this database (one, unless a crash left more)."""
    with db.read() as session:
        return list(session.exec(select(RunRow.run_id).where(RunRow.state == "open")).all())


def pending_run_ids(db: Database) -> list[str]:
    """Closed runs whose events wait for roster data (an email, the student)."""
    with db.read() as session:
        rows = session.exec(
            select(RunRow.run_id).where(
                RunRow.state == "closed", col(RunRow.events_pending_reason).is_not(None)
            )
        ).all()
        return list(rows)


# ---------------------------------------------------------------- writing what a run produced


def record_soon(
    db: Database,
    run_id: str,
    lines: Sequence[Line],
    first_seq: int | None,
    report: TimeReport | None = None,
    reported_from_ms: int = 0,
) -> PendingWrite[int]:
    """Queue one write of an open run's new journal lines and the TimeSpentEvents due with
    them (``report``), without waiting for it; its result is the events written.

    The write checks that the journal has exactly ``first_seq`` lines (unless None) and
    that the run is reported up to ``reported_from_ms``, else it raises JournalOutOfStep
    and keeps nothing;
    so after a write that failed, every later one fails too until the writer starts again
    from what was saved.
    """
    batch = _checked_body(lines)

    def work(session: Session) -> int:
        run = _open_run_row(session, run_id)
        seq, last_t = _journal_tail(session, run_id)
        if first_seq is not None and seq != first_seq:
            raise JournalOutOfStep(f"run {run_id} has {seq} journal lines, not {first_seq}")
        _add_lines(session, run_id, batch, next_seq=seq, last_t=last_t)
        if report is None or not report.events:
            return 0
        if run.reported_until_ms != reported_from_ms:
            raise JournalOutOfStep(
                f"run {run_id} is reported until {run.reported_until_ms} ms, "
                f"not {reported_from_ms} ms"
            )
        outbox.add_events(session, list(report.events), kind="caliper", run_id=run_id)
        run.reported_until_ms = report.reported_until_ms
        session.add(run)
        return len(report.events)

    return db.write_soon(work)


def save_time_spent(db: Database, run_id: str, report: TimeReport, reported_from_ms: int) -> int:
    """Write an open run's due TimeSpentEvents and how far it is now reported, in one
    write; returns how many events."""
    return record_soon(db, run_id, (), None, report, reported_from_ms).result()


def save_close(
    db: Database,
    outcome: CloseOutcome,
    notice: notices.RecoveredRun | None = None,
) -> CloseResult:
    """Close the run with what ``outcome`` says, all in one transaction: the `end` line,
    the final events and gradebook result (or why they wait), the progress, the summary
    and the closed state; with ``notice``, the notice for its student too.

    Raises RunClosed, UnknownRun, and JournalOutOfStep when the journal does not have the
    lines the outcome was computed from.
    """

    def work(session: Session) -> CloseResult:
        run = _open_run_row(session, outcome.run.run_id)
        seq, last_t = _journal_tail(session, run.run_id)
        if seq != outcome.lines:
            raise JournalOutOfStep(
                f"run {run.run_id} has {seq} journal lines, not {outcome.lines}"
            )
        if outcome.end.t < last_t:
            raise ValueError(
                f"cannot close at {outcome.end.t} ms, before the last line ({last_t} ms)"
            )
        _add_lines(session, run.run_id, [outcome.end], seq, last_t)
        written = _write_delivery(session, run, outcome.delivery)
        _add_progress(session, run, outcome)
        summaries.add_summary(session, run, outcome.summary, outcome.closed_at)
        score = outcome.score
        run.state = "closed"
        run.completed = score.completed
        run.abandoned = score.abandoned
        run.xp = str(score.xp)
        run.end_ms = outcome.classification.end
        run.events_pending_reason = outcome.delivery.pending_reason
        run.closed_at = outcome.closed_at
        session.add(run)
        if notice is not None:
            notices.leave_recovered(session, notice)
        return CloseResult(
            run_id=run.run_id,
            end_ms=outcome.classification.end,
            completed=score.completed,
            abandoned=score.abandoned,
            xp=score.xp,
            mastered=score.mastered,
            events=written,
            pending_reason=outcome.delivery.pending_reason,
            active_ms=outcome.classification.total("active"),
            questions=score.questions,
            classification=outcome.classification,
            score=score,
        )

    result: CloseResult = db.write(work)
    return result


def save_pending_events(db: Database, run_id: str, delivery: Delivery) -> bool:
    """Write the events of a closed run that waited for roster data (or, when there still
    are none, the new reason); True when written. A run no longer waiting is left alone."""

    def work(session: Session) -> bool:
        run = session.get(RunRow, run_id)
        if run is None or run.state != "closed" or run.events_pending_reason is None:
            return False
        run.events_pending_reason = delivery.pending_reason
        _write_delivery(session, run, delivery)
        session.add(run)
        return delivery.pending_reason is None

    done: bool = db.write(work)
    return done


def _write_delivery(session: Session, run: RunRow, delivery: Delivery) -> int:
    """Inside a write: a closed run's events and result into the outbox; how many rows."""
    if delivery.pending_reason is not None:
        return 0
    outbox.add_events(session, list(delivery.events), kind="caliper", run_id=run.run_id)
    run.reported_until_ms = delivery.reported_until_ms
    # The gradebook result goes in the same write as the events (issue 7).
    queued = 0
    if delivery.result is not None:
        queued = int(results.queue_envelope(session, delivery.result, run_id=run.run_id))
    return len(delivery.events) + queued


def _add_progress(session: Session, run: RunRow, outcome: CloseOutcome) -> None:
    row = session.get(ProgressRow, (run.student_id, run.lesson_id))
    if row is None:
        row = ProgressRow(student_id=run.student_id, lesson_id=run.lesson_id)
    before = ProgressFacts(
        mastered=row.mastered,
        attempts=row.attempts,
        best_accuracy=row.best_accuracy,
        total_xp=Decimal(row.total_xp),
        mastered_at=row.mastered_at,
    )
    after = progress_after(before, outcome.progress)
    row.mastered = after.mastered
    row.attempts = after.attempts
    row.best_accuracy = after.best_accuracy
    row.total_xp = str(after.total_xp)
    row.mastered_at = after.mastered_at
    session.add(row)


# ---------------------------------------------------------------- journal rows


def _open_or_closed_row(session: Session, run_id: str) -> RunRow:
    run = session.get(RunRow, run_id)
    if run is None:
        raise UnknownRun(run_id)
    return run


def _open_run_row(session: Session, run_id: str) -> RunRow:
    run = session.get(RunRow, run_id)
    if run is None:
        raise UnknownRun(run_id)
    if run.state != "open":
        raise RunClosed(run_id)
    return run


def _journal_tail(session: Session, run_id: str) -> tuple[int, int]:
    """(next seq, last t) of a run's journal."""
    row = session.exec(
        select(JournalLineRow)
        .where(JournalLineRow.run_id == run_id)
        .order_by(col(JournalLineRow.seq).desc())
        .limit(1)
    ).first()
    if row is None:
        return 0, 0
    return row.seq + 1, row.t_ms


def _add_lines(
    session: Session, run_id: str, lines: Sequence[Line], next_seq: int, last_t: int
) -> None:
    for offset, line in enumerate(lines):
        if line.t < last_t:
            raise ValueError(f"t goes backwards: {line.t} ms after {last_t} ms")
        last_t = line.t
        session.add(
            JournalLineRow(
                run_id=run_id,
                seq=next_seq + offset,
                t_ms=line.t,
                kind=line.kind,
                data=json.dumps(line.to_json(), ensure_ascii=False),
            )
        )


def _journal(session: Session, run_id: str) -> list[Line]:
    rows = session.exec(
        select(JournalLineRow)
        .where(JournalLineRow.run_id == run_id)
        .order_by(col(JournalLineRow.seq))
    ).all()
    if not rows:
        if session.get(RunRow, run_id) is None:
            raise UnknownRun(run_id)
        return []
    return [parse_line(json.loads(r.data), r.seq + 1) for r in rows]


def count_lines(db: Database, run_id: str) -> int:
    """How many journal lines a run has."""
    with db.read() as session:
        n = session.exec(
            select(func.count()).select_from(JournalLineRow).where(JournalLineRow.run_id == run_id)
        ).one()
        return int(n)


def run_events(db: Database, run_id: str) -> list[dict[str, Any]]:
    """The run's events in the outbox (any state), oldest first, as decoded payloads."""
    with db.read() as session:
        rows = session.exec(
            select(OutboxItem).where(OutboxItem.run_id == run_id).order_by(col(OutboxItem.id))
        ).all()
        return [json.loads(r.payload) for r in rows]


def closed_run_ids(db: Database, student_id: str | None = None) -> list[str]:
    """Ids of closed runs (optionally one student's), oldest first."""
    statement = select(RunRow.run_id).where(RunRow.state == "closed")
    if student_id is not None:
        statement = statement.where(RunRow.student_id == student_id)
    with db.read() as session:
        return list(session.exec(statement.order_by(col(RunRow.created_at))).all())


@dataclass(frozen=True)
class WaitingRuns:
    """Closed runs of one student whose events cannot be built yet, and why."""

    student_id: str
    name: str  # the roster name, or the sourcedId when the roster does not know them
    reason: str
    runs: int

    def text(self) -> str:
        """Why, in words a person reads: "no email in the roster for Noah Smith"."""
        if self.reason == NO_EMAIL:
            return f"no email in the roster for {self.name}"
        if self.reason == NOT_IN_ROSTER:
            return f"{self.name} is not in the roster"
        return f"{self.reason} ({self.name})"


def waiting_runs(db: Database) -> list[WaitingRuns]:
    """Closed runs waiting for roster data (an email, the student), grouped by student."""
    with db.read() as session:
        rows = session.exec(
            select(RunRow.student_id, RunRow.events_pending_reason, func.count())
            .where(RunRow.state == "closed", col(RunRow.events_pending_reason).is_not(None))
            .group_by(col(RunRow.student_id), col(RunRow.events_pending_reason))
            .order_by(RunRow.student_id)
        ).all()
        out = []
        for student_id, reason, count in rows:
            user = session.get(RosterUser, student_id)
            name = " ".join(p for p in (user.given_name, user.family_name) if p) if user else ""
            out.append(WaitingRuns(student_id, name or student_id, str(reason), int(count)))
    return out
