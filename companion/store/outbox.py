"""The outbox: deliveries waiting to be sent, one row per event, each in a named state.

Rows go in with ``add_events`` inside the write that produced them (e.g. the one that closes
a run), so that nothing is made without being queued. The states are ``DeliveryState``:
pending -> in_flight -> delivered | pending | settling | refused; settling -> delivered |
pending | held; held -> settling | pending; refused -> pending (by hand). Every change below
names the states it may start from, so that a row another process has moved on is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.dialects.sqlite import insert
from sqlmodel import Session, col, select

from companion.core.clock import utc_now
from companion.store.db import Database
from companion.store.tables import (
    OLD_STATE_NAMES,
    DeliveryState,
    OutboxItem,
    OutboxState,
    UtcDateTime,
    delivery_state,
)

__all__ = [
    "CALIPER_KIND",
    "UNDONE",
    "Claimed",
    "DeliveryState",
    "OutboxItem",
    "OutboxState",
    "StudentDeliveries",
    "Waiting",
    "ack_in",
    "add_events",
    "add_item",
    "by_student",
    "claim_batch",
    "claim_in",
    "counts",
    "delivery_state",
    "get",
    "in_flight",
    "list_items",
    "make_due",
    "mark_acked",
    "mark_dead",
    "mark_delivered",
    "mark_held",
    "mark_pending",
    "mark_refused",
    "mark_settling",
    "next_due_at",
    "oldest_pending_age",
    "recover_in_flight",
    "release_held_row",
    "reopen_held",
    "reopen_held_in",
    "retry_dead",
    "retry_refused",
    "settling_due",
    "undelivered_by_run",
    "waiting_reasons",
    "witnesses",
]

S = DeliveryState
CALIPER_KIND = "caliper"  # the rows whose batches, settling and holds this module knows
UNDONE: tuple[DeliveryState, ...] = (S.PENDING, S.IN_FLIGHT, S.SETTLING, S.HELD)
"""Every state of a row not yet delivered or refused: what "waiting" counts."""


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
            state=S.PENDING,
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
    kind: str = CALIPER_KIND,
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


def claim_in(
    session: Session, max_events: int, max_bytes: int, *, now: datetime
) -> list[Claimed]:
    """``claim_batch`` inside the caller's write."""
    conn = session.connection()
    rows = conn.exec_driver_sql(
        _CLAIM_SELECT, (CALIPER_KIND, S.PENDING.value, as_text(now), max_events)
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
            (S.IN_FLIGHT.value, as_text(now), *(c.id for c in batch)),
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
    """Mark undone rows delivered inside the caller's write; returns how many changed."""
    if not ids:
        return 0
    stamp = as_text(now)
    result = session.connection().exec_driver_sql(
        f"UPDATE outbox SET state = ?, job_id = COALESCE(?, job_id), acked_at = ?, "
        f"updated_at = ?, settle_until = NULL, hold_reason = NULL "
        f"WHERE id IN ({_marks(len(ids))}) AND state IN ({_marks(len(UNDONE))})",
        (S.DELIVERED.value, job_id, stamp, stamp, *ids, *(s.value for s in UNDONE)),
    )
    return int(result.rowcount)


def ack_delivered(
    db: Database,
    ids: Sequence[int],
    job_id: str | None,
    now: datetime,
    reopen_until: datetime | None = None,
    before_commit: Callable[[], None] | None = None,
) -> int:
    """Mark rows delivered in one write; returns how many changed.

    ``reopen_until``: held Caliper rows are read back again in the same write (settling
    until then). ``before_commit`` runs inside the write after everything is recorded (a
    crash point for the tests: what it raises rolls the write back).
    """

    def record(session: Session) -> int:
        changed = ack_in(session, ids, job_id, now)
        if reopen_until is not None:
            reopen_held_in(session, reopen_until, now, now=now)
        if before_commit is not None:
            before_commit()
        return changed

    acked: int = db.write(record)
    return acked


def _set(
    db: Database, ids: Iterable[int], only_from: Iterable[DeliveryState], **values: Any
) -> int:
    """Update rows by id (only those in one of ``only_from`` states); returns the count."""
    id_list = list(ids)
    if not id_list:
        return 0
    statement = (
        update(OutboxItem)
        .where(col(OutboxItem.id).in_(id_list))
        .where(col(OutboxItem.state).in_(list(only_from)))
        .values(**values)
    )
    return db.write(lambda session: int(session.connection().execute(statement).rowcount))


def mark_delivered(
    db: Database, ids: Iterable[int], job_id: str | None = None, *, now: datetime | None = None
) -> int:
    """The server took these rows (``job_id``: its ingestion job); returns how many changed."""
    id_list = list(ids)
    moment = now or utc_now()
    return db.write(lambda session: ack_in(session, id_list, job_id, moment))


mark_acked = mark_delivered


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
        UNDONE,
        state=S.PENDING,
        next_attempt_at=next_attempt_at,
        last_error=error,
        updated_at=now or utc_now(),
        settle_until=None,
        hold_reason=None,
    )


def mark_refused(db: Database, id: int, error: str, *, now: datetime | None = None) -> bool:
    """The server refused this row for good (kept, never deleted); False if it was done."""
    changed = _set(
        db,
        [id],
        UNDONE,
        state=S.REFUSED,
        last_error=error,
        updated_at=now or utc_now(),
        settle_until=None,
        hold_reason=None,
    )
    return changed == 1


mark_dead = mark_refused


def retry_refused(db: Database, id: int, *, now: datetime | None = None) -> bool:
    """Put a refused row back in the queue, due now, attempts reset; False if not refused."""
    now = now or utc_now()
    changed = _set(
        db,
        [id],
        (S.REFUSED,),
        state=S.PENDING,
        attempts=0,
        next_attempt_at=now,
        updated_at=now,
    )
    return changed == 1


retry_dead = retry_refused


def release_held_row(db: Database, id: int, *, now: datetime | None = None) -> bool:
    """A person read why this row is held and lets it go: pending, due now."""
    now = now or utc_now()
    changed = _set(
        db,
        [id],
        (S.HELD,),
        state=S.PENDING,
        next_attempt_at=now,
        updated_at=now,
        settle_until=None,
        last_error="released by hand after being held",
        hold_reason=None,
    )
    return changed == 1


def mark_settling(
    db: Database,
    ids: Iterable[int],
    settle_until: datetime,
    next_check_at: datetime,
    error: str | None,
    *,
    job_id: str | None = None,
    now: datetime | None = None,
) -> int:
    """These rows may have reached the server: read them back before anything is resent.

    ``next_check_at`` (kept in ``next_attempt_at``) is the next read-back and
    ``settle_until`` the moment after which "not found" may mean "never arrived".
    """
    values: dict[str, Any] = {
        "state": S.SETTLING,
        "settle_until": settle_until,
        "next_attempt_at": next_check_at,
        "last_error": error,
        "updated_at": now or utc_now(),
        "hold_reason": None,
    }
    if job_id is not None:
        values["job_id"] = job_id
    return _set(db, ids, (S.IN_FLIGHT, S.SETTLING, S.HELD), **values)


def mark_held(
    db: Database,
    ids: Iterable[int],
    reason: str,
    next_check_at: datetime,
    *,
    now: datetime | None = None,
) -> int:
    """Not sent again, not lost: these rows wait on ``reason`` (checked at ``next_check_at``)."""
    return _set(
        db,
        ids,
        (S.PENDING, S.IN_FLIGHT, S.SETTLING, S.HELD),
        state=S.HELD,
        hold_reason=reason,
        next_attempt_at=next_check_at,
        updated_at=now or utc_now(),
    )


def reopen_held_in(
    session: Session, settle_until: datetime, next_check_at: datetime, *, now: datetime
) -> int:
    """``reopen_held`` inside the caller's write."""
    result = session.connection().exec_driver_sql(
        "UPDATE outbox SET state = ?, settle_until = ?, next_attempt_at = ?, updated_at = ? "
        "WHERE kind = ? AND state = ?",
        (S.SETTLING.value, as_text(settle_until), as_text(next_check_at), as_text(now),
         CALIPER_KIND, S.HELD.value),
    )
    return int(result.rowcount)


def reopen_held(
    db: Database, settle_until: datetime, next_check_at: datetime, *, now: datetime
) -> int:
    """Held Caliper rows are read back again (a newer delivery, or a fresh start, may now
    vouch for the read-back); returns how many."""
    return db.write(lambda session: reopen_held_in(session, settle_until, next_check_at,
                                                   now=now))


def get(db: Database, id: int) -> OutboxItem | None:
    """One row by its id."""
    with db.read() as session:
        return session.get(OutboxItem, id)


def list_items(
    db: Database,
    state: str | DeliveryState | Iterable[DeliveryState] | None = None,
    limit: int | None = None,
    *,
    kind: str | None = None,
) -> list[OutboxItem]:
    """Rows oldest first, optionally only those in ``state`` (a name, old names accepted,
    or several states) and of ``kind``."""
    statement = select(OutboxItem).order_by(col(OutboxItem.id))
    if isinstance(state, str):
        statement = statement.where(col(OutboxItem.state) == delivery_state(state))
    elif state is not None:
        statement = statement.where(col(OutboxItem.state).in_(list(state)))
    if kind is not None:
        statement = statement.where(col(OutboxItem.kind) == kind)
    if limit is not None:
        statement = statement.limit(limit)
    with db.read() as session:
        return list(session.exec(statement).all())


def in_flight(db: Database) -> list[OutboxItem]:
    """Rows sent (or being sent) without an answer yet: after a crash, read them back."""
    return list_items(db, S.IN_FLIGHT)


class StateCounts(dict[str, int]):
    """Rows per state name; the older names ("acked", "dead") read their new state."""

    def __missing__(self, key: str) -> int:
        if key in OLD_STATE_NAMES:
            return self[OLD_STATE_NAMES[key].value]
        raise KeyError(key)


def counts(db: Database) -> StateCounts:
    """How many rows are in each state (every state present, zero if none)."""
    result = StateCounts({state.value: 0 for state in DeliveryState})
    with db.read() as session:
        rows = session.connection().exec_driver_sql(
            "SELECT state, COUNT(*) FROM outbox GROUP BY state"
        ).all()
    for state, number in rows:
        result[str(state)] = int(number)
    return result


@dataclass(frozen=True)
class Waiting:
    """Undelivered rows of one kind and state that wait for the same reason."""

    kind: str
    state: DeliveryState
    count: int
    reason: str | None


def waiting_reasons(db: Database) -> list[Waiting]:
    """Undelivered rows grouped by kind, state and reason (held ones with their hold
    reason, others with their last error), held first, then the largest groups."""
    with db.read() as session:
        rows = session.connection().exec_driver_sql(
            "SELECT kind, state, COALESCE(hold_reason, last_error), COUNT(*) FROM outbox "
            f"WHERE state IN ({_marks(len(UNDONE))}) GROUP BY 1, 2, 3",
            tuple(s.value for s in UNDONE),
        ).all()
    found = [Waiting(str(k), DeliveryState(s), int(n), r) for k, s, r, n in rows]
    return sorted(found, key=lambda w: (w.state is not S.HELD, -w.count, w.kind, w.state))


def oldest_pending_age(db: Database, now: datetime) -> timedelta | None:
    """Age of the oldest undelivered row (in any undone state), or None if there is none."""
    with db.read() as session:
        oldest = session.exec(
            select(OutboxItem.created_at)
            .where(col(OutboxItem.state).in_(UNDONE))
            .order_by(col(OutboxItem.id))
            .limit(1)
        ).first()
    if oldest is None:
        return None
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now - oldest


def recover_in_flight(db: Database, settle_until: datetime, *, now: datetime) -> int:
    """After a crash: in_flight Caliper rows become settling, checked now.

    Whatever was being sent when the process died may have arrived; it is read back
    (and resent only if read-back proves it missing). Returns how many rows changed.
    """
    statement = (
        update(OutboxItem)
        .where(col(OutboxItem.kind) == CALIPER_KIND)
        .where(col(OutboxItem.state) == S.IN_FLIGHT)
        .values(
            state=S.SETTLING,
            settle_until=settle_until,
            next_attempt_at=now,
            updated_at=now,
            last_error="interrupted while sending; checking whether it arrived",
        )
    )
    return db.write(lambda session: int(session.connection().execute(statement).rowcount))


def settling_due(db: Database, now: datetime, limit: int = 100) -> list[OutboxItem]:
    """Settling and held Caliper rows whose next read-back check is due, oldest first."""
    statement = (
        select(OutboxItem)
        .where(OutboxItem.kind == CALIPER_KIND)
        .where(col(OutboxItem.state).in_([S.SETTLING, S.HELD]))
        .where(col(OutboxItem.next_attempt_at) <= now)
        .order_by(col(OutboxItem.id))
        .limit(limit)
    )
    with db.read() as session:
        return list(session.exec(statement).all())


def witnesses(db: Database, limit: int = 3) -> list[OutboxItem]:
    """The most recently delivered Caliper rows: events known to be stored, against which
    a read-back is checked before its "not found" is believed."""
    statement = (
        select(OutboxItem)
        .where(OutboxItem.kind == CALIPER_KIND)
        .where(OutboxItem.state == S.DELIVERED)
        .where(col(OutboxItem.acked_at).is_not(None))
        .order_by(col(OutboxItem.acked_at).desc(), col(OutboxItem.id).desc())
        .limit(limit)
    )
    with db.read() as session:
        return list(session.exec(statement).all())


def make_due(db: Database, now: datetime, kind: str | None = None) -> int:
    """Pending rows waiting for a later attempt become due now (connectivity is back)."""
    statement = (
        update(OutboxItem)
        .where(col(OutboxItem.state) == S.PENDING)
        .where(col(OutboxItem.next_attempt_at) > now)
        .values(next_attempt_at=now)
    )
    if kind is not None:
        statement = statement.where(col(OutboxItem.kind) == kind)
    return db.write(lambda session: int(session.connection().execute(statement).rowcount))


def next_due_at(db: Database, kind: str | None = None) -> datetime | None:
    """The earliest pending attempt or settling/held check, or None if nothing is waiting."""
    statement = select(func.min(OutboxItem.next_attempt_at)).where(
        col(OutboxItem.state).in_([S.PENDING, S.SETTLING, S.HELD])
    )
    if kind is not None:
        statement = statement.where(col(OutboxItem.kind) == kind)
    with db.read() as session:
        value = session.exec(statement).first()
    return None if value is None else _as_datetime(value)


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
        if error and state != OutboxState.DELIVERED.value:
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
                .where(OutboxItem.state != OutboxState.DELIVERED.value)
                .group_by(col(OutboxItem.run_id))
            ).all()
            for run_id, number in rows:
                out[str(run_id)] = int(number)
    return out


def newest_ack(db: Database) -> datetime | None:
    """When the newest delivered row was acknowledged, or None."""
    with db.read() as session:
        newest = session.exec(select(func.max(OutboxItem.acked_at))).one()
    if newest is None:
        return None
    if isinstance(newest, str):  # func.max bypasses the column type
        return datetime.fromisoformat(newest)
    return newest
