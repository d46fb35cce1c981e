"""Delivering results with PUT under the sandbox's faults: each exactly once, held while
the line item is missing, dead when refused, never left in flight."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from companion.core import results
from companion.sandbox.faults import Fault
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.store import outbox
from companion.store.db import Database
from companion.store.results import (
    HELD_REASON,
    RESULT_KIND,
    claim_results,
    queue_result,
    release_held,
)
from companion.sync.results import deliver_results
from companion.timeback import GradebookClient
from tests.results.helpers import (
    APP_ID,
    CATALOGUE,
    LESSON_1,
    LESSON_2,
    STUDENT,
    client_for,
    deliver_all,
    open_computer,
    queue_results,
    study,
)

RESULTS = "assessmentResults"



@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_computer(tmp_path / "companion-sandbox.sqlite3")
    yield database
    database.close()


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


def push_line_items(client: GradebookClient) -> None:
    for lesson in CATALOGUE.lessons:
        client.put_line_item(results.line_item_payload(APP_ID, lesson, "demo-course-1"))


def queued(db: Database) -> dict[str, dict[str, object]]:
    """The queued result records by sourcedId."""
    return {row.event_id: json.loads(row.payload)["assessmentResult"]
            for row in outbox.list_items(db) if row.kind == RESULT_KIND}


def assert_each_once(sandbox: SandboxHandle, db: Database) -> None:
    mine = queued(db)
    stored = sandbox.state.gradebook.results
    assert set(stored) == set(mine)
    for sourced_id, record in mine.items():
        served = {k: v for k, v in stored[sourced_id].items() if k != "dateLastModified"}
        assert served == record  # the right metadata, and nothing else
    states = {row.state for row in outbox.list_items(db) if row.kind == RESULT_KIND}
    assert states == {"delivered"}


def test_a_closed_run_queues_its_result_in_the_same_write(db: Database) -> None:
    closed = study(db, LESSON_1, correct=5)
    record = next(iter(queued(db).values()))
    meta = record["metadata"]
    assert isinstance(meta, dict)
    assert (meta["masteredUnits"], meta["attempt"], meta["xp"], meta["accuracy"]) == (
        1, 1, 10, 100.0)  # 10 min x 1.25, capped at expectedXp 8 -> 10
    assert meta["runId"] == closed.run_id and record["scoreDate"] == "2026-01-05T09:10:00.000Z"


def test_delivery_is_exactly_once_through_faults(db: Database, sandbox: SandboxHandle) -> None:
    for _ in range(6):
        study(db, LESSON_1, correct=4)
    queue_results(db, [LESSON_1, LESSON_2] * 12)
    with client_for(sandbox.base_url, timeout_s=2.0) as client:
        push_line_items(client)
        sandbox.state.faults.set("gradebook.results", Fault(
            error_rate=0.25, burst_429=2, retry_after_s=7, drop_before=2, commit_then_drop=3))
        passes = deliver_all(db, client)
    assert sum(p.sent for p in passes) == 30
    assert any(p.state == "rate-limited" and p.pause_s >= 7 for p in passes)
    assert_each_once(sandbox, db)
    # Retries after lost answers wrote the same record again, never a second record.
    writes = [sandbox.state.gradebook.writes(RESULTS, i) for i in queued(db)]
    assert sum(writes) >= 30 + 3 and max(writes) <= 3


def test_a_result_left_in_flight_by_a_crash_is_sent_again(db: Database,
                                                         sandbox: SandboxHandle) -> None:
    study(db, LESSON_1, correct=5)
    now = datetime.now(UTC)
    assert len(claim_results(db, now=now)) == 1  # claimed, then the process died
    with client_for(sandbox.base_url) as client:
        push_line_items(client)
        counts = deliver_results(db, client, now)
    assert counts.sent == 1
    assert_each_once(sandbox, db)


def test_held_until_the_line_item_exists(db: Database, sandbox: SandboxHandle) -> None:
    study(db, LESSON_1, correct=5)
    now = datetime.now(UTC)
    with client_for(sandbox.base_url) as client:
        counts = deliver_results(db, client, now)
        assert (counts.held, counts.dead, counts.sent) == (1, 0, 0)
        row = outbox.list_items(db)[-1]
        assert row.state == "held" and row.hold_reason is not None
        assert row.hold_reason.startswith(HELD_REASON)
        assert deliver_results(db, client, now + timedelta(minutes=1)).sent == 0  # not due
        push_line_items(client)
        assert release_held(db, now) == 1
        assert deliver_results(db, client, now).sent == 1
    assert_each_once(sandbox, db)


def test_a_refused_result_is_dead_with_the_message(db: Database,
                                                   sandbox: SandboxHandle) -> None:
    def queue_bad(session: Session) -> None:
        body = {"sourcedId": "bad-1", "status": "active",
                "assessmentLineItem": {"sourcedId": results.line_item_id(APP_ID, LESSON_1)},
                "student": {"sourcedId": STUDENT}, "scoreDate": "not a date",
                "scoreStatus": "fully graded"}
        queue_result(session, body)

    db.write(queue_bad)
    with client_for(sandbox.base_url) as client:
        push_line_items(client)
        counts = deliver_results(db, client, datetime.now(UTC))
    assert (counts.dead, counts.sent) == (1, 0)
    dead = outbox.list_items(db, "dead")
    assert len(dead) == 1 and dead[0].last_error is not None
    assert "scoreDate must be" in dead[0].last_error


def test_offline_stops_the_pass_and_keeps_everything(db: Database) -> None:
    study(db, LESSON_1, correct=5)
    study(db, LESSON_2, correct=5)
    with client_for("http://127.0.0.1:9") as client:  # nothing listens on the discard port
        counts = deliver_results(db, client, datetime.now(UTC))
    assert (counts.retry, counts.state, counts.sent) == (2, "offline", 0)
    rows = [row for row in outbox.list_items(db) if row.kind == RESULT_KIND]
    assert [row.state for row in rows] == ["pending", "pending"]
    assert all((row.last_error or "").startswith("offline") for row in rows)

