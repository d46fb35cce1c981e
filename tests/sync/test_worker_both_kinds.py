"""The worker delivers both kinds of outbox rows on one lease: Caliper events in batches
(POST) and gradebook results one by one (PUT), each exactly once, neither sent as the other."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from companion.core import results
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.store import outbox
from companion.store.db import Database
from companion.store.results import RESULT_KIND
from companion.sync.worker import SyncWorker
from companion.timeback import auth_for, caliper_client, sandbox_environment
from tests.results.helpers import (
    APP_ID,
    CATALOGUE,
    LESSON_1,
    LESSON_2,
    client_for,
    open_computer,
    study,
)
from tests.sync.deliver_child import SENSOR, fast_settings


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_computer(tmp_path / "companion-sandbox.sqlite3")
    yield database
    database.close()


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


def test_events_and_results_each_arrive_once_at_their_own_endpoint(
    db: Database, sandbox: SandboxHandle
) -> None:
    gradebook = client_for(sandbox.base_url)
    for lesson in CATALOGUE.lessons:
        gradebook.put_line_item(results.line_item_payload(APP_ID, lesson, "demo-course-1"))
    study(db, LESSON_1, correct=5)
    study(db, LESSON_2, correct=4)
    rows = outbox.list_items(db)
    result_ids = {r.event_id for r in rows if r.kind == RESULT_KIND}
    event_ids = {r.event_id for r in rows if r.kind == "caliper"}
    assert len(result_ids) == 2 and len(event_ids) >= 4

    env = sandbox_environment(sandbox.base_url)
    with caliper_client(env, auth_for(env), sensor=SENSOR,
                        timeout=httpx.Timeout(5.0)) as events_api:
        worker = SyncWorker(db, events_api, settings=fast_settings(2.0),
                            rng=random.Random(5), results_api=gradebook)
        try:
            worker.run_until_idle()
        finally:
            worker.close()
    gradebook.close()

    sandbox.state.process_now()
    assert set(sandbox.state.stored_events) == event_ids
    assert sandbox.state.duplicate_count == 0
    assert set(sandbox.state.gradebook.results) == result_ids
    assert {r.state for r in outbox.list_items(db)} == {"delivered"}


def test_without_a_gradebook_client_results_wait_and_are_never_posted_as_events(
    db: Database, sandbox: SandboxHandle
) -> None:
    study(db, LESSON_1, correct=5)
    env = sandbox_environment(sandbox.base_url)
    with caliper_client(env, auth_for(env), sensor=SENSOR,
                        timeout=httpx.Timeout(5.0)) as events_api:
        worker = SyncWorker(db, events_api, settings=fast_settings(2.0), rng=random.Random(5))
        try:
            for _ in range(5):  # the results can never go: step, rather than wait for idle
                worker.step()
        finally:
            worker.close()
    states = {(r.kind, r.state) for r in outbox.list_items(db)}
    assert states == {("caliper", "delivered"), (RESULT_KIND, "pending")}
    sandbox.state.process_now()
    assert all(e.get("type") != "AssessmentResult"
               for e in sandbox.state.stored_events.values())
