"""The worker against the real sandbox on loopback, with its fault injection and
processing delay: each event stored exactly once, nothing left pending."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from companion.sandbox.faults import Fault
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.store import outbox
from companion.store.db import Database
from companion.sync.status import SyncState, SyncStatus
from companion.sync.worker import SyncWorker
from companion.timeback import CaliperClient, auth_for, caliper_client, sandbox_environment
from tests.sync.deliver_child import SENSOR, fast_settings, queue_events


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox")
    yield database
    database.close()


def client_for(url: str, timeout_s: float = 5.0) -> CaliperClient:
    env = sandbox_environment(url)
    return caliper_client(env, auth_for(env), sensor=SENSOR, timeout=httpx.Timeout(timeout_s))


def deliver(db: Database, url: str, timeout_s: float = 5.0, settle_s: float = 2.0,
            ) -> SyncStatus:
    with client_for(url, timeout_s) as client:
        worker = SyncWorker(db, client, settings=fast_settings(settle_s), rng=random.Random(3))
        try:
            return worker.run_until_idle()
        finally:
            worker.close()


def assert_delivered_once(sandbox: SandboxHandle, db: Database, ids: list[str]) -> None:
    sandbox.state.process_now()
    assert set(sandbox.state.stored_events) == set(ids)
    assert sandbox.state.duplicate_count == 0
    counts = outbox.counts(db)
    assert (counts["pending"], counts["in_flight"], counts["acked"]) == (0, 0, len(ids))


def test_without_faults_one_post_per_batch(db: Database) -> None:
    with start_in_thread(processing_delay_s=0.05) as sandbox:
        ids = queue_events(db, 350)
        status = deliver(db, sandbox.base_url)
        assert status.state is SyncState.IDLE and status.sent == 350
        assert sandbox.state.request_counts["POST /caliper/event"] == 4
        assert sandbox.state.request_counts.get("GET /caliper/events/{eventId}", 0) == 0
        assert_delivered_once(sandbox, db, ids)


def test_exactly_once_through_every_kind_of_fault(db: Database) -> None:
    with start_in_thread(processing_delay_s=0.3) as sandbox:
        faults = sandbox.state.faults
        ids = queue_events(db, 20, start=1000)
        deliver(db, sandbox.base_url)  # delivered events: read-back can be checked against them
        ids += queue_events(db, 200, start=0)
        # Random 500s, a 429 burst with Retry-After, resets, lost answers, flaky reads.
        faults.set("caliper.event", Fault(error_rate=0.2, burst_429=2, retry_after_s=1,
                                          drop_before=2, commit_then_drop=2))
        faults.set("caliper.event_by_id", Fault(error_rate=0.1))
        deliver(db, sandbox.base_url)
        assert_delivered_once(sandbox, db, ids)
        # Slow answers: past the client's timeout, yet the server stores the envelope.
        faults.clear()
        ids += queue_events(db, 200, start=200)
        faults.set("caliper.event", Fault(slow_s=1.2, commit_then_drop=1))
        deliver(db, sandbox.base_url, timeout_s=0.5, settle_s=3.0)
        assert_delivered_once(sandbox, db, ids)
        counts = sandbox.state.request_counts
        assert counts["GET /caliper/events"] > 0  # uncertain sends were read back


def test_offline_then_back_delivers_everything(db: Database, tmp_path: Path) -> None:
    data = tmp_path / "sandbox-data"
    sandbox = start_in_thread(data_dir=data, processing_delay_s=0.05)
    port = int(sandbox.base_url.rsplit(":", 1)[1])
    ids = queue_events(db, 60)
    assert deliver(db, sandbox.base_url).sent == 60
    sandbox.stop()
    ids += queue_events(db, 240, start=60)  # events pile up while offline
    with client_for(sandbox.base_url) as client:
        worker = SyncWorker(db, client, settings=fast_settings(), rng=random.Random(5))
        try:
            states = []
            for _ in range(3):
                result = worker.step()
                assert result.batch is not None
                states.append(worker.status.current.state)
                worker.sync_now()  # skip the backoff: nothing listens yet
            assert states == [SyncState.OFFLINE] * 3
            assert outbox.counts(db)["pending"] == 240
            with start_in_thread(port=port, data_dir=data, processing_delay_s=0.05) as back:
                worker.notify_online()
                status = worker.run_until_idle()
                assert status.state is SyncState.IDLE
                assert_delivered_once(back, db, ids)
        finally:
            worker.close()
