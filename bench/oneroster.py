"""Benchmark: a full OneRoster roster pull for one school through the client.

The sandbox is seeded with 5,000 users and 200 classes (with enrollments); each run pulls
the school's roster with a fresh client (token included) over loopback HTTP. Prints the
median of 5 runs; the last line is JSON: {"roster_pull_s", "users", "classes"}.
Target: under 3 s.

Run: .venv/bin/python bench/oneroster.py [--users N] [--classes N] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from companion.sandbox.seed import seed_large
from companion.sandbox.server import start_in_thread
from companion.timeback import Roster, auth_for, oneroster_client, sandbox_environment

SCHOOL_ID = "large-school-1"


def pull_once(base_url: str) -> tuple[float, Roster, int]:
    env = sandbox_environment(base_url)
    started = time.perf_counter()
    with oneroster_client(env, auth_for(env)) as client:
        roster = client.pull_school_roster(SCHOOL_ID)
        requests = client.requests_made
    return time.perf_counter() - started, roster, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--classes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        handle = start_in_thread(port=0, data_dir=Path(data_dir),
                                 seed=seed_large(users=args.users, classes=args.classes))
        try:
            times = []
            for run in range(args.runs):
                seconds, roster, requests = pull_once(handle.base_url)
                times.append(seconds)
                print(f"run {run + 1}: {seconds:.3f} s, {len(roster.users)} users, "
                      f"{len(roster.classes)} classes, {len(roster.enrollments)} enrollments, "
                      f"{requests} requests")
        finally:
            handle.stop()
    print(json.dumps({"roster_pull_s": round(statistics.median(times), 3),
                      "users": len(roster.users), "classes": len(roster.classes)}))


if __name__ == "__main__":
    main()
