"""The machine service during lessons: journal lines and answers over its Unix socket.

``companion service`` runs in a child process on a fresh data folder with a roster of
students (``seed_large``) and the demo lessons. 30 clients (threads of this process, each
its own connection and student) open a lesson and stream journal lines, every tenth an
answer the service scores against its key. A real lesson sends at most one line a second
(the sampler writes on change and a heartbeat every 15 s); here each client sends
``--rate`` lines a second for ``--seconds`` seconds, and the service's CPU time (user +
system, from /proc) is scaled back to one line a second per client.

Run: ``.venv/bin/python -m bench.service [--clients 30] [--rate 10] [--seconds 20]``.
The last line is JSON: ipc_p50_ms, ipc_p99_ms (round trip of one line or answer, to its
acknowledgement), service_cpu_pct_30 (percent of one core at one line a second for each
of 30 clients), and the measured figures behind them. Targets: p99 < 5 ms, CPU < 5 %.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from companion.sandbox.seed import seed_large
from companion.service.client import ServiceClient, unix_socket
from companion.session.signin import seed_demo_pins
from companion.store import roster
from companion.store.db import Database

LESSON = "demo-math-drill"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def prepare(data: Path, students: int) -> None:
    data.mkdir(mode=0o700)
    with Database.open(data / "companion-sandbox.sqlite3", "sandbox") as db:
        seeded = seed_large(users=students * 2, classes=2)
        roster.replace_roster(
            db,
            seeded["orgs"],
            seeded["users"],
            seeded["classes"],
            seeded["enrollments"],
            seeded["courses"],
        )
        seed_demo_pins(db)


def lesson(
    client: ServiceClient,
    student: str,
    rate: float,
    seconds: float,
    start: threading.Barrier,
    phase: float,
    times: list[float],
) -> None:
    client.sign_in(student, "1234")
    run = client.open_run(student, LESSON)
    opened = time.monotonic()
    start.wait()
    period = 1.0 / rate
    next_at = time.monotonic() + phase * period  # lessons do not tick in step
    time.sleep(phase * period)
    n = 0
    while time.monotonic() - opened < seconds:
        n += 1
        t = round(max(0.0, time.monotonic() - opened - 0.01), 3)
        began = time.perf_counter()
        if n % 10 == 0:
            client.answer(run, t, f"drill-{n // 10 % 5 + 1}", response="13")
        else:
            client.line(run, {"t": t, "kind": "input" if n % 2 else "heartbeat"})
        times.append((time.perf_counter() - began) * 1000)
        if client.pending(run):
            raise RuntimeError("a line was not acknowledged")
        next_at += period
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    client.close_run(run, completed=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=30)
    parser.add_argument("--rate", type=float, default=2.0, help="lines a second per client")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data, sock = Path(tmp) / "data", Path(tmp) / "run" / "service.sock"
        prepare(data, args.clients)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "companion.cli",
                "--env",
                "sandbox",
                "service",
                "--socket",
                str(sock),
                "--data-dir",
                str(data),
                "--demo-school",
                "--housekeeping",
                "15",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert proc.stdout is not None
            first = proc.stdout.readline()
            if not first.startswith("listening on"):
                raise SystemExit(f"the service did not start: {first!r}")
            connect = unix_socket(sock)
            probe = ServiceClient(connect)
            students = [
                s["id"]
                for c in probe.request("classes")["classes"]
                for s in probe.request("students", **{"class": c["id"]})["students"]
                if s["canSignIn"]
            ][: args.clients]
            probe.close()
            if len(students) < args.clients:
                raise SystemExit(f"only {len(students)} students in the roster")
            clients = [ServiceClient(connect) for _ in students]
            start = threading.Barrier(len(students) + 1)
            times: list[list[float]] = [[] for _ in students]
            threads = [
                threading.Thread(
                    target=lesson, args=(c, s, args.rate, args.seconds, start, i / len(students), t)
                )
                for i, (c, s, t) in enumerate(zip(clients, students, times, strict=True))
            ]
            for thread in threads:
                thread.start()
            start.wait()  # every lesson is open: measure from here
            cpu0, wall0 = cpu_seconds(proc.pid), time.monotonic()
            for thread in threads:
                thread.join()
            cpu1, wall1 = cpu_seconds(proc.pid), time.monotonic()
            for client in clients:
                client.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    samples = sorted(x for per in times for x in per)
    measured_pct = 100 * (cpu1 - cpu0) / (wall1 - wall0)
    per_line_rate_pct = measured_pct / args.rate  # one line a second per client
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    print(
        f"{len(samples)} round trips from {len(students)} clients at {args.rate:g}/s each "
        f"over {wall1 - wall0:.1f} s; service CPU {measured_pct:.1f} % of a core "
        f"at that rate"
    )
    print(
        json.dumps(
            {
                "ipc_p50_ms": round(statistics.median(samples), 3),
                "ipc_p99_ms": round(p99, 3),
                "service_cpu_pct_30": round(per_line_rate_pct * 30 / len(students), 2),
                "round_trips": len(samples),
                "clients": len(students),
                "rate_per_client": args.rate,
                "measured_cpu_pct": round(measured_pct, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
