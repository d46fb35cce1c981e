"""Crash recovery: a recorder killed mid-run; the next owner closes its run exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from companion.core import rules
from companion.core.journal import Line
from companion.session import closing
from companion.store import outbox, runs
from companion.store.db import Database
from companion.store.lease import Lease
from tests.store.run_child import ANCHOR, CHILD_LINES, CTX, LESSON, STUDENT, seed

REPO = Path(__file__).resolve().parents[2]


def start_child(db_path: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    """Start the recorder; return it and its run id once it says ready."""
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.store.run_child", str(db_path), *args],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    word, _, run_id = child.stdout.readline().strip().partition(" ")
    if word != "ready":
        child.kill()
        child.communicate()
        pytest.fail(f"child did not start: {word!r}")
    return child, run_id


def test_run_left_open_by_a_killed_process_is_closed_once(tmp_path: Path) -> None:
    db_path = tmp_path / "companion-sandbox.sqlite3"
    with Database.open(db_path, "sandbox") as db:
        seed(db)

    child, run_id = start_child(db_path)
    try:
        with Database.open(db_path, "sandbox") as db:
            # While the recorder lives, its lease keeps everyone else out.
            assert Lease(db, ttl_s=30).try_acquire() is False
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    assert child.returncode == -signal.SIGKILL

    later = time.time() + 120  # past the dead recorder's 30 s lease
    with Database.open(db_path, "sandbox") as db:
        assert runs.open_run_id(db) == run_id
        lease = Lease(db, ttl_s=30, clock=lambda: later)
        assert lease.try_acquire()

        assert closing.recover_orphaned_runs(db, lease, CTX) == [run_id]

        lines = runs.journal(db, run_id)
        assert lines[1:-1] == list(CHILD_LINES)
        assert lines[-1] == Line(90_000, "end", completed=False)  # at the last heartbeat
        run = runs.get_run(db, run_id)
        assert run is not None and run.state == "closed" and run.completed is False
        assert run.xp is not None and Decimal(run.xp) == 0
        events = runs.run_events(db, run_id)
        kinds = [e["type"] for e in events]
        assert kinds.count("ActivityEvent") == 1 and kinds.count("TimeSpentEvent") == 1
        classification = rules.classify(lines)
        spent = next(e for e in events if e["type"] == "TimeSpentEvent")
        active = sum(
            Decimal(str(i["value"])) for i in spent["generated"]["items"] if i["type"] == "active"
        )
        assert active * 1000 == classification.total("active") == 90_000
        progress = runs.get_progress(db, STUDENT, LESSON)
        assert progress is not None and progress.attempts == 1 and not progress.mastered

        rows = len(outbox.list_items(db))
        assert closing.recover_orphaned_runs(db, lease, CTX) == []
        assert len(outbox.list_items(db)) == rows
        assert runs.journal(db, run_id) == lines


def test_recovery_needs_the_lease(tmp_path: Path) -> None:
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as db:
        seed(db)
        run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
        with pytest.raises(runs.RunError, match="lease"):
            closing.recover_orphaned_runs(db, Lease(db, ttl_s=30), CTX)
        assert runs.open_run_id(db) == run_id
