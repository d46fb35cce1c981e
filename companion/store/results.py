"""AssessmentResults in the outbox: queued with the run that earned them, claimed for PUT.

A result waits in the outbox as a row of kind ``gradebook.result`` whose ``event_id`` is the
result's deterministic sourcedId, so queueing it twice keeps one row. The payload is the
envelope from ``companion.core.results.result_envelope`` (typed, with the PUT body inside).
A result whose line item is missing on the server is *held* (state held, ``hold_reason``
starting with HELD_REASON), tried again now and then, and at once after `companion content
push` (``release_held``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from companion.core import results
from companion.store import outbox
from companion.store.db import Database
from companion.store.tables import DeliveryState, OutboxItem

RESULT_KIND = "gradebook.result"
HELD_REASON = "line item missing: run `companion content push`"


def queue_result(
    session: Session,
    payload: Mapping[str, Any],
    *,
    run_id: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue one AssessmentResult inside the caller's write; False if already queued."""
    envelope = results.result_envelope(payload)
    return outbox.add_item(session, RESULT_KIND, envelope["sourcedId"], envelope,
                           run_id=run_id, now=now)


def queue_envelope(
    session: Session, envelope: Mapping[str, Any], *, run_id: str | None = None
) -> bool:
    """Queue a result already in its outbox envelope (``results.run_result_envelope``)
    inside the caller's write; False if already queued."""
    return outbox.add_item(session, RESULT_KIND, envelope["sourcedId"], envelope,
                           run_id=run_id)


def body_of(row: OutboxItem) -> dict[str, Any]:
    """The AssessmentResult (the PUT body's record) that an outbox row carries."""
    envelope = json.loads(row.payload)
    record = envelope.get("assessmentResult") if isinstance(envelope, dict) else None
    if not isinstance(record, dict):
        raise ValueError(f"outbox row {row.id} holds no assessmentResult")
    return record


def claim_results(db: Database, max_items: int = 100, *, now: datetime) -> list[OutboxItem]:
    """Take due pending and held results, and results left in flight by a crash, oldest
    first (a held result due again is tried again: its line item may exist by now).

    The caller holds the delivery lease, so a result still in flight at this point was
    being sent by a process that is gone; a PUT is idempotent, so it is simply sent again.
    Claimed rows become in_flight with one more attempt, in one write.
    """

    def claim(session: Session) -> list[OutboxItem]:
        due = col(OutboxItem.state).in_([DeliveryState.PENDING, DeliveryState.HELD]) & (
            col(OutboxItem.next_attempt_at) <= now
        )
        orphaned = col(OutboxItem.state) == DeliveryState.IN_FLIGHT
        rows = session.exec(
            select(OutboxItem)
            .where(OutboxItem.kind == RESULT_KIND)
            .where(due | orphaned)
            .order_by(col(OutboxItem.id))
            .limit(max_items)
        ).all()
        for row in rows:
            row.state = DeliveryState.IN_FLIGHT
            row.attempts += 1
            row.updated_at = now
            row.settle_until = None
        session.flush()
        return list(rows)

    return db.write(claim)


def local_results(db: Database, student_id: str) -> list[dict[str, Any]]:
    """Every result this computer wrote for the student (any state), as PUT records."""
    with db.read() as session:
        rows = session.exec(
            select(OutboxItem).where(OutboxItem.kind == RESULT_KIND).order_by(col(OutboxItem.id))
        ).all()
    out = []
    for row in rows:
        record = body_of(row)
        student = record.get("student")
        if isinstance(student, dict) and student.get("sourcedId") == student_id:
            out.append(record)
    return out


def release_held(db: Database, now: datetime) -> int:
    """Results held for a missing line item become pending, due now; returns how many."""
    statement = (
        update(OutboxItem)
        .where(col(OutboxItem.kind) == RESULT_KIND)
        .where(col(OutboxItem.state) == DeliveryState.HELD)
        .values(state=DeliveryState.PENDING, next_attempt_at=now, updated_at=now,
                last_error=col(OutboxItem.hold_reason), hold_reason=None)
    )
    return db.write(lambda session: int(session.connection().execute(statement).rowcount))


def held_count(db: Database) -> int:
    """How many results wait for their line item."""
    with db.read() as session:
        rows = session.exec(
            select(OutboxItem.id)
            .where(OutboxItem.kind == RESULT_KIND)
            .where(OutboxItem.state == DeliveryState.HELD)
        ).all()
    return len(rows)
