"""A lease held by a process of this computer that no longer exists is taken over at once."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from companion.store.db import Database
from companion.store.lease import Lease
from companion.store.tables import LeaseRow
from companion.system import processes
from companion.system.processes import ThisComputer
from tests.store.test_lease import WAIT_S, Child
from tests.store.test_migrations import SAMPLE

linux_only = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def gone_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def probing(tmp_path: Path) -> Iterator[list[Child]]:
    db_path = tmp_path / "companion-sandbox.sqlite3"
    Database.open(db_path, "sandbox").close()
    started = [Child(db_path, 30.0, tmp_path / f"child{i}.err", "--probe") for i in range(2)]
    for child in started:
        assert child.line().startswith("ready ")
    yield started
    for child in started:
        child.close()


def test_a_killed_holder_is_taken_over_without_waiting(probing: list[Child]) -> None:
    first, second = probing
    assert first.ask("try") == "acquired"
    assert second.ask("try") == "busy"  # a live holder is respected
    assert second.ask("try 29") == "busy"
    assert second.ask("holder") == f"holder {first.proc.pid}"

    first.proc.kill()  # SIGKILL: no release, no clean-up
    first.proc.wait(timeout=WAIT_S)

    assert second.ask("holder") == "holder none"
    assert second.ask("try") == "acquired"  # at once, not 30 s later
    assert second.ask("holder") == f"holder {second.proc.pid}"


def test_a_live_holder_in_another_process_keeps_it(probing: list[Child]) -> None:
    first, second = probing
    assert first.ask("try") == "acquired"
    for _ in range(3):
        assert second.ask("try") == "busy"
        assert first.ask("renew") == "renewed"


def _stale_lease(db: Database, pid: int, host: str, start: str | None) -> None:
    """A lease valid until 1030 s, as if held by ``pid`` (started as ``start``) on ``host``."""

    def put(session: Session) -> None:
        session.merge(LeaseRow(name="owner", holder_id="someone", pid=pid, host=host,
                               acquired_at=1_000.0, heartbeat_at=1_000.0, expires_at=1_030.0,
                               pid_start=start))

    db.write(put)


def test_only_a_holder_of_this_computer_is_checked(tmp_path: Path) -> None:
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as db:
        _stale_lease(db, gone_pid(), "another-computer", None)
        assert not Lease(db, clock=lambda: 1_010.0, processes=ThisComputer()).try_acquire()
        _stale_lease(db, gone_pid(), socket.gethostname(), None)
        assert Lease(db, clock=lambda: 1_010.0, processes=ThisComputer()).try_acquire()


@linux_only
def test_a_reused_pid_is_not_its_old_process(tmp_path: Path) -> None:
    me = os.getpid()
    token = processes.start_token(me)
    assert token is not None and not processes.is_gone(me, token)
    boot, namespace, ticks = token.split(" ")
    later = f"{boot} {namespace} {int(ticks) + 1}"
    assert processes.is_gone(me, later)  # same pid, later start: the pid was reused
    assert processes.is_gone(me, f"another-boot {namespace} {ticks}")  # restarted since
    assert not processes.is_gone(gone_pid(), f"{boot} pid:[1] {ticks}")  # another namespace
    assert processes.is_gone(gone_pid(), token)
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as db:
        _stale_lease(db, me, socket.gethostname(), later)
        assert Lease(db, clock=lambda: 1_010.0, processes=ThisComputer()).try_acquire()


def test_a_zombie_is_gone_and_the_stat_name_may_hold_parentheses(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "sys/kernel/random").mkdir(parents=True)
    (proc / "sys/kernel/random/boot_id").write_text("b00t\n")
    rest = " ".join(["0"] * 16) + " 4242 0 0"  # fields 6..24; field 22 is 4242
    for pid, state in ((7, "S"), (8, "Z")):
        (proc / str(pid)).mkdir()
        (proc / str(pid) / "stat").write_text(f"{pid} (a (b) c) {state} 1 1 {rest}\n")
    (proc / "self/ns").mkdir()
    (proc / "self/ns/pid").symlink_to("pid:[4026531836]")
    token = "b00t pid:[4026531836] 4242"
    assert processes.start_token(7, proc) == token
    assert not processes.is_gone(7, token, proc)
    assert processes.is_gone(8, token, proc)  # a zombie
    assert processes.is_gone(9, token, proc)  # no such process


def test_without_a_start_token_only_the_pid_is_checked() -> None:
    assert not processes.is_gone(os.getpid(), None, Path("/nonexistent"), platform="linux")
    assert processes.is_gone(gone_pid(), None, Path("/nonexistent"), platform="linux")
    assert not processes.is_gone(gone_pid(), None, Path("/nonexistent"), platform="win32")


def test_the_version_one_sample_lease_of_a_gone_process_is_taken_at_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "companion-sandbox.sqlite3"
    shutil.copyfile(SAMPLE, path)
    with sqlite3.connect(path) as con:
        [(heartbeat, expires)] = con.execute(
            "SELECT heartbeat_at, expires_at FROM lease"
        ).fetchall()
        # The sample was made on a computer called "vm" by a process now gone; its pid may
        # be alive here, so point the row at this computer and a pid known to be gone.
        con.execute("UPDATE lease SET pid = ?, host = ?", (gone_pid(), socket.gethostname()))
    with Database.open(path, "sandbox") as db:
        with sqlite3.connect(path) as con:
            assert con.execute("SELECT pid_start FROM lease").fetchall() == [(None,)]
        before_expiry = heartbeat + 1
        assert before_expiry < expires
        assert not Lease(db, clock=lambda: before_expiry).try_acquire()  # no probe: waits
        lease = Lease(db, clock=lambda: before_expiry, processes=ThisComputer())
        assert lease.try_acquire()
        holder = lease.holder()
        assert holder is not None and holder.pid == os.getpid()
        with sqlite3.connect(path) as con:
            [(start,)] = con.execute("SELECT pid_start FROM lease").fetchall()
        assert start == processes.start_token(os.getpid())
