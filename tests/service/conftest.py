"""The service built on a real SQLite file with the demo school, hosted in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from companion.commands.service import Hosted, build_service
from companion.core.clock import FakeClock
from companion.service.client import ServiceClient
from companion.service.endpoint import InProcessHost

AVA = "demo-student-01"
LIAM = "demo-student-02"
GUIDE = "demo-guide-1"
DRILL = "demo-math-drill"  # answer key: drill-1 is 13; abandoned after 300 s


@dataclass
class Running:
    """A service on a data folder, and clients of it."""

    hosted: Hosted
    host: InProcessHost
    clock: FakeClock
    clients: list[ServiceClient]
    stopped: bool = False

    def client(self) -> ServiceClient:
        client = ServiceClient(self.host.connect)
        self.clients.append(client)
        return client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def start(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[[], Running]]:
    """Start (or, called again, restart) the service on the same data folder."""
    started: list[Running] = []

    def start_service() -> Running:
        hosted = build_service(tmp_path / "data", "sandbox", clock, demo_school=True)
        running = Running(hosted, InProcessHost(hosted.service), clock, [])
        started.append(running)
        return running

    yield start_service
    for running in started:
        stop(running)


def stop(running: Running) -> None:
    """Close the clients' connections, then the service and its database."""
    if running.stopped:
        return
    running.stopped = True
    for client in running.clients:
        client.close()
    running.host.close()
    running.hosted.close()


@pytest.fixture
def service(start: Callable[[], Running]) -> Running:
    return start()
