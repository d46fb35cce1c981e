"""The outbox: queueing inside a write, claiming batches, acks, retries and dead letters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session

from companion.store import outbox
from companion.store.db import Database
from companion.store.tables import StoreMeta

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox")
    yield database
    database.close()


def event(n: int, padding: int = 0) -> dict[str, Any]:
    event_id = f"urn:uuid:00000000-0000-0000-0000-{n:012}"
    return {"id": event_id, "type": "Event", "pad": "x" * padding}


def add(db: Database, events: list[dict[str, Any]], at: datetime = T0, **kw: Any) -> int:
    return db.write(lambda s: outbox.add_events(s, events, now=at, **kw))


def test_events_are_queued_once_each(db: Database) -> None:
    assert add(db, [event(1), event(2)], run_id="run-1") == 2
    assert add(db, [event(2), event(3)]) == 1  # event 2 is already there
    items = outbox.list_items(db)
    assert [i.event_id for i in items] == [event(n)["id"] for n in (1, 2, 3)]
    first = items[0]
    assert json.loads(first.payload) == event(1)
    assert first.size_bytes == len(first.payload.encode())
    assert (first.kind, first.state, first.attempts) == ("caliper", "pending", 0)
    assert first.run_id == "run-1"
    assert first.created_at == T0 and first.created_at.tzinfo is not None
    assert outbox.counts(db) == {"pending": 3, "in_flight": 0, "settling": 0, "held": 0,
                                 "delivered": 0, "refused": 0}
    assert outbox.counts(db)["acked"] == 0  # the older names still read


def test_queueing_shares_the_callers_transaction(db: Database) -> None:
    def close_run_then_fail(session: Session) -> None:
        session.add(StoreMeta(key="run closed", value="yes"))
        outbox.add_events(session, [event(1)])
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        db.write(close_run_then_fail)
    assert outbox.list_items(db) == []
    with pytest.raises(ValueError, match="'id'"):
        add(db, [event(1), {"type": "Event"}])
    assert outbox.list_items(db) == []


def test_other_kinds_use_their_own_key(db: Database) -> None:
    added = db.write(
        lambda s: outbox.add_item(s, "gradebook", "result:run-1", {"score": 1}, run_id="run-1")
    )
    again = db.write(lambda s: outbox.add_item(s, "gradebook", "result:run-1", {"score": 2}))
    assert (added, again) == (True, False)
    (item,) = outbox.list_items(db)
    assert (item.kind, json.loads(item.payload)) == ("gradebook", {"score": 1})


def test_claim_takes_due_rows_oldest_first(db: Database) -> None:
    add(db, [event(n) for n in range(1, 6)])
    later = add(db, [event(9)])
    assert later == 1
    (nine,) = [i for i in outbox.list_items(db) if i.event_id == event(9)["id"]]
    outbox.mark_pending(db, [nine.id or 0], next_attempt_at=T0 + timedelta(minutes=5), error=None)

    batch = outbox.claim_batch(db, max_events=3, now=T0)
    assert [i.event_id for i in batch] == [event(n)["id"] for n in (1, 2, 3)]
    assert all(i.attempts == 1 for i in batch)
    assert {i.state for i in outbox.list_items(db, "in_flight")} == {"in_flight"}
    rest = outbox.claim_batch(db, now=T0)
    assert [i.event_id for i in rest] == [event(n)["id"] for n in (4, 5)]  # 9 is not due
    assert outbox.claim_batch(db, now=T0) == []
    assert [i.event_id for i in outbox.claim_batch(db, now=T0 + timedelta(minutes=5))] == [
        event(9)["id"]
    ]
    assert outbox.counts(db)["in_flight"] == 6
    assert len(outbox.in_flight(db)) == 6


def test_claim_respects_the_byte_limit(db: Database) -> None:
    add(db, [event(1, padding=400), event(2, padding=400), event(3, padding=5000)])
    size = outbox.list_items(db)[0].size_bytes
    batch = outbox.claim_batch(db, max_bytes=2 * size, now=T0)
    assert [i.event_id for i in batch] == [event(1)["id"], event(2)["id"]]
    big = outbox.claim_batch(db, max_bytes=100, now=T0)  # alone it is too big, but goes
    assert [i.event_id for i in big] == [event(3)["id"]]


def test_ack_retry_and_dead_letters(db: Database) -> None:
    add(db, [event(1), event(2), event(3)])
    one, two, three = (i.id or 0 for i in outbox.claim_batch(db, now=T0))

    assert outbox.mark_acked(db, [one], job_id="job-7", now=T0 + timedelta(seconds=1)) == 1
    acked = outbox.get(db, one)
    assert acked is not None
    assert (acked.state, acked.job_id, acked.acked_at) == (
        "delivered",
        "job-7",
        T0 + timedelta(seconds=1),
    )
    assert outbox.mark_pending(db, [one], T0, "late") == 0  # acked rows stay acked

    retry_at = T0 + timedelta(seconds=30)
    assert outbox.mark_pending(db, [two], retry_at, "503 Service Unavailable") == 1
    assert outbox.claim_batch(db, now=T0 + timedelta(seconds=29)) == []
    (again,) = outbox.claim_batch(db, now=retry_at)
    assert (again.id, again.attempts, again.last_error) == (two, 2, "503 Service Unavailable")

    assert outbox.mark_dead(db, three, "422: actor.id is required")
    assert outbox.counts(db) == {"pending": 0, "in_flight": 1, "settling": 0, "held": 0,
                                 "delivered": 1, "refused": 1}
    assert [i.id for i in outbox.list_items(db, state="dead")] == [three]  # the older name
    assert [i.id for i in outbox.list_items(db, state="refused")] == [three]
    assert not outbox.retry_dead(db, two)  # not dead
    assert outbox.retry_dead(db, three, now=T0 + timedelta(hours=1))
    revived = outbox.get(db, three)
    assert revived is not None
    assert (revived.state, revived.attempts, revived.last_error) == (
        "pending",
        0,
        "422: actor.id is required",
    )
    assert outbox.get(db, 999) is None


def test_oldest_pending_age(db: Database) -> None:
    assert outbox.oldest_pending_age(db, T0) is None
    add(db, [event(1)], at=T0)
    add(db, [event(2)], at=T0 + timedelta(minutes=1))
    now = T0 + timedelta(minutes=10)
    assert outbox.oldest_pending_age(db, now) == timedelta(minutes=10)
    (first,) = outbox.claim_batch(db, max_events=1, now=now)
    assert outbox.oldest_pending_age(db, now) == timedelta(minutes=10)  # in flight counts
    outbox.mark_acked(db, [first.id or 0])
    assert outbox.oldest_pending_age(db, now) == timedelta(minutes=9)
