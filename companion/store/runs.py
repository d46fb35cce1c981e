"""Runs in the offline store: open, journal, report settled time, close, recover.

Every function takes the `Database` and does its work in one write (one transaction), so a
run is never half-closed: the `end` line, the final TimeSpentEvents, the ActivityEvent, the
progress update and the closed state are written together or not at all.

Run time is integer milliseconds from the run's start (the `start` line is at t = 0); the
wall clock appears only as the run's anchor, passed in by the caller, so nothing here reads
a clock of its own.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, func, select

from companion.core import caliper, rules, session_types, timespent
from companion.core.caliper import ActivityInfo, Actor, AppInfo, MissingEmail, RunInfo
from companion.core.catalogue import Catalogue
from companion.core.journal import LessonSettings, Line, parse_line
from companion.store import notices, outbox, results, summaries
from companion.store.db import Database
from companion.store.lease import Lease
from companion.store.run_tables import JournalLineRow, LessonRow, ProgressRow, RunRow
from companion.store.tables import OutboxItem, RosterUser

log = logging.getLogger(__name__)

DEFAULT_WINDOW_MS = 300_000
NO_EMAIL = "no email in roster"
NOT_IN_ROSTER = "student not in roster"


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


@dataclass(frozen=True, slots=True)
class EventContext:
    """What events need besides the store: this app and the OneRoster base URL."""

    oneroster_base: str
    app: AppInfo = field(default=caliper.DEFAULT_APP)
    window_ms: int = DEFAULT_WINDOW_MS


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


def append(db: Database, run_id: str, line: Line) -> None:
    """Append one line to an open run's journal."""
    append_many(db, run_id, [line])


def append_many(db: Database, run_id: str, lines: Sequence[Line]) -> None:
    """Append lines to an open run's journal in one write.

    ``t`` must not go backwards; `start` and `end` lines are refused (`open_run` and
    `close_run` write them).
    """
    batch = list(lines)
    if not batch:
        return
    for line in batch:
        if line.kind in ("start", "end"):
            raise ValueError(f"{line.kind!r} lines are written by open_run/close_run")

    def work(session: Session) -> None:
        _open_run_row(session, run_id)
        seq, last_t = _journal_tail(session, run_id)
        _add_lines(session, run_id, batch, next_seq=seq, last_t=last_t)

    db.write(work)


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


# ---------------------------------------------------------------- reporting and closing


def report_time_spent(
    db: Database, run_id: str, now_ms: int, ctx: EventContext, window_ms: int | None = None
) -> int:
    """Write TimeSpentEvents for newly settled time of an open run; returns how many.

    The events and the new ``reported_until_ms`` are written in the same transaction.
    Without an email in the roster nothing is built (the close builds it later).
    """
    size = window_ms or ctx.window_ms

    def work(session: Session) -> int:
        run = _open_run_row(session, run_id)
        actor, _ = _actor(session, run.student_id, ctx)
        if actor is None:
            return 0
        lines = _journal(session, run_id)
        now = max(now_ms, lines[-1].t)
        classification = rules.classify(lines, now)
        windows = timespent.due_windows(classification, run.reported_until_ms, size, final=False)
        if not windows:
            return 0
        info = _run_info(session, run, actor, ctx)
        events = [
            caliper.time_spent_event(info, s, e, timespent.window_totals(classification, s, e))
            for s, e in windows
        ]
        outbox.add_events(session, events, kind="caliper", run_id=run_id)
        run.reported_until_ms = windows[-1][1]
        session.add(run)
        return len(events)

    count: int = db.write(work)
    return count


def close_run(
    db: Database,
    run_id: str,
    completed: bool,
    at_ms: int,
    ctx: EventContext,
    window_ms: int | None = None,
) -> CloseResult:
    """Close an open run at run time ``at_ms``, all in one transaction.

    Appends `end`, classifies and scores the journal, writes the remaining TimeSpentEvents
    and the ActivityEvent to the outbox (or records why they are pending), updates the
    student's progress and marks the run closed.
    """
    size = window_ms or ctx.window_ms

    def work(session: Session) -> CloseResult:
        return _close(session, run_id, completed, at_ms, ctx, size)

    result: CloseResult = db.write(work)
    return result


def _close(
    session: Session,
    run_id: str,
    completed: bool,
    at_ms: int | None,
    ctx: EventContext,
    size: int,
) -> CloseResult:
    """Inside a write: append `end` at ``at_ms`` (None: at the last line) and finish."""
    run = _open_run_row(session, run_id)
    seq, last_t = _journal_tail(session, run_id)
    at = last_t if at_ms is None else at_ms
    if at < last_t:
        raise ValueError(f"cannot close at {at} ms, before the last line ({last_t} ms)")
    _add_lines(session, run_id, [Line(at, "end", completed=completed)], seq, last_t)
    return _finish(session, run, ctx, size)


def check_abandoned(db: Database, run_id: str, now_ms: int, ctx: EventContext) -> bool:
    """Close an open run that the rules find abandoned by ``now_ms``; True when closed.

    The `end` line goes at the abandonment instant (or at the last line, if that is later,
    so that ``t`` never goes backwards); the classification ends at the abandonment instant
    either way.
    """
    lines = journal(db, run_id)
    classification = rules.classify(lines, max(now_ms, lines[-1].t))
    if classification.abandoned_at is None:
        return False
    at = max(classification.abandoned_at, lines[-1].t)
    try:
        close_run(db, run_id, completed=False, at_ms=at, ctx=ctx)
    except RunClosed:
        return False
    return True


def recover_orphaned_runs(db: Database, lease: Lease, ctx: EventContext) -> list[str]:
    """Close runs left open by a process that is gone; returns their ids.

    The caller must hold the lease (so the previous owner's lease has expired or its
    process is gone) and must not have opened a run of its own yet. Each run is closed
    with ``completed: false`` at the ``t`` of its last journal line, through the same path
    as `close_run`, and leaves a notice for its student (``notices``) in the same write.
    """
    if not lease.held:
        raise RunError("recovery needs the lease; another process may own the open run")

    def open_ids(session: Session) -> list[str]:
        rows = session.exec(select(RunRow.run_id).where(RunRow.state == "open")).all()
        return list(rows)

    recovered: list[str] = []
    ids: list[str] = db.write(open_ids)
    for run_id in ids:

        def work(session: Session, run_id: str = run_id) -> CloseResult:
            closed = _close(session, run_id, False, None, ctx, ctx.window_ms)
            run = _open_or_closed_row(session, run_id)
            notices.leave_recovered(
                session,
                notices.RecoveredRun(
                    run_id=run_id,
                    student_id=run.student_id,
                    lesson_id=run.lesson_id,
                    active_ms=closed.active_ms,
                    attempt_counted=rules.counts_as_attempt(closed.questions, closed.completed),
                    ended_at=run.closed_at or run.anchor,
                ),
            )
            return closed

        try:
            closed: CloseResult = db.write(work)
        except RunClosed:
            continue
        log.info("recovered run %s, closed at %d ms", run_id, closed.end_ms)
        recovered.append(run_id)
    return recovered


def build_pending_events(
    db: Database, ctx: EventContext, window_ms: int | None = None
) -> list[str]:
    """Build the events of closed runs that were waiting for an email; returns their ids."""
    size = window_ms or ctx.window_ms

    def pending(session: Session) -> list[str]:
        rows = session.exec(
            select(RunRow.run_id).where(
                RunRow.state == "closed", col(RunRow.events_pending_reason).is_not(None)
            )
        ).all()
        return list(rows)

    built: list[str] = []
    for run_id in db.write(pending):

        def work(session: Session, run_id: str = run_id) -> bool:
            run = session.get(RunRow, run_id)
            if run is None or run.events_pending_reason is None:
                return False
            actor, reason = _actor(session, run.student_id, ctx)
            if actor is None:
                run.events_pending_reason = reason
                session.add(run)
                return False
            lines = _journal(session, run_id)
            classification = rules.classify(lines)
            result = rules.score(lines, classification)
            _write_final_events(session, run, actor, ctx, size, classification, result)
            run.events_pending_reason = None
            session.add(run)
            return True

        if db.write(work):
            built.append(run_id)
    return built


def _finish(session: Session, run: RunRow, ctx: EventContext, size: int) -> CloseResult:
    lines = _journal(session, run.run_id)
    classification = rules.classify(lines)
    result = rules.score(lines, classification)
    events = 0
    actor, reason = _actor(session, run.student_id, ctx)
    if actor is not None:
        try:
            events = _write_final_events(session, run, actor, ctx, size, classification, result)
        except MissingEmail:
            reason = NO_EMAIL
    anchor = datetime.fromisoformat(run.anchor)
    closed_at = (anchor + timedelta(milliseconds=classification.end)).isoformat()
    _update_progress(session, run, result, closed_at)
    summaries.add_summary(session, run, lines, classification, result, closed_at)
    run.state = "closed"
    run.completed = result.completed
    run.abandoned = result.abandoned
    run.xp = str(result.xp)
    run.end_ms = classification.end
    run.events_pending_reason = reason
    run.closed_at = closed_at
    session.add(run)
    return CloseResult(
        run_id=run.run_id,
        end_ms=classification.end,
        completed=result.completed,
        abandoned=result.abandoned,
        xp=result.xp,
        mastered=result.mastered,
        events=events,
        pending_reason=reason,
        active_ms=classification.total("active"),
        questions=result.questions,
    )


def _write_final_events(
    session: Session,
    run: RunRow,
    actor: Actor,
    ctx: EventContext,
    size: int,
    classification: rules.Classification,
    result: rules.Score,
) -> int:
    info = _run_info(session, run, actor, ctx)
    windows = timespent.due_windows(classification, run.reported_until_ms, size, final=True)
    events = [
        caliper.time_spent_event(info, s, e, timespent.window_totals(classification, s, e))
        for s, e in windows
    ]
    events.append(
        caliper.activity_completed_event(
            info,
            classification.end,
            result.questions,
            result.correct,
            result.xp,
            result.mastered,
            result.app_scored,
            result.content_scored,
        )
    )
    outbox.add_events(session, events, kind="caliper", run_id=run.run_id)
    if windows:
        run.reported_until_ms = windows[-1][1]
    # The gradebook result goes in the same write as the events (issue 7).
    queued = results.queue_run_result(session, run, result, ctx.app.app_id, classification.end)
    return len(events) + queued


def _update_progress(session: Session, run: RunRow, result: rules.Score, when: str) -> None:
    progress = session.get(ProgressRow, (run.student_id, run.lesson_id))
    if progress is None:
        progress = ProgressRow(student_id=run.student_id, lesson_id=run.lesson_id)
    if rules.counts_as_attempt(result.questions, result.completed):
        progress.attempts = max(progress.attempts, run.attempt)
    progress.total_xp = str(Decimal(progress.total_xp) + result.xp)
    if result.accuracy is not None:
        accuracy = float(result.accuracy)
        if progress.best_accuracy is None or accuracy > progress.best_accuracy:
            progress.best_accuracy = accuracy
    if result.mastered and not progress.mastered:
        progress.mastered = True
        progress.mastered_at = when
    session.add(progress)


# ---------------------------------------------------------------- events: who and what


def _actor(session: Session, student_id: str, ctx: EventContext) -> tuple[Actor | None, str | None]:
    """The roster user as an event actor, or (None, why not) when events cannot name them."""
    user = session.get(RosterUser, student_id)
    if user is None:
        return None, NOT_IN_ROSTER
    if not user.email or not user.email.strip():
        return None, NO_EMAIL
    name = " ".join(p for p in (user.given_name, user.family_name) if p) or None
    actor = Actor(
        user_url=caliper.user_url(ctx.oneroster_base, student_id),
        email=user.email.strip(),
        role=_role(user.role),
        name=name,
    )
    return actor, None


def _role(raw: str | None) -> str:
    """A OneRoster role as one of the Caliper profile's roles (student when unsure)."""
    role = (raw or "student").strip()
    if role == "administrator":
        return "admin"
    return role if role in caliper.ROLES else "student"


def _run_info(session: Session, run: RunRow, actor: Actor, ctx: EventContext) -> RunInfo:
    lesson = session.get(LessonRow, run.lesson_id)
    if lesson is None:
        raise UnknownLesson(f"lesson {run.lesson_id!r} is not in the lessons table")
    subject = lesson.subject if lesson.subject in caliper.SUBJECTS else "None"
    activity = ActivityInfo(
        subject=subject,
        course_id_url=caliper.course_url(ctx.oneroster_base, lesson.course_id or lesson.id),
        course_name=lesson.course_title or lesson.course_id,
        activity_id_url=caliper.component_url(ctx.oneroster_base, lesson.id),
        activity_name=lesson.title or lesson.id,
    )
    return RunInfo(
        run_id=run.run_id,
        anchor=datetime.fromisoformat(run.anchor),
        attempt=run.attempt,
        actor=actor,
        activity=activity,
        app=ctx.app,
    )


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
