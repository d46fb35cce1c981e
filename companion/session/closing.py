"""Closing runs from the journal the database holds: runs no live ``SessionController``
has in memory (left open by a crash, waiting for roster data, closed before summaries
existed), and the same steps for the command line and tests.

Each journal is classified once here, what it produces is computed by
``companion.core.run_outcome``, and the store writes it in one transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime

from companion.core import rules
from companion.core.journal import Line
from companion.core.run_outcome import (
    Delivery,
    EventContext,
    actor_of,
    close_outcome,
    closed_at,
    final_delivery,
    run_info,
    summary_of,
    time_spent_report,
)
from companion.store import notices, runs, summaries
from companion.store.db import Database
from companion.store.lease import Lease
from companion.store.run_tables import RunRow
from companion.store.runs import CloseResult, RunClosed, RunError, UnknownRun

log = logging.getLogger(__name__)

BACKFILL_BATCH = 200


def _open_row(db: Database, run_id: str) -> RunRow:
    row = runs.get_run(db, run_id)
    if row is None:
        raise UnknownRun(run_id)
    if row.state != "open":
        raise RunClosed(run_id)
    return row


def report_time_spent(
    db: Database, run_id: str, now_ms: int, ctx: EventContext, window_ms: int | None = None
) -> int:
    """Write TimeSpentEvents for newly settled time of an open run; returns how many.

    The events and the new ``reported_until_ms`` are written in the same transaction.
    Without an email in the roster nothing is built (the close builds it later).
    """
    row = _open_row(db, run_id)
    actor, _ = actor_of(runs.roster_person(db, row.student_id), ctx.oneroster_base)
    if actor is None:
        return 0
    lines = runs.journal(db, run_id)
    classification = rules.classify(lines, max(now_ms, lines[-1].t))
    info = run_info(runs.run_facts(row), actor, runs.lesson_facts(db, row.lesson_id), ctx)
    report = time_spent_report(
        info, classification, row.reported_until_ms, window_ms or ctx.window_ms, final=False
    )
    if not report.events:
        return 0
    return runs.save_time_spent(db, run_id, report, row.reported_until_ms)


def close_run(
    db: Database,
    run_id: str,
    completed: bool,
    at_ms: int | None,
    ctx: EventContext,
    window_ms: int | None = None,
    *,
    recovered: bool = False,
) -> CloseResult:
    """Close an open run at run time ``at_ms`` (None: at its last line), all in one
    transaction: `end`, the remaining TimeSpentEvents and the ActivityEvent (or why they
    wait), the gradebook result, the progress, the summary and the closed state; with
    ``recovered``, a notice for its student. Raises RunClosed, UnknownRun, ValueError.
    """
    if window_ms is not None and window_ms != ctx.window_ms:
        ctx = EventContext(ctx.oneroster_base, ctx.app, window_ms)
    row = _open_row(db, run_id)
    lines = runs.journal(db, run_id)
    end = Line(lines[-1].t if at_ms is None else at_ms, "end", completed=completed)
    facts = runs.run_facts(row)
    outcome = close_outcome(
        facts,
        lines,
        end,
        runs.roster_person(db, row.student_id),
        runs.lesson_facts(db, row.lesson_id),
        ctx,
        row.reported_until_ms,
    )
    notice = None
    if recovered:
        notice = notices.RecoveredRun(
            run_id=run_id,
            student_id=row.student_id,
            lesson_id=row.lesson_id,
            active_ms=outcome.classification.total("active"),
            attempt_counted=outcome.progress.counts_as_attempt,
            ended_at=outcome.closed_at or row.anchor,
        )
    return runs.save_close(db, outcome, notice)


def check_abandoned(db: Database, run_id: str, now_ms: int, ctx: EventContext) -> bool:
    """Close an open run that the rules find abandoned by ``now_ms``; True when closed.

    The `end` line goes at the abandonment instant (or at the last line, if that is later,
    so that ``t`` never goes backwards); the classification ends at the abandonment instant
    either way.
    """
    lines = runs.journal(db, run_id)
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
    recovered: list[str] = []
    for run_id in runs.open_run_ids(db):
        try:
            closed = close_run(db, run_id, False, None, ctx, recovered=True)
        except RunClosed:
            continue
        log.info("recovered run %s, closed at %d ms", run_id, closed.end_ms)
        recovered.append(run_id)
    return recovered


def build_pending_events(
    db: Database, ctx: EventContext, window_ms: int | None = None
) -> list[str]:
    """Build the events of closed runs that were waiting for an email; returns their ids."""
    if window_ms is not None and window_ms != ctx.window_ms:
        ctx = EventContext(ctx.oneroster_base, ctx.app, window_ms)
    built: list[str] = []
    for run_id in runs.pending_run_ids(db):
        row = runs.get_run(db, run_id)
        if row is None or row.events_pending_reason is None:
            continue
        person = runs.roster_person(db, row.student_id)
        actor, reason = actor_of(person, ctx.oneroster_base)
        if actor is None:
            delivery = Delivery(reported_until_ms=row.reported_until_ms, pending_reason=reason)
        else:
            lines = runs.journal(db, run_id)
            classification = rules.classify(lines)
            score = rules.score(lines, classification)
            delivery = final_delivery(
                runs.run_facts(row),
                classification,
                score,
                person,
                runs.lesson_facts(db, row.lesson_id),
                ctx,
                row.reported_until_ms,
            )
        if runs.save_pending_events(db, run_id, delivery):
            built.append(run_id)
    return built


def backfill_summaries(db: Database) -> int:
    """Summarise closed runs that have none, from their journals; returns how many.

    Cheap when nothing is missing (one query), so reports call it before reading.
    """
    ids = summaries.missing(db)
    done = 0
    for start in range(0, len(ids), BACKFILL_BATCH):
        made = []
        for run in summaries.unsummarised(db, ids[start : start + BACKFILL_BATCH]):
            classification = rules.classify(run.lines)
            score = rules.score(run.lines, classification)
            when = run.closed_at or closed_at(datetime.fromisoformat(run.anchor), classification)
            made.append((run.run_id, summary_of(run.lines, classification, score), when))
        done += summaries.save_summaries(db, made)
    if done:
        log.info("summarised %d runs closed before summaries existed", done)
    return done
