"""`companion sync`: the missing-sandbox message, delivery with a summary, the lease."""

from __future__ import annotations

import argparse
import io

import pytest

from companion.commands import sync as sync_command
from companion.sandbox.server import start_in_thread
from companion.store import outbox
from companion.store.db import Database
from companion.store.lease import Lease
from companion.store.paths import database_path
from tests.sync.deliver_child import queue_events


def args(**kw: object) -> argparse.Namespace:
    base: dict[str, object] = {"env": None, "once": False, "url": None, "wait": False,
                               "settle": 5.0}
    base.update(kw)
    return argparse.Namespace(**base)


def test_says_how_to_start_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(sync_command.SANDBOX_URL_VAR, raising=False)
    err = io.StringIO()
    assert sync_command.run(args(), stdout=io.StringIO(), stderr=err) == 1
    assert "sandbox is not running" in err.getvalue()
    assert "companion sandbox" in err.getvalue()


def test_delivers_with_progress_and_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    with start_in_thread() as sandbox:
        monkeypatch.setenv(sync_command.SANDBOX_URL_VAR, sandbox.base_url)
        with Database.open(database_path("sandbox"), "sandbox") as db:
            ids = queue_events(db, 150)
        out, err = io.StringIO(), io.StringIO()
        assert sync_command.run(args(once=True), stdout=out, stderr=err) == 0
        assert "sent 150/150" in err.getvalue().splitlines()
        assert out.getvalue().startswith("150 sent, 0 left to send, 0 held, 0 refused")
        sandbox.state.process_now()
        assert set(sandbox.state.stored_events) == set(ids)


def test_does_not_send_beside_the_lease_holder(monkeypatch: pytest.MonkeyPatch) -> None:
    with start_in_thread() as sandbox, Database.open(database_path("sandbox"), "sandbox") as db:
        queue_events(db, 5)
        app_lease = Lease(db, "owner", ttl_s=60)
        assert app_lease.try_acquire()  # "the app" is running
        err = io.StringIO()
        code = sync_command.run(args(url=sandbox.base_url), stdout=io.StringIO(), stderr=err)
        assert code == sync_command.EXIT_LEASE
        assert "Not sending" in err.getvalue()
        assert outbox.counts(db)["pending"] == 5
        assert sandbox.state.request_counts.get("POST /caliper/event", 0) == 0
        app_lease.release()


def test_when_only_held_deliveries_are_left_it_says_why_and_fails() -> None:
    from tests.sync.odd_servers import Behaviour, receiver_running

    with receiver_running(Behaviour(by_id="404", event_list=False, drop_every=2)) as (
            receiver, url):
        with Database.open(database_path("sandbox"), "sandbox") as db:
            queue_events(db, 250)
        out, err = io.StringIO(), io.StringIO()
        code = sync_command.run(args(url=url, settle=0.3), stdout=out, stderr=err)
    text = out.getvalue()
    assert code == 1, (text, err.getvalue())
    assert receiver.duplicates == 0
    assert text.startswith("150 sent, 0 left to send, 100 held, 0 refused")
    assert "held: 100 events held: held: read-back cannot find events known to be stored" in text
