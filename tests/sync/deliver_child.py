"""A delivering process for the crash and lease tests (and helpers to make real events).

Run as ``python -m tests.sync.deliver_child --db PATH --url URL``: it delivers the outbox to
the sandbox at URL with real time and short settings, prints one line per status change
(``state <state> sent <n> pending <n> holder <who>``), and exits 0 once nothing is left.
``COMPANION_CRASH_AT`` makes it kill itself at a named crash point.
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from companion.core import caliper
from companion.store import outbox
from companion.store.db import Database
from companion.sync.settings import SyncSettings
from companion.sync.status import SyncStatus
from companion.sync.worker import SyncWorker
from companion.timeback import auth_for, caliper_client, sandbox_environment

SENSOR = "https://companion.test/sensors/sync"
ANCHOR = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def make_event(n: int, namespace: str = "sync-tests") -> dict[str, Any]:
    """A valid Timeback ActivityEvent, unique per (namespace, n)."""
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{n}"))
    run = caliper.RunInfo(
        run_id=run_id,
        anchor=ANCHOR + timedelta(seconds=n),
        attempt=1,
        actor=caliper.Actor(
            user_url=caliper.user_url("http://127.0.0.1", f"student-{n % 7}"),
            email=f"student{n % 7}@example.org",
        ),
        activity=caliper.ActivityInfo(
            subject="Math",
            course_id_url=caliper.course_url("http://127.0.0.1", "course-1"),
            course_name="Maths",
            activity_id_url=caliper.component_url("http://127.0.0.1", f"lesson-{n % 11}"),
            activity_name=f"Lesson {n % 11}",
        ),
    )
    return caliper.activity_completed_event(run, 60_000, 10, 9, Decimal("1.5"), True)


def queue_events(db: Database, count: int, start: int = 0, namespace: str = "sync-tests",
                 ) -> list[str]:
    """Put ``count`` valid events in the outbox; returns their ids in order."""
    events = [make_event(n, namespace) for n in range(start, start + count)]
    db.write(lambda session: outbox.add_events(session, events, now=ANCHOR))
    return [e["id"] for e in events]


def fast_settings(settle_s: float = 2.0, lease_ttl_s: float = 30.0) -> SyncSettings:
    """Settings scaled down for tests against a loopback sandbox with real time."""
    return SyncSettings(
        backoff_base_s=0.01, backoff_cap_s=0.2, settle_s=settle_s, check_min_s=0.1,
        check_max_s=0.5, start_delay_max_s=0.0, periodic_s=0.5, lease_ttl_s=lease_ttl_s,
        lease_retry_s=0.1,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--settle", type=float, default=2.0)
    parser.add_argument("--lease-ttl", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    env = sandbox_environment(args.url)
    db = Database.open(args.db, "sandbox")
    client = caliper_client(env, auth_for(env), sensor=SENSOR,
                            timeout=httpx.Timeout(args.timeout))
    worker = SyncWorker(db, client, settings=fast_settings(args.settle, args.lease_ttl),
                        rng=random.Random())
    last: list[str] = []

    def show(status: SyncStatus) -> None:
        line = (f"state {status.state.value} sent {status.sent} pending {status.pending} "
                f"holder {status.lease_holder or '-'}")
        if not last or last[-1] != line:
            last.append(line)
            print(line, flush=True)

    worker.status.subscribe(show)
    try:
        worker.run_until_idle()
    finally:
        worker.close()
        client.close()
        db.close()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
