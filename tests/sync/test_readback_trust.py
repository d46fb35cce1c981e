"""Delivery against receivers that behave differently from the sandbox: one that does not
decode paths, one whose read-back always says 404, ones whose job status never finishes (or
has an odd shape), one whose answer carried a job id and then the connection dropped. In
each: no event stored twice, none lost (every event is delivered, or held where a person
can see it), also when the delivering process is killed at every named crash point."""

from __future__ import annotations

import random
import signal
from pathlib import Path

import httpx
import pytest

from companion.store import outbox
from companion.store.db import Database
from companion.store.tables import DeliveryState
from companion.sync.crashpoints import NAMES
from companion.sync.settle import BLIND, NO_WITNESS
from companion.sync.status import SyncStatus
from companion.sync.worker import SyncWorker
from companion.timeback import CaliperClient, auth_for, caliper_client, sandbox_environment
from tests.sync.deliver_child import SENSOR, fast_settings, queue_events
from tests.sync.odd_servers import Behaviour, Receiver, receiver_running
from tests.sync.test_crash_delivery import RUNNING, Child, _reap_children  # noqa: F401

NO_DECODE = Behaviour(by_id="raw", event_list=False)
ALWAYS_404 = Behaviour(by_id="404", event_list=False)
JOB_NEVER_DONE = Behaviour(by_id="404", jobs="never", drop="queued")
JOB_ODD_SHAPE = Behaviour(by_id="404", jobs="odd", drop="queued")
JOB_ID_THEN_DROP = Behaviour(by_id="404", jobs="never", drop="jobid-then-drop")
BEHAVIOURS = {
    "no-decode": NO_DECODE,
    "always-404": ALWAYS_404,
    "job-never-done": JOB_NEVER_DONE,
    "job-odd-shape": JOB_ODD_SHAPE,
    "jobid-then-drop": JOB_ID_THEN_DROP,
}


def client_for(url: str) -> CaliperClient:
    env = sandbox_environment(url)
    return caliper_client(env, auth_for(env), sensor=SENSOR, timeout=httpx.Timeout(5.0))


def deliver(db: Database, url: str) -> SyncStatus:
    with client_for(url) as client:
        worker = SyncWorker(db, client, settings=fast_settings(1.0), rng=random.Random(3))
        try:
            return worker.run_until_idle()
        finally:
            worker.close()


def check_nothing_twice_nothing_lost(receiver: Receiver, db: Database, ids: list[str],
                                     read_back_works: bool) -> list[str]:
    """No copy twice; every event stored once; the outbox says delivered, or held where
    read-back could not be trusted. Returns the held event ids."""
    assert receiver.duplicates == 0
    assert set(receiver.copies) <= set(ids)
    rows = {row.event_id: row for row in outbox.list_items(db)}
    assert set(rows) == set(ids)
    states = {row.state for row in rows.values()}
    held = sorted(e for e, row in rows.items() if row.state is DeliveryState.HELD)
    if read_back_works:
        assert states == {DeliveryState.DELIVERED}
        assert set(receiver.copies) == set(ids)  # each reached the server, once
    else:
        # what did not reach the server is held: maybe it was never sent, but no one knows
        assert set(ids) - set(receiver.copies) <= set(held)
        assert states <= {DeliveryState.DELIVERED, DeliveryState.HELD}
        for event_id in held:
            assert rows[event_id].hold_reason is not None
            assert rows[event_id].hold_reason.startswith((BLIND, NO_WITNESS))
    return held


@pytest.mark.parametrize("name", list(BEHAVIOURS))
def test_each_receiver_gets_every_event_once(name: str, tmp_path: Path) -> None:
    behaviour = BEHAVIOURS[name]
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as db, \
            receiver_running(behaviour) as (receiver, url):
        ids = queue_events(db, 700, namespace=name)
        status = deliver(db, url)
        read_back_works = name != "always-404"
        held = check_nothing_twice_nothing_lost(receiver, db, ids, read_back_works)
        if read_back_works:
            assert held == [] and status.held == 0
            return
        # Read-back that finds nothing is no evidence: the lost answers are held, visibly.
        assert len(held) >= 100 and status.held == len(held)
        assert status.waiting and status.waiting[0].state == "held"
        assert status.waiting_text() is not None and "held" in status.waiting_text()
        # A person who read why can let them go: they are sent again (here: a second copy,
        # which is why this is their decision and never the worker's).
        for row in outbox.list_items(db, DeliveryState.HELD):
            assert outbox.release_held_row(db, row.id or 0)
        assert outbox.counts(db)["held"] == 0 and outbox.counts(db)["pending"] == len(held)


def test_the_sent_ids_keep_their_colons(tmp_path: Path) -> None:
    """The receiver that does not decode paths settles by id only because ':' is sent as is."""
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as db, \
            receiver_running(NO_DECODE) as (receiver, url):
        queue_events(db, 300)
        deliver(db, url)
        assert receiver.requests["GET caliper"] > 0  # read back by id, and it found them
        assert outbox.counts(db)["delivered"] == 300


def test_a_held_batch_is_settled_by_a_later_delivery(tmp_path: Path) -> None:
    """A fresh install whose very first send is lost on its way in: nothing is known to be
    stored, so the batch is held; a later batch is delivered and found, which shows that the
    read-back works, and the held batch is then sent again, once."""
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as db, \
            receiver_running(Behaviour(drop_every=1, drop="unstored")) as (receiver, url):
        ids = queue_events(db, 50)
        status = deliver(db, url)
        assert status.held == 50 and receiver.posts == 1
        assert {r.hold_reason for r in outbox.list_items(db)} == {NO_WITNESS}
        assert status.waiting_text() == f"50 waiting: {NO_WITNESS}"
        receiver.behaviour = Behaviour(drop_every=0)
        ids += queue_events(db, 20, start=50)
        status = deliver(db, url)
        assert status.held == 0 and receiver.posts == 3  # the later batch, the held one again
        check_nothing_twice_nothing_lost(receiver, db, ids, read_back_works=True)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("name", ["no-decode", "always-404", "jobid-then-drop"])
def test_killed_at_every_point_against_each_receiver(name: str, tmp_path: Path) -> None:
    db_path = tmp_path / "companion-sandbox.sqlite3"
    with Database.open(db_path, "sandbox") as db:
        ids = queue_events(db, 900, namespace=f"kill-{name}")
    with receiver_running(BEHAVIOURS[name]) as (receiver, url):
        for crash_at in [f"{point}:2" for point in NAMES]:
            child = Child(db_path, url, crash_at)
            code = child.finish()
            assert code == -signal.SIGKILL, (crash_at, code, child.lines[-3:])
        final = Child(db_path, url)
        assert final.finish() == 0, final.lines[-3:]
        with Database.open(db_path, "sandbox") as db:
            check_nothing_twice_nothing_lost(receiver, db, ids, name != "always-404")
