"""Delivery in the service: a run closed through it goes to the sandbox, "Sync now" says so,
and the service holds the database's lease. In-process, with a real sandbox on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.commands.service import CannotStart, Hosted, build_service
from companion.core.clock import FakeClock
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.service.client import ServiceClient
from companion.service.endpoint import InProcessHost
from companion.store import outbox
from companion.timeback import sandbox_environment
from tests.service.conftest import AVA, DRILL, GUIDE


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread(port=0, seed="demo") as handle:
        yield handle


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hosted(tmp_path: Path, sandbox: SandboxHandle, clock: FakeClock) -> Iterator[Hosted]:
    env = sandbox_environment(sandbox.base_url)
    built = build_service(tmp_path / "data", "sandbox", clock, demo_school=True, environment=env)
    assert built.delivery is not None
    built.delivery.start()
    try:
        yield built
    finally:
        built.close()


def test_a_run_closed_through_the_service_is_delivered_and_sync_now_says_so(
    hosted: Hosted, sandbox: SandboxHandle, clock: FakeClock
) -> None:
    assert hosted.delivery is not None
    refresher = hosted.delivery.delivery.refresher
    assert refresher is not None and refresher.school_id == "demo-school-1"
    host = InProcessHost(hosted.service)
    client = ServiceClient(host.connect)
    try:
        client.sign_in(AVA, "1234")
        run = client.open_run(AVA, DRILL)
        clock.advance(61_000)
        client.line(run, {"t": 60, "kind": "input"})
        client.close_run(run, completed=False)
        said = client.request("sync_now", guide=GUIDE, guidePin="9999")["said"]
    finally:
        client.close()
        host.close()
    # "Sync now" answers once its pass is over: the run's events are delivered (the ones
    # the close woke delivery for may have gone out before it)
    assert said.startswith("Sent ") and said.endswith("everything is delivered")
    counts = outbox.counts(hosted.db)
    assert counts["pending"] == counts["in_flight"] == counts["settling"] == 0
    assert counts["delivered"] == 2  # a TimeSpentEvent and the ActivityEvent
    # a fresh sandbox: what it stored is this run's events, each once
    assert len(sandbox.state.store.stored_events()) == counts["delivered"]
    assert sandbox.state.store.duplicate_count() == 0


def test_a_second_service_on_the_same_data_cannot_start(hosted: Hosted, tmp_path: Path) -> None:
    with pytest.raises(CannotStart, match="owns"):
        build_service(tmp_path / "data", "sandbox", FakeClock(), demo_school=True)
