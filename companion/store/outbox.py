"""The outbox: deliveries waiting to be sent, one row per event.

Rows go in with ``add_events`` inside the write that produced them (e.g. the one that closes
a run), so that nothing is made without being queued. The sync worker claims batches,
then marks them acked, pending again (with a next attempt time), or dead.
States: pending -> in_flight -> acked | pending | dead; dead -> pending by ``retry_dead``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.dialects.sqlite import insert
from sqlmodel import Session, col, select

from companion.store.db import Database
from companion.store.tables import OutboxItem, OutboxState, UtcDateTime, utc_now

__all__ = [
    "Claimed",
    "OutboxItem",
    "OutboxState",
    "StudentDeliveries",
    "ack_in",
    "add_events",
    "add_item",
    "by_student",
    "claim_batch",
    "claim_in",
    "counts",
    "get",
    "in_flight",
    "list_items",
    "make_due",
    "mark_acked",
    "mark_dead",
    "mark_pending",
    "mark_settling",
    "next_due_at",
    "oldest_pending_age",
    "recover_in_flight",
    "release_unsent",
    "retry_dead",
    "settling_due",
    "undelivered_by_run",
]


def add_item(
    session: Session,
    kind: str,
    event_id: str,
    payload: Mapping[str, Any],
    *,
    run_id: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue one delivery inside the caller's write; False if ``event_id`` is already queued."""
    now = now or utc_now()
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    statement = (
        insert(OutboxItem)
        .values(
            event_id=event_id,
            kind=kind,
            payload=text,
            size_bytes=len(text.encode("utf-8")),
            state=OutboxState.PENDING.value,
            attempts=0,
            run_id=run_id,
            created_at=now,
            updated_at=now,
            next_attempt_at=now,
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
    result = session.connection().execute(statement)
    return bool(result.rowcount)


def add_events(
    session: Session,
    events: Iterable[Mapping[str, Any]],
    kind: str = "caliper",
    run_id: str | None = None,
    *,
    now: datetime | None = None,
) -> int:
    """Queue events (each with its unique ``id``) inside the caller's write.

    Returns how many were new; an ``id`` already in the outbox is ignored.
    """
    added = 0
    for event in events:
        event_id = event.get("id")
        if not isinstance(event_id, str) or not event_id:
            raise ValueError("every outbox event needs a non-empty string 'id'")
        added += add_item(session, kind, event_id, event, run_id=run_id, now=now)
    return added


_UNDONE = (OutboxState.PENDING.value, OutboxState.IN_FLIGHT.value)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row taken for sending (now in_flight): what delivery needs, without the ORM."""

    id: int
    event_id: str
    kind: str
    payload: str  # the event's JSON text, as queued
    size_bytes: int
    attempts: int  # counting this one
    last_error: str | None
    state: str = OutboxState.IN_FLIGHT.value


_TIME = UtcDateTime()
_DIALECT = sqlite_dialect()


def as_text(moment: datetime) -> str:
    """A time as the outbox stores it (so that text comparisons in SQL are time order)."""
    text = _TIME.process_bind_param(moment, _DIALECT)
    assert text is not None
    return text


def _marks(count: int) -> str:
    return ",".join("?" * count)


_CLAIM_SELECT = (
    "SELECT id, event_id, kind, payload, size_bytes, attempts, last_error FROM outbox "
    "WHERE kind = ? AND state = ? AND next_attempt_at <= ? ORDER BY id LIMIT ?"
)

CALIPER_KIND = "caliper"  # the rows this module's batches and settling are about


def claim_in(
    session: Session, max_events: int, max_bytes: int, *, now: datetime
) -> list[Claimed]:
    """``claim_batch`` inside the caller's write (so that it can share a transaction)."""
    conn = session.connection()
    rows = conn.exec_driver_sql(
        _CLAIM_SELECT, (CALIPER_KIND, OutboxState.PENDING.value, as_text(now), max_events)
    ).all()
    batch: list[Claimed] = []
    total = 0
    for row in rows:
        if batch and total + row[4] > max_bytes:
            break
        total += row[4]
        batch.append(Claimed(row[0], row[1], row[2], row[3], row[4], row[5] + 1, row[6]))
    if batch:
        conn.exec_driver_sql(
            f"UPDATE outbox SET state = ?, attempts = attempts + 1, updated_at = ? "
            f"WHERE id IN ({_marks(len(batch))})",
            (OutboxState.IN_FLIGHT.value, as_text(now), *(c.id for c in batch)),
        )
    return batch


def claim_batch(
    db: Database, max_events: int = 100, max_bytes: int = 500_000, *, now: datetime
) -> list[Claimed]:
    """Take the oldest due pending Caliper rows (at most ``max_events`` and ``max_bytes``).

    The rows become in_flight with one more attempt, in one write. The first row is
    taken even if it alone is larger than ``max_bytes``, so that it cannot block the queue.
    """
    return db.write(lambda session: claim_in(session, max_events, max_bytes, now=now))


def ack_in(session: Session, ids: Sequence[int], job_id: str | None, now: datetime) -> int:
    """Mark pending/in_flight rows acked inside the caller's write; returns how many changed."""
    if not ids:
        return 0
    stamp = as_text(now)
    result = session.connection().exec_driver_sql(
        f"UPDATE outbox SET state = ?, job_id = ?, acked_at = ?, updated_at = ?, "
        f"settle_until = NULL WHERE id IN ({_marks(len(ids))}) AND state IN (?, ?)",
        (OutboxState.ACKED.value, job_id, stamp, stamp, *ids, *_UNDONE),
    )
    return int(result.rowcount)


def release_unsent(db: Database, ids: Iterable[int], *, now: datetime) -> int:
    """Claimed rows that were never sent go back to pending, due now, the attempt undone.

    Only rows still in_flight without a settling deadline change: if another process
    has meanwhile taken them over for a read-back, they are left to it.
    """
    id_list = list(ids)
    if not id_list:
        return 0
    statement = (
        update(OutboxItem)
        .where(col(OutboxItem.id).in_(id_list))
        .where(col(OutboxItem.state) == OutboxState.IN_FLIGHT.value)
        .where(col(OutboxItem.settle_until).is_(None))
        .values(
            state=OutboxState.PENDING.value,
            attempts=func.max(col(OutboxItem.attempts) - 1, 0),
            next_attempt_at=now,
            updated_at=now,
        )
    )
    return db.write(lambda session: int(session.connection().execute(statement).rowcount))


def _set(db: Database, ids: Iterable[int], only_from: tuple[str, ...], **values: Any) -> int:
    """Update rows by id (only those in one of ``only_from`` states); returns the count."""
    id_list = list(ids)
    if not id_list:
        return 0
    statement = (
        update(OutboxItem)
        .where(col(OutboxItem.id).in_(id_list))
        .where(col(OutboxItem.state).in_(only_from))
        .values(**values)
    )
    return db.write(lambda session: int(session.connection().execute(statement).rowcount))


def mark_acked(
    db: Database, ids: Iterable[int], job_id: str | None = None, *, now: datetime | None = None
) -> int:
    """Timeback accepted these rows (``job_id``: its ingestion job); returns how many changed."""
    id_list = list(ids)
    moment = now or utc_now()
    return db.write(lambda session: ack_in(session, id_list, job_id, moment))


def mark_pending(
    db: Database,
    ids: Iterable[int],
    next_attempt_at: datetime,
    error: str | None,
    *,
    now: datetime | None = None,
) -> int:
    """Send these rows again at ``next_attempt_at``; ``error`` says why they are back."""
    return _set(
        db,
        ids,
        _UNDONE,
        state=OutboxState.PENDING.value,
        next_attempt_at=next_attempt_at,
        last_error=error,
        updated_at=now or utc_now(),
        settle_until=None,
    )


def mark_dead(db: Database, id: int, error: str, *, now: datetime | None = None) -> bool:
    """Timeback refused this row for good (kept, never deleted); False if it was acked."""
    changed = _set(
        db,
        [id],
        _UNDONE,
        state=OutboxState.DEAD.value,
        last_error=error,
        updated_at=now or utc_now(),
        settle_until=None,
    )
    return changed == 1


def retry_dead(db: Database, id: int, *, now: datetime | None = None) -> bool:
    """Put a dead row back in the queue, due now, with its attempts reset; False if not dead."""
    now = now or utc_now()
    changed = _set(
        db,
        [id],
        (OutboxState.DEAD.value,),
        state=OutboxState.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        updated_at=now,
    )
    return changed == 1


def get(db: Database, id: int) -> OutboxItem | None:
    """One row by its id."""
    with db.read() as session:
        return session.get(OutboxItem, id)


def list_items(
    db: Database, state: str | None = None, limit: int | None = None
) -> list[OutboxItem]:
    """Rows oldest first, optionally only those in ``state``."""
    statement = select(OutboxItem).order_by(col(OutboxItem.id))
    if state is not None:
        statement = statement.where(OutboxItem.state == str(state))
    if limit is not None:
        statement = statement.limit(limit)
    with db.read() as session:
        return list(session.exec(statement).all())


def in_flight(db: Database) -> list[OutboxItem]:
    """Rows sent (or being sent) without an answer yet: after a crash, read them back."""
    return list_items(db, OutboxState.IN_FLIGHT.value)


def counts(db: Database) -> dict[str, int]:
    """How many rows are in each state (every state present, zero if none)."""
    result = {state.value: 0 for state in OutboxState}
    with db.read() as session:
        rows = session.connection().exec_driver_sql(
            "SELECT state, COUNT(*) FROM outbox GROUP BY state"
        ).all()
    for state, number in rows:
        result[state] = int(number)
    return result


def oldest_pending_age(db: Database, now: datetime) -> timedelta | None:
    """Age of the oldest undelivered row (pending or in_flight), or None if there is none."""
    with db.read() as session:
        oldest = session.exec(
            select(OutboxItem.created_at)
            .where(col(OutboxItem.state).in_(_UNDONE))
            .order_by(col(OutboxItem.id))
            .limit(1)
        ).first()
    if oldest is None:
        return None
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now - oldest


def mark_settling(
    db: Database,
    ids: Iterable[int],
    settle_until: datetime,
    next_check_at: datetime,
    error: str | None,
    *,
    now: datetime | None = None,
) -> int:
    """These in_flight rows may have reached the server: read them back before resending.

    They stay in_flight; ``next_check_at`` (kept in ``next_attempt_at``) is the next
    read-back and ``settle_until`` the moment after which "not found" means "never arrived".
    """
    return _set(
        db,
        ids,
        (OutboxState.IN_FLIGHT.value,),
        settle_until=settle_until,
        next_attempt_at=next_check_at,
        last_error=error,
        updated_at=now or utc_now(),
    )


def recover_in_flight(db: Database, settle_until: datetime, *, now: datetime) -> int:
    """After a crash: in_flight rows with no settling deadline get one, checked now.

    Whatever was being sent when the process died may have arrived; it is read back
    (and resent only if still missing at ``settle_until``). Returns how many rows changed.
    """
    statement = (
        update(OutboxItem)
        .where(col(OutboxItem.kind) == CALIPER_KIND)
        .where(col(OutboxItem.state) == OutboxState.IN_FLIGHT.value)
        .where(col(OutboxItem.settle_until).is_(None))
        .values(
            settle_until=settle_until,
            next_attempt_at=now,
            updated_at=now,
            last_error="interrupted while sending; checking whether it arrived",
        )
    )
    return db.write(lambda session: int(session.connection().execute(statement).rowcount))


def settling_due(db: Database, now: datetime, limit: int = 100) -> list[OutboxItem]:
    """Settling rows whose next read-back check is due, oldest first."""
    statement = (
        select(OutboxItem)
        .where(OutboxItem.kind == CALIPER_KIND)
        .where(OutboxItem.state == OutboxState.IN_FLIGHT.value)
        .where(col(OutboxItem.settle_until).is_not(None))
        .where(col(OutboxItem.next_attempt_at) <= now)
        .order_by(col(OutboxItem.id))
        .limit(limit)
    )
    with db.read() as session:
        return list(session.exec(statement).all())


def make_due(db: Database, now: datetime) -> int:
    """Pending rows waiting for a later attempt become due now (connectivity is back)."""
    statement = (
        update(OutboxItem)
        .where(col(OutboxItem.state) == OutboxState.PENDING.value)
        .where(col(OutboxItem.next_attempt_at) > now)
        .values(next_attempt_at=now)
    )
    return db.write(lambda session: int(session.connection().execute(statement).rowcount))


def next_due_at(db: Database) -> datetime | None:
    """The earliest pending attempt or settling check, or None if nothing is waiting."""
    with db.read() as session:
        pending = session.exec(
            select(func.min(OutboxItem.next_attempt_at)).where(
                OutboxItem.state == OutboxState.PENDING.value
            )
        ).first()
        settling = session.exec(
            select(func.min(OutboxItem.next_attempt_at))
            .where(OutboxItem.state == OutboxState.IN_FLIGHT.value)
            .where(col(OutboxItem.settle_until).is_not(None))
        ).first()
    found = [_as_datetime(v) for v in (pending, settling) if v is not None]
    return min(found, default=None)


def _as_datetime(value: Any) -> datetime:
    """A MIN() result as an aware UTC datetime (SQLite may hand back the stored text)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class StudentDeliveries:
    """Where one student's deliveries stand: rows per outbox state, and why not yet.

    ``errors`` holds the last error of undelivered rows (newest first, at most a few);
    ``unbuilt`` counts closed runs whose events could not be built yet, with the reason.
    """

    student_id: str
    states: Mapping[str, int]
    errors: tuple[str, ...] = ()
    unbuilt: int = 0
    unbuilt_reason: str | None = None


def by_student(db: Database) -> dict[str, StudentDeliveries]:
    """Every student's deliveries from this computer, by student id (through their runs)."""
    with db.read() as session:
        conn = session.connection()
        rows = conn.exec_driver_sql(
            "SELECT r.student_id, o.state, COUNT(*), MAX(o.last_error) FROM outbox o "
            "JOIN runs r ON r.run_id = o.run_id GROUP BY r.student_id, o.state"
        ).all()
        unbuilt = conn.exec_driver_sql(
            "SELECT student_id, COUNT(*), MAX(events_pending_reason) FROM runs "
            "WHERE state = 'closed' AND events_pending_reason IS NOT NULL GROUP BY student_id"
        ).all()
    states: dict[str, dict[str, int]] = {}
    errors: dict[str, list[str]] = {}
    for student_id, state, number, error in rows:
        states.setdefault(student_id, {})[state] = int(number)
        if error and state != OutboxState.ACKED.value:
            errors.setdefault(student_id, []).append(str(error))
    waiting = {student_id: (int(n), reason) for student_id, n, reason in unbuilt}
    out: dict[str, StudentDeliveries] = {}
    for student_id in set(states) | set(waiting):
        n, reason = waiting.get(student_id, (0, None))
        out[student_id] = StudentDeliveries(
            student_id, states.get(student_id, {}), tuple(errors.get(student_id, ())), n, reason
        )
    return out


def undelivered_by_run(db: Database, run_ids: Sequence[str]) -> dict[str, int]:
    """How many rows of each run are not delivered yet (any state but acked)."""
    out: dict[str, int] = {}
    with db.read() as session:
        for start in range(0, len(run_ids), 500):
            chunk = list(run_ids[start:start + 500])
            rows = session.exec(
                select(OutboxItem.run_id, func.count())
                .where(col(OutboxItem.run_id).in_(chunk))
                .where(OutboxItem.state != OutboxState.ACKED.value)
                .group_by(col(OutboxItem.run_id))
            ).all()
            for run_id, number in rows:
                out[str(run_id)] = int(number)
    return out
