"""Delivery throughput: 10,000 pending events to the sandbox on loopback, batched, against
the same client sending one event per envelope over one reused connection.

The sandbox runs in a child process (``companion sandbox --port 0``) so that its CPU is not
counted against ours. Run: ``.venv/bin/python -m bench.sync [--events N] [--baseline N]``.
The last line is JSON: events_per_s, requests, baseline_events_per_s, speedup, peak_rss_mb.
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

from companion.store.db import Database
from companion.sync.settings import SyncSettings
from companion.sync.worker import SyncWorker
from companion.timeback import auth_for, caliper_client, sandbox_environment
from tests.sync.deliver_child import SENSOR, make_event, queue_events

ADMIN: dict[str, str] = {}  # the admin token header the sandbox printed at start


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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=1_000)
    args = parser.parse_args()
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
                      "speedup": round(rate / baseline, 1), "peak_rss_mb": round(peak_mb, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
