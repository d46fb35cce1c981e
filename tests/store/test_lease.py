"""The lease: one holder at a time, in one process and across two real processes."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from companion.store.db import Database
from companion.store.lease import Lease, LeaseKeeper

REPO = Path(__file__).resolve().parents[2]
CHILD = Path(__file__).with_name("lease_child.py")
WAIT_S = 30.0


class Clock:
    """A settable clock in seconds."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox")
    yield database
    database.close()


def test_only_one_holder_until_expiry(db: Database) -> None:
    clock = Clock()
    first = Lease(db, ttl_s=30.0, clock=clock)
    second = Lease(db, ttl_s=30.0, clock=clock)
    assert first.try_acquire()
    assert first.held
    assert not second.try_acquire()
    assert not second.held
    assert first.try_acquire()  # already ours
    info = second.holder()
    assert info is not None
    assert (info.holder_id, info.pid, info.expires_at) == (first.holder_id, os.getpid(), 1_030.0)

    clock.now = 1_029.9
    assert not second.try_acquire()
    clock.now = 1_030.0
    assert not first.held
    assert first.holder() is None
    assert second.try_acquire()
    assert not first.renew()
    assert not first.held
    assert second.renew()


def test_renew_extends_and_release_frees(db: Database) -> None:
    clock = Clock()
    first = Lease(db, ttl_s=10.0, clock=clock)
    second = Lease(db, ttl_s=10.0, clock=clock)
    assert first.try_acquire()
    clock.now += 8
    assert first.renew()
    clock.now += 8  # past the first expiry, within the renewed one
    assert first.held
    assert not second.try_acquire()
    first.release()
    assert not first.held
    assert second.holder() is None
    assert second.try_acquire()


class CountingLease(Lease):
    """A real lease that signals after a number of renewals."""

    def __init__(self, *args: object, wanted: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.renewals = 0
        self.wanted = wanted
        self.done = threading.Event()

    def renew(self) -> bool:
        ok = super().renew()
        self.renewals += 1
        if self.renewals >= self.wanted:
            self.done.set()
        return ok


def test_keeper_renews_until_stopped(db: Database) -> None:
    clock = Clock()
    lease = CountingLease(db, ttl_s=30.0, clock=clock, wanted=3)
    assert lease.try_acquire()
    clock.now = 1_020.0
    keeper = LeaseKeeper(lease, interval_s=0.01)
    keeper.start()
    assert lease.done.wait(WAIT_S)
    keeper.stop()
    assert not keeper.running
    info = lease.holder()
    assert info is not None and info.expires_at == 1_050.0


def test_keeper_reports_a_lost_lease(db: Database) -> None:
    clock = Clock()
    mine = Lease(db, ttl_s=30.0, clock=clock)
    thief = Lease(db, ttl_s=30.0, clock=lambda: clock.now + 60)
    assert mine.try_acquire()
    assert thief.try_acquire()
    lost = threading.Event()
    keeper = LeaseKeeper(mine, interval_s=0.01, on_lost=lost.set)
    keeper.start()
    assert lost.wait(WAIT_S)
    keeper.stop()
    assert not mine.held


class Child:
    """A lease_child.py process; its output lines are read on a thread into a queue."""

    def __init__(self, db_path: Path, ttl_s: float, stderr_path: Path, *args: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self._stderr = open(stderr_path, "w")  # noqa: SIM115  (closed in close())
        self.stderr_path = stderr_path
        self.proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(db_path), "sandbox", str(ttl_s), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
            cwd=REPO,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        assert self.proc.stdout is not None
        self._reader = threading.Thread(target=self._read, args=(self.proc.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line.strip())
        self.lines.put(None)

    def line(self) -> str:
        """The next line printed, waiting at most WAIT_S seconds."""
        try:
            line = self.lines.get(timeout=WAIT_S)
        except queue.Empty:
            line = None
        if line is None:
            raise AssertionError(f"child said nothing; stderr: {self.stderr_path.read_text()}")
        return line

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def ask(self, command: str) -> str:
        self.send(command)
        return self.line()

    def close(self) -> None:
        """Quit (or kill) the child and close every pipe."""
        if self.proc.poll() is None:
            try:
                self.send("quit")
            except (BrokenPipeError, OSError):
                self.proc.kill()
        try:
            self.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(WAIT_S)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()


@pytest.fixture
def children(tmp_path: Path) -> Iterator[list[Child]]:
    started: list[Child] = []
    db_path = tmp_path / "companion-sandbox.sqlite3"
    Database.open(db_path, "sandbox").close()  # create the schema once

    def start() -> Child:
        child = Child(db_path, 30.0, tmp_path / f"child{len(started)}.err")
        started.append(child)
        assert child.line().startswith("ready ")
        return child

    yield [start(), start()]
    for child in started:
        child.close()


def test_two_processes_never_both_hold_it(children: list[Child]) -> None:
    first, second = children
    for child in children:  # ask both at once
        child.send("try")
    replies = sorted(child.line() for child in children)
    assert replies == ["acquired", "busy"]
    holder = first if first.ask("renew") == "renewed" else second
    assert holder.ask("holder") == f"holder {holder.proc.pid}"


def test_lease_passes_on_after_the_holder_is_killed(children: list[Child]) -> None:
    first, second = children
    assert first.ask("try") == "acquired"
    assert second.ask("try") == "busy"
    assert second.ask("holder") == f"holder {first.proc.pid}"

    first.proc.kill()  # SIGKILL on POSIX: no release, no clean-up
    first.proc.wait(timeout=WAIT_S)

    assert second.ask("try 29") == "busy"  # 29 s later: not yet expired
    assert second.ask("try 31") == "acquired"  # the holder stopped renewing 31 s ago
    assert second.ask("holder 31") == f"holder {second.proc.pid}"
