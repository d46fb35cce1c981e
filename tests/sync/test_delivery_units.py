"""The worker against a fake Caliper service and fake time: every path of the retry table,
settling, recovery, status and triggers, in milliseconds."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from companion.core.clock import FakeClock, SystemClock
from companion.store import outbox
from companion.store.db import Database
from companion.sync.settings import SyncSettings
from companion.sync.status import SyncState, SyncStatus
from companion.sync.worker import SyncWorker
from companion.timeback import (
    AmbiguousFailure,
    EventError,
    EventPage,
    ForbiddenError,
    JobEventResult,
    JobStatus,
    OfflineError,
    RateLimitedError,
    RejectedError,
    SendResult,
    ServerError,
    UnauthorisedError,
    ValidationResult,
)
from tests.sync.deliver_child import queue_events

STORE_THEN_FAIL = "store-then-fail"


class FakeCaliper:
    """A Caliper service in memory: stores envelopes, makes them readable after a delay.

    ``script`` holds what the next sends do: an error raised before storing, or
    (STORE_THEN_FAIL, error) to store and then fail (the answer is lost).
    """

    def __init__(self, time: FakeClock, processing_s: float = 0.0, job_ids: bool = False) -> None:
        self.time = time
        self.processing_s = processing_s
        self.job_ids = job_ids
        self.visible_at: dict[str, datetime] = {}
        self.copies: Counter[str] = Counter()
        self.script: list[Any] = []
        self.invalid: dict[str, str] = {}
        self.batches: list[list[str]] = []
        self.reads = 0
        self.validations = 0
        self.jobs: dict[str, list[str]] = {}
        self.bodies: dict[str, Mapping[str, Any]] = {}

    def _store(self, ids: list[str], events: Sequence[Mapping[str, Any]] = ()) -> str:
        for event in events:
            self.bodies[str(event["id"])] = event
        for event_id in ids:
            self.copies[event_id] += 1
            self.visible_at.setdefault(
                event_id, self.time.utc_now() + timedelta(seconds=self.processing_s))
        job = f"job-{len(self.jobs)}"
        self.jobs[job] = ids
        return job

    def send(self, events: Sequence[Mapping[str, Any]]) -> SendResult:
        ids = [str(e["id"]) for e in events]
        self.batches.append(ids)
        bad = [i for i in ids if i in self.invalid]
        if bad:
            raise RejectedError("envelope rejected", status_code=400)
        if self.script:
            action = self.script.pop(0)
            if isinstance(action, tuple):
                self._store(ids, events)
                raise action[1]
            raise action
        job = self._store(ids, events)
        return SendResult("queued", job if self.job_ids else None)

    def validate(self, events: Sequence[Mapping[str, Any]]) -> ValidationResult:
        self.validations += 1
        (event,) = events
        message = self.invalid.get(str(event["id"]))
        if message is None:
            return ValidationResult(True, "valid")
        return ValidationResult(False, "invalid", (EventError(0, str(event["id"]), "x", message),))

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        self.reads += 1
        when = self.visible_at.get(event_id)
        return {"id": event_id} if when is not None and self.time.utc_now() >= when else None

    def list_events(self, *, actor_id: str | None = None, actor_email: str | None = None,
                    sensor: str | None = None, start: datetime | None = None,
                    end: datetime | None = None, limit: int | None = None,
                    offset: int | None = None) -> EventPage:
        self.reads += 1
        visible = []
        for event_id, when in self.visible_at.items():
            body = self.bodies.get(event_id)
            if body is None or self.time.utc_now() < when:
                continue
            moment = datetime.fromisoformat(str(body["eventTime"]))
            if actor_id is not None and body["actor"]["id"] != actor_id:
                continue
            if (start is not None and moment < start) or (end is not None and moment > end):
                continue
            visible.append(dict(body))
        first = offset or 0
        page = visible[first:first + (limit or 100)]
        return EventPage(tuple(page), len(visible), first, limit)

    def job_status(self, job_id: str) -> JobStatus:
        ids = self.jobs[job_id]
        if any(self.time.utc_now() < self.visible_at[i] for i in ids):
            return JobStatus(job_id, "waiting")
        return JobStatus(job_id, "completed",
                         tuple(JobEventResult(i, "stored", "stored") for i in ids))

    @property
    def posts(self) -> int:
        return len(self.batches)


SETTINGS = SyncSettings(settle_s=600, check_min_s=5, check_max_s=60, periodic_s=60)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox")
    yield database
    database.close()


@pytest.fixture
def time() -> FakeClock:
    return FakeClock()


def make_worker(db: Database, api: FakeCaliper, time: FakeClock,
                settings: SyncSettings = SETTINGS, **kw: Any) -> SyncWorker:
    return SyncWorker(db, api, settings=settings, clock=time, rng=random.Random(7), **kw)


def run(worker: SyncWorker) -> SyncStatus:
    try:
        return worker.run_until_idle()
    finally:
        worker.close()


def assert_exactly_once(api: FakeCaliper, ids: list[str]) -> None:
    assert set(api.copies) == set(ids)
    assert max(api.copies.values()) == 1


def test_sends_oldest_first_in_envelopes_of_100(db: Database, time: FakeClock) -> None:
    ids = queue_events(db, 250)
    api = FakeCaliper(time)
    status = run(make_worker(db, api, time))
    assert [len(b) for b in api.batches] == [100, 100, 50]
    assert [i for b in api.batches for i in b] == ids
    assert (status.state, status.sent, status.acked, status.pending) == (SyncState.IDLE, 250,
                                                                          250, 0)
    assert status.last_success_at == time.utc_now()
    assert_exactly_once(api, ids)


def test_envelopes_stay_under_the_byte_budget(db: Database, time: FakeClock) -> None:
    ids = queue_events(db, 10)
    size = outbox.list_items(db)[0].size_bytes
    api = FakeCaliper(time)
    run(make_worker(db, api, time, SyncSettings(max_bytes=size * 3 + 10)))
    assert [len(b) for b in api.batches] == [3, 3, 3, 1]
    assert_exactly_once(api, ids)


def test_offline_backs_off_exponentially_with_jitter(db: Database, time: FakeClock) -> None:
    ids = queue_events(db, 5)
    api = FakeCaliper(time)
    api.script = [OfflineError("refused")] * 6
    seen: list[SyncStatus] = []
    worker = make_worker(db, api, time)
    worker.status.subscribe(seen.append)
    run(worker)
    assert api.posts == 7
    assert len(time.waits) == 6
    for attempt, wait in enumerate(time.waits, start=1):
        assert 0 <= wait <= 2.0 * 2 ** (attempt - 1)
    assert any(s.state is SyncState.OFFLINE and s.retry_at is not None for s in seen)
    assert seen[-1].state is SyncState.IDLE
    assert_exactly_once(api, ids)
    (row,) = {r.attempts for r in outbox.list_items(db)}
    assert row == 7


def test_rate_limit_waits_at_least_retry_after(db: Database, time: FakeClock) -> None:
    queue_events(db, 3)
    api = FakeCaliper(time)
    api.script = [RateLimitedError("slow down", retry_after=45)]
    seen: list[SyncState] = []
    worker = make_worker(db, api, time)
    worker.status.subscribe(lambda s: seen.append(s.state))
    start = time.utc_now()
    run(worker)
    assert time.waits and time.waits[0] >= 45
    assert SyncState.RATE_LIMITED in seen
    assert api.posts == 2 and time.utc_now() - start >= timedelta(seconds=45)


def test_lost_answer_is_read_back_and_never_resent(db: Database, time: FakeClock) -> None:
    ids = queue_events(db, 30)
    api = FakeCaliper(time, processing_s=100)  # readable only 100 s after arriving
    api.script = [(STORE_THEN_FAIL, AmbiguousFailure("connection reset"))]
    start = time.utc_now()
    status = run(make_worker(db, api, time))
    assert api.posts == 1  # never sent twice
    assert api.reads >= 5  # "not found" while processing did not trigger a resend
    assert_exactly_once(api, ids)
    assert status.acked == 30 and status.in_flight == status.settling == 0
    assert timedelta(seconds=100) <= time.utc_now() - start < timedelta(seconds=600)


def test_not_found_is_resent_only_after_the_settling_time(db: Database,
                                                          time: FakeClock) -> None:
    api = FakeCaliper(time)
    ids = queue_events(db, 3, start=100)
    run(make_worker(db, api, time))  # delivered: read-back can be checked against them
    ids += queue_events(db, 4)
    api.script = [AmbiguousFailure("read timeout")]  # it never arrived
    start = time.utc_now()
    run(make_worker(db, api, time))
    assert api.posts == 3
    assert_exactly_once(api, ids)
    assert time.utc_now() - start >= timedelta(seconds=600)
    assert all(w <= 60 for w in time.waits)  # checks back off up to check_max_s


def test_server_errors_are_settled_before_any_resend(db: Database, time: FakeClock) -> None:
    ids = queue_events(db, 4)
    api = FakeCaliper(time, processing_s=3)
    api.script = [(STORE_THEN_FAIL, ServerError("bad gateway", status_code=502))]
    run(make_worker(db, api, time))
    assert api.posts == 1
    assert_exactly_once(api, ids)


def test_job_status_settles_when_a_job_id_is_known(db: Database, time: FakeClock) -> None:
    ids = queue_events(db, 3)
    api = FakeCaliper(time, processing_s=20, job_ids=True)
    job = api._store(ids)  # it arrived under a known job; our side lost the answer
    rows = outbox.claim_batch(db, now=time.utc_now())
    until = time.utc_now() + timedelta(seconds=600)
    outbox.mark_settling(db, [r.id or 0 for r in rows], until, time.utc_now(), "lost")
    db.write(lambda s: s.connection().exec_driver_sql("UPDATE outbox SET job_id = ?", (job,)))
    run(make_worker(db, api, time))
    assert api.posts == 0  # the list cannot see them (no bodies): the job's word settled it
    assert {(r.state, r.job_id) for r in outbox.list_items(db)} == {("delivered", job)}
    assert_exactly_once(api, ids)


def test_unauthorised_refreshes_the_token_then_waits(db: Database, time: FakeClock) -> None:
    ids = queue_events(db, 2)
    api = FakeCaliper(time)
    api.script = [UnauthorisedError("no", status_code=401)]
    refreshed: list[bool] = []
    worker = make_worker(db, api, time, on_unauthorised=lambda: refreshed.append(True))
    run(worker)
    assert refreshed == [True] and len(time.waits) == 1 and api.posts == 2
    assert_exactly_once(api, ids)


def test_forbidden_stops_and_reports_until_asked_again(db: Database, time: FakeClock) -> None:
    ids = queue_events(db, 2)
    api = FakeCaliper(time)
    api.script = [ForbiddenError("not allowed", status_code=403)]
    worker = make_worker(db, api, time)
    status = worker.run_until_idle()
    assert status.state is SyncState.STOPPED
    assert status.reason is not None and "configuration error" in status.reason
    assert "not allowed" in status.reason
    assert (api.posts, status.pending) == (1, 2)
    worker.step()
    assert api.posts == 1  # stays stopped
    worker.sync_now()  # after the fix, on demand
    status = run(worker)
    assert status.state is SyncState.IDLE
    assert_exactly_once(api, ids)


def test_rejected_batch_dead_letters_only_the_bad_events(db: Database,
                                                         time: FakeClock) -> None:
    ids = queue_events(db, 10)
    api = FakeCaliper(time)
    api.invalid = {ids[2]: "actor.email is not an email", ids[7]: "eventTime is in the future"}
    status = run(make_worker(db, api, time))
    assert api.validations == 10
    assert set(api.copies) == set(ids) - {ids[2], ids[7]}
    dead = outbox.list_items(db, "dead")
    assert [d.event_id for d in dead] == [ids[2], ids[7]]
    assert dead[0].last_error == "rejected by Timeback: actor.email is not an email"
    assert (status.dead, status.acked, status.pending) == (2, 8, 0)
    api.invalid.clear()  # fixed on the server's side: retry by hand
    for row in dead:
        assert outbox.retry_dead(db, row.id or 0, now=time.utc_now())
    run(make_worker(db, api, time))
    assert_exactly_once(api, ids)


def test_crash_leftovers_are_read_back_before_sending(db: Database, time: FakeClock) -> None:
    ids = queue_events(db, 150)
    api = FakeCaliper(time, processing_s=1)
    first = outbox.claim_batch(db, now=time.utc_now())  # "crashed" after sending these
    api._store([r.event_id for r in first], [json.loads(r.payload) for r in first])
    outbox.claim_batch(db, now=time.utc_now())  # and after claiming these, before sending
    run(make_worker(db, api, time))
    assert api.posts == 1 and len(api.batches[0]) == 50  # only the unsent were sent
    assert_exactly_once(api, ids)
    assert time.utc_now() - FakeClock().utc_now() >= timedelta(seconds=600)


def test_a_second_worker_does_not_send_beside_the_lease_holder(db: Database,
                                                               time: FakeClock) -> None:
    queue_events(db, 5)
    api = FakeCaliper(time)
    holder = make_worker(db, api, time)
    assert holder.acquire()
    other = make_worker(db, api, time)
    result = other.step()
    assert not result.worked and api.posts == 0
    status = other.status.current
    assert status.state is SyncState.WAITING and status.lease_holder is not None
    holder.close()  # releases: the other may send now
    run(other)
    assert api.posts == 1


def test_start_delay_is_random_up_to_30_seconds(db: Database, time: FakeClock) -> None:
    api = FakeCaliper(time)
    worker = make_worker(db, api, time)
    expected = random.Random(7).uniform(0, 30)
    stopped = threading.Event()
    worker.status.subscribe(lambda s: stopped.set() if s.state is SyncState.STOPPED else None)
    worker.start()
    assert worker.quit(grace_s=5)
    assert stopped.is_set()
    assert time.waits[0] == pytest.approx(expected) and 0 <= expected <= 30


def test_a_closed_run_wakes_the_idle_thread(db: Database) -> None:
    real = SystemClock()
    api = FakeCaliper(FakeClock(start=real.utc_now() - timedelta(days=1)))
    worker = SyncWorker(db, api, settings=SyncSettings(periodic_s=3600), clock=real,
                        rng=random.Random(1))
    done = threading.Event()
    idle = threading.Event()

    def watch(s: SyncStatus) -> None:
        if s.state is SyncState.IDLE:
            idle.set()
        if s.sent == 20:
            done.set()

    worker.status.subscribe(watch)
    worker.start(start_delay=False)
    assert idle.wait(10)
    ids = queue_events(db, 20)
    worker.notify_run_closed()  # without it, the worker would sleep for an hour
    assert done.wait(10)
    assert worker.quit()
    assert_exactly_once(api, ids)


def test_quit_leaves_undelivered_events_for_next_time(db: Database) -> None:
    real = SystemClock()
    ids = queue_events(db, 5)
    api = FakeCaliper(FakeClock())
    api.script = [OfflineError("down")] * 1000
    worker = SyncWorker(db, api, settings=SyncSettings(backoff_base_s=60), clock=real,
                        rng=random.Random(1))
    failed = threading.Event()
    worker.status.subscribe(lambda s: failed.set() if s.state is SyncState.OFFLINE else None)
    worker.start(start_delay=False)
    assert failed.wait(10)
    assert worker.quit(grace_s=0.2)
    assert worker.status.current.state is SyncState.STOPPED
    assert outbox.counts(db)["pending"] == 5 and not api.copies
    assert {i.event_id for i in outbox.list_items(db, "pending")} == set(ids)


def test_status_is_frozen(db: Database, time: FakeClock) -> None:
    status = make_worker(db, FakeCaliper(time), time).status.current
    with pytest.raises(AttributeError):
        status.state = SyncState.ERROR  # type: ignore[misc]



def test_nothing_is_claimed_ahead_of_sending(db: Database, time: FakeClock) -> None:
    queue_events(db, 250)
    api = FakeCaliper(time)
    worker = make_worker(db, api, time)
    worker.step()
    assert api.posts == 1
    assert outbox.counts(db) == {"pending": 150, "in_flight": 0, "settling": 0, "held": 0,
                                 "delivered": 100, "refused": 0}
    status = worker.status.current
    assert (status.pending, status.in_flight, status.acked) == (150, 0, 100)
    worker.close()


def test_sync_now_reports_sent_and_what_waits_and_why(db: Database, time: FakeClock) -> None:
    from companion.sync.settle import NO_WITNESS

    api = FakeCaliper(time)
    queue_events(db, 30)
    api.script = [AmbiguousFailure("connection reset")]  # a fresh install's first send is lost
    worker = make_worker(db, api, time)
    worker.sync_now()
    assert worker.status.current.sync_now_running
    status = worker.run_until_idle()
    report = status.sync_now
    assert report is not None and not status.sync_now_running
    assert (report.sent, report.waiting, report.reason) == (0, 30, NO_WITNESS)
    assert report.text() == f"Sent 0; 30 waiting: {NO_WITNESS}"
    assert status.held == 30 and status.waiting_text() == f"30 waiting: {NO_WITNESS}"
    assert status.state is SyncState.WAITING and status.reason == NO_WITNESS  # not "sending"
    queue_events(db, 5, start=100)
    worker.sync_now()
    status = run(worker)
    assert status.sync_now is not None
    assert (status.sync_now.sent, status.sync_now.waiting) == (35, 0)  # settled by the 5
    assert status.sync_now.text() == "Sent 35; everything is delivered"
    assert status.waiting == () and api.posts == 3


def test_sync_now_reports_the_error(db: Database, time: FakeClock) -> None:
    api = FakeCaliper(time)
    queue_events(db, 3)
    api.script = [OfflineError("no route to host")] * 50
    worker = make_worker(db, api, time)
    worker.sync_now()
    status = worker.run_until_idle(give_up_when_failing=True)
    worker.close()
    assert status.sync_now is not None and status.sync_now.error is not None
    assert "no route to host" in status.sync_now.text()


def test_a_job_that_rejected_an_event_refuses_it_and_an_odd_job_is_no_evidence(
    db: Database, time: FakeClock
) -> None:
    ids = queue_events(db, 3)
    api = FakeCaliper(time, job_ids=True)
    job = api._store(ids[:1])  # only the first arrived, under a job that rejected it
    rows = outbox.claim_batch(db, now=time.utc_now())
    until = time.utc_now() + timedelta(seconds=600)
    outbox.mark_settling(db, [r.id or 0 for r in rows], until, time.utc_now(), "lost", job_id=job)

    def rejected(job_id: str) -> JobStatus:
        return JobStatus(job_id, "completed",
                         (JobEventResult(ids[0], "rejected", "actor.email is missing"),))

    api.job_status = rejected  # type: ignore[method-assign]
    worker = make_worker(db, api, time)
    worker.step()
    first = outbox.list_items(db)[0]
    assert (first.state, first.last_error) == ("refused",
                                              "rejected by Timeback: actor.email is missing")
    # the others: the job says nothing of them and the list cannot vouch (nothing stored is
    # known): they wait, and are never sent again on that word alone
    assert {r.state for r in outbox.list_items(db)[1:]} == {"settling"}
    worker.close()
