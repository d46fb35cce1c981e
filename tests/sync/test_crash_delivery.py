"""Kill a real delivering process (SIGKILL) at each named crash point and at random moments,
restart it, and check: every event stored exactly once, nothing lost. Then two processes on
one database: only the lease holder sends; killing it hands over after the lease expires."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.sandbox.faults import Fault
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.store import outbox
from companion.store.db import Database
from companion.sync.crashpoints import ENV_VAR, NAMES
from tests.sync.deliver_child import queue_events

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread(processing_delay_s=0.1) as handle:
        yield handle


RUNNING: list[Child] = []


@pytest.fixture(autouse=True)
def _reap_children() -> Iterator[None]:
    """Kill and reap any child a failed test left behind (no stray processes or pipes)."""
    yield
    while RUNNING:
        child = RUNNING.pop()
        if child.proc.poll() is None:
            child.kill()
        child.proc.wait(timeout=30)
        if child.proc.stdout is not None:
            child.proc.stdout.close()


class Child:
    """A deliver_child process whose output lines are read as they come."""

    def __init__(self, db_path: Path, url: str, crash_at: str | None = None,
                 lease_ttl_s: float = 1.5) -> None:
        env = dict(os.environ)
        env.pop(ENV_VAR, None)
        if crash_at:
            env[ENV_VAR] = crash_at
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.sync.deliver_child", "--db", str(db_path),
             "--url", url, "--settle", "1.5", "--lease-ttl", str(lease_ttl_s)],
            cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        RUNNING.append(self)

    def read_until(self, predicate: object = None) -> str | None:
        """Read lines until ``predicate(line)`` is true (returns it) or the output ends."""
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.strip()
            self.lines.append(line)
            if callable(predicate) and predicate(line):
                return line
        return None

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)

    def finish(self) -> int:
        self.read_until()
        code = self.proc.wait(timeout=60)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return code


def sent_of(line: str) -> int:
    parts = line.split()
    return int(parts[parts.index("sent") + 1]) if "sent" in parts else 0


def check_exactly_once(sandbox: SandboxHandle, db_path: Path, ids: list[str]) -> None:
    sandbox.state.process_now()
    assert sandbox.state.duplicate_count == 0
    assert set(sandbox.state.stored_events) == set(ids)
    with Database.open(db_path, "sandbox") as db:
        counts = outbox.counts(db)
    assert (counts["pending"], counts["in_flight"], counts["acked"]) == (0, 0, len(ids))


def test_killed_at_every_point_nothing_lost_nothing_twice(sandbox: SandboxHandle,
                                                          tmp_path: Path) -> None:
    db_path = tmp_path / "companion-sandbox.sqlite3"
    with Database.open(db_path, "sandbox") as db:
        ids = queue_events(db, 2500)
    rng = random.Random(11)
    kills = [f"{name}:{rng.randint(1, 4)}" for name in NAMES] + [None] * 4
    for crash_at in kills:
        child = Child(db_path, sandbox.base_url, crash_at)
        if crash_at is None:  # a random moment: after a random number of progress lines
            wanted = rng.randint(1, 6)
            seen = [0]

            def enough(line: str, wanted: int = wanted, seen: list[int] = seen) -> bool:
                seen[0] += 1
                return seen[0] >= wanted

            child.read_until(enough)
            child.kill()
        code = child.finish()
        assert code == -signal.SIGKILL, (crash_at, code, child.lines[-3:])
    with Database.open(db_path, "sandbox") as db:
        assert outbox.counts(db)["acked"] < len(ids)  # the kills did interrupt the work
    final = Child(db_path, sandbox.base_url)
    assert final.finish() == 0, final.lines[-3:]
    assert final.lines[-1] == "done"
    check_exactly_once(sandbox, db_path, ids)


def test_only_the_lease_holder_sends_and_a_kill_hands_over(sandbox: SandboxHandle,
                                                           tmp_path: Path) -> None:
    db_path = tmp_path / "companion-sandbox.sqlite3"
    with Database.open(db_path, "sandbox") as db:
        ids = queue_events(db, 1000, namespace="lease-test")
    sandbox.state.faults.set("caliper.event", Fault(latency_s=0.2))  # ~2 s of sending
    first = Child(db_path, sandbox.base_url, lease_ttl_s=1.5)
    assert first.read_until(lambda line: sent_of(line) > 0) is not None
    second = Child(db_path, sandbox.base_url, lease_ttl_s=1.5)
    waiting = second.read_until(lambda line: f"holder pid {first.proc.pid}" in line)
    assert waiting is not None, second.lines
    assert sent_of(waiting) == 0  # it waits, it does not send
    first.kill()
    assert first.finish() == -signal.SIGKILL
    assert second.finish() == 0
    assert second.lines[-1] == "done"
    assert max(sent_of(line) for line in second.lines) > 0  # it took over
    check_exactly_once(sandbox, db_path, ids)
