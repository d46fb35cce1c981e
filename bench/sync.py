"""Delivery throughput: 10,000 pending events to the sandbox on loopback, batched, against
the same client sending one event per envelope over one reused connection; and the catch-up
after a week offline.

The sandbox runs in a child process (``companion sandbox --port 0``) so that its CPU is not
counted against ours. Run: ``.venv/bin/python -m bench.sync [--events N] [--baseline N]``.

Catch-up: a classroom (30 students x 5 lessons x 5 days, each run 20 minutes with answers,
so TimeSpentEvents every 5 minutes, the ActivityEvent and a gradebook result) closed its
runs offline through the real run store; then the network comes back, to a sandbox that
answers every request after 50 ms (a real link to a cloud region). ``catch_up_s`` is the
time from then until every event is delivered; the results, one PUT each, come after.

The last line is JSON: events_per_s, requests, baseline_events_per_s, speedup, peak_rss_mb,
catch_up_s, catch_up_events, catch_up_requests, catch_up_results_s, catch_up_results.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from companion.core.catalogue import Catalogue
from companion.store.db import Database
from companion.sync.settings import SyncSettings
from companion.sync.worker import SyncWorker
from companion.timeback import auth_for, caliper_client, sandbox_environment
from tests.sync.deliver_child import SENSOR, make_event, queue_events

ADMIN: dict[str, str] = {}  # the admin token header the sandbox printed at start
LATENCY_S = 0.05
STUDENTS, LESSONS, DAYS = 30, 5, 5


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "companion.cli", "sandbox", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = None
    for line in proc.stdout:
        if "listening on" in line:
            url = line.split("listening on", 1)[1].strip()
        elif "admin token:" in line and url is not None:
            token, header = line.split("admin token:", 1)[1].split("(send it as", 1)
            ADMIN[header.strip(" )\n")] = token.strip()
            return proc, url
    raise RuntimeError("the sandbox did not start")


def admin_state(url: str) -> dict[str, object]:
    return dict(httpx.get(f"{url}/_admin/state", timeout=30, headers=ADMIN).json())


def demo_catalogue() -> Catalogue:
    """The demo lessons (their cache in the temporary folder)."""
    from companion.content import demo_lessons_path, load_library

    cache = Path(tempfile.gettempdir()) / "bench-lesson-cache"
    return load_library([demo_lessons_path()], cache).catalogue


def week_offline(db: Database, base_url: str) -> tuple[int, int]:
    """Close a classroom's week of runs in ``db``; returns (events, results) queued."""
    from datetime import UTC, datetime, timedelta

    from companion.core.journal import Line
    from companion.session import closing
    from companion.store import outbox, runs
    from companion.store.tables import RosterUser

    catalogue = demo_catalogue()
    runs.save_lessons(db, catalogue)
    lessons = [lesson.id for lesson in catalogue.lessons][:LESSONS]
    students = [f"bench-student-{n:02d}" for n in range(STUDENTS)]
    db.write(lambda s: s.add_all([
        RosterUser(sourced_id=sid, given_name="Student", family_name=sid[-2:],
                   email=f"{sid}@bench.school", role="student") for sid in students]))
    ctx = runs.EventContext(oneroster_base=base_url)
    work = [Line(t, "input") for t in range(20_000, 1_200_001, 20_000)]
    answers = [Line(30_000 + i * 90_000, "answer", item=f"q{i}", correct=i % 4 != 0)
               for i in range(12)]
    body = sorted(work + answers, key=lambda line: line.t)
    monday = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    for day in range(DAYS):
        for slot, lesson in enumerate(lessons):
            for index, student in enumerate(students):
                anchor = monday + timedelta(days=day, minutes=25 * slot, seconds=index)
                run_id = runs.open_run(db, student, lesson, anchor=anchor)
                runs.append_many(db, run_id, body)
                closing.close_run(db, run_id, completed=True, at_ms=1_200_000, ctx=ctx)
    counts = {kind: len(outbox.list_items(db, "pending", kind=kind))
              for kind in ("caliper", "gradebook.result")}
    return counts["caliper"], counts["gradebook.result"]


def catch_up() -> dict[str, float | int]:
    """The week offline, then the network back to a sandbox 50 ms away (in this process, so
    that its roster can hold the classroom; its work is mostly the wait)."""
    from companion.commands.content import push_line_items
    from companion.sandbox.faults import Fault
    from companion.sandbox.server import start_in_thread
    from companion.timeback import gradebook_client

    with tempfile.TemporaryDirectory() as tmp, start_in_thread() as sandbox:
        env = sandbox_environment(sandbox.base_url)
        roster = sandbox.state.roster
        for n in range(STUDENTS):
            sid = f"bench-student-{n:02d}"
            record = {"sourcedId": sid, "status": "active", "givenName": "Student",
                      "familyName": sid[-2:], "email": f"{sid}@bench.school",
                      "roles": [{"roleType": "primary", "role": "student"}]}
            roster.roster["users"].append(record)
            roster.by_id["users"][sid] = record
        db = Database.open(Path(tmp) / "companion-sandbox.sqlite3", "sandbox")
        events, results = week_offline(db, sandbox.base_url)
        auth = auth_for(env)
        catalogue = demo_catalogue()
        with caliper_client(env, auth, sensor=SENSOR) as client, \
                gradebook_client(env, auth) as gradebook:
            push_line_items(gradebook, catalogue, {c.id: c.id for c in catalogue.courses})
            sandbox.state.faults.set("*", Fault(latency_s=LATENCY_S))
            worker = SyncWorker(db, client, settings=SyncSettings(start_delay_max_s=0),
                                rng=random.Random(1), results_api=gradebook)
            events_done: list[float] = []

            def watch(status: object) -> None:
                acked = getattr(status, "acked", 0)
                if not events_done and acked >= events:
                    events_done.append(time.perf_counter())

            worker.status.subscribe(watch)
            started = time.perf_counter()  # the network is back
            status = worker.run_until_idle()
            finished = time.perf_counter()
            worker.close()
        posts = sandbox.state.request_counts.get("POST /caliper/event", 0)
        db.close()
    assert status.held == 0 and status.dead == 0, status
    return {"catch_up_s": round((events_done or [finished])[0] - started, 2),
            "catch_up_events": events, "catch_up_requests": posts,
            "catch_up_results_s": round(finished - started, 2), "catch_up_results": results}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    parser.add_argument("--catch-up-only", action="store_true")
    args = parser.parse_args()
    figures = catch_up()
    print(f"catch-up: {figures}", file=sys.stderr)
    if args.catch_up_only:
        print(json.dumps(figures))
        return 0
    proc, url = start_sandbox()
    env = sandbox_environment(url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Database.open(Path(tmp) / "companion-sandbox.sqlite3", "sandbox")
            queue_events(db, args.events, namespace="bench")
            with caliper_client(env, auth_for(env), sensor=SENSOR) as client:
                worker = SyncWorker(db, client, settings=SyncSettings(start_delay_max_s=0),
                                    rng=random.Random(1))
                client.send([make_event(-1, "bench-warmup")])  # token + connection
                before = admin_state(url)["requestCounts"]
                started = time.perf_counter()
                status = worker.run_until_idle()
                elapsed = time.perf_counter() - started
                worker.close()
                after = admin_state(url)["requestCounts"]
                assert isinstance(before, dict) and isinstance(after, dict)
                posts = after["POST /caliper/event"] - before["POST /caliper/event"]
                assert status.sent == args.events, status
                singles = [make_event(n, "bench-single") for n in range(args.baseline)]
                t0 = time.perf_counter()
                for event in singles:
                    client.send([event])
                single_elapsed = time.perf_counter() - t0
            db.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    rate = args.events / elapsed
    baseline = args.baseline / single_elapsed
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"batched: {args.events} events in {elapsed:.2f} s with {posts} POSTs; "
          f"one per envelope: {args.baseline} in {single_elapsed:.2f} s", file=sys.stderr)
    print(json.dumps({"events_per_s": round(rate, 1), "requests": posts,
                      "baseline_events_per_s": round(baseline, 1),
                      "speedup": round(rate / baseline, 1), "peak_rss_mb": round(peak_mb, 1),
                      **figures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
