"""Asynchronous Caliper ingestion: a job queue, a worker thread and the event store.

An accepted envelope becomes a job in state "waiting"; after the processing delay the worker
stores its events (a second copy of an id is stored too, marked as a duplicate and counted,
since Timeback does not deduplicate) and the job becomes "completed" with a result per event.
Until then the events are not readable. With a database path, events and jobs survive a restart
(waiting jobs are queued again).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("companion.sandbox.ingestion")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    job_id TEXT NOT NULL,
    sensor TEXT NOT NULL,
    actor_id TEXT,
    actor_email TEXT,
    event_time TEXT,
    duplicate INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_id ON events(event_id);
CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    ready_at REAL NOT NULL,
    envelope TEXT NOT NULL,
    result TEXT
);
"""


@dataclass(frozen=True)
class EventQuery:
    """Filters of GET /caliper/events."""

    actor_id: str | None = None
    actor_email: str | None = None
    sensor: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    limit: int = 100
    offset: int = 0


class EventStore:
    """Stored events and jobs in SQLite (in memory, or a file that survives restarts)."""

    def __init__(self, path: Path | None = None) -> None:
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def add_job(self, job_id: str, envelope: dict[str, Any], ready_at: float,
                text: str | None = None) -> None:
        """Record a waiting job with its envelope (``text``: its JSON as received, if known)."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO jobs (job_id, state, ready_at, envelope) VALUES (?, 'waiting', ?, ?)",
                (job_id, ready_at, text if text is not None else json.dumps(envelope)),
            )

    def waiting_jobs(self) -> list[tuple[str, dict[str, Any], float]]:
        """Jobs not yet processed, oldest first: (job id, envelope, ready_at)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT job_id, envelope, ready_at FROM jobs WHERE state != 'completed' "
                "ORDER BY rowid"
            ).fetchall()
        return [(r["job_id"], json.loads(r["envelope"]), r["ready_at"]) for r in rows]

    def set_job_state(self, job_id: str, state: str) -> None:
        """Move a job to a new state."""
        with self._lock, self._db:
            self._db.execute("UPDATE jobs SET state = ? WHERE job_id = ?", (state, job_id))

    def complete_job(self, job_id: str, envelope: dict[str, Any]) -> None:
        """Store a job's events (duplicates marked) and mark it completed, atomically."""
        sensor = str(envelope.get("sensor", ""))
        items = [item for item in envelope.get("data", []) if _is_event(item)]
        result: list[dict[str, str]] = []
        rows: list[tuple[Any, ...]] = []
        with self._lock, self._db:
            seen = self._stored_ids([item["id"] for item in items])
            for item in items:
                event_id = item["id"]
                duplicate = event_id in seen
                seen.add(event_id)
                actor_id, actor_email = _actor(item)
                rows.append((event_id, job_id, sensor, actor_id, actor_email,
                             item.get("eventTime"), 1 if duplicate else 0, json.dumps(item)))
                message = "stored (duplicate id)" if duplicate else "stored"
                result.append({"eventId": event_id, "status": "stored", "message": message})
            self._db.executemany(
                "INSERT INTO events (event_id, job_id, sensor, actor_id, actor_email, "
                "event_time, duplicate, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._db.execute(
                "UPDATE jobs SET state = 'completed', result = ? WHERE job_id = ?",
                (json.dumps(result), job_id),
            )

    def _stored_ids(self, ids: list[str]) -> set[str]:
        """Which of ``ids`` are stored already (the caller holds the lock)."""
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(row[0] for row in self._db.execute(
                f"SELECT DISTINCT event_id FROM events WHERE event_id IN ({marks})", chunk))
        return found

    def job(self, job_id: str) -> dict[str, Any] | None:
        """A job's status payload, or None if unknown."""
        with self._lock:
            row = self._db.execute(
                "SELECT state, result FROM jobs WHERE job_id = ?", (job_id,)
            ).fetchone()
        if row is None:
            return None
        body: dict[str, Any] = {"jobId": job_id, "state": row["state"]}
        if row["result"] is not None:
            body["result"] = json.loads(row["result"])
        return body

    def event(self, event_id: str) -> dict[str, Any] | None:
        """The first stored copy of an event, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM events WHERE event_id = ? ORDER BY seq LIMIT 1", (event_id,)
            ).fetchone()
        return None if row is None else dict(json.loads(row["body"]))

    def query(self, q: EventQuery) -> tuple[list[dict[str, Any]], int]:
        """Stored events matching the filters (every copy, oldest first) and their total."""
        clauses: list[str] = []
        args: list[Any] = []
        for column, value in (("actor_id", q.actor_id), ("actor_email", q.actor_email),
                              ("sensor", q.sensor)):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if q.start_date is not None:
            clauses.append("event_time >= ?")
            args.append(q.start_date)
        if q.end_date is not None:
            clauses.append("event_time <= ?")
            args.append(q.end_date)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM events {where}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT body FROM events {where} ORDER BY seq LIMIT ? OFFSET ?",
                [*args, q.limit, q.offset],
            ).fetchall()
        return [json.loads(r["body"]) for r in rows], int(total)

    def stored_events(self) -> dict[str, dict[str, Any]]:
        """Every stored event id with its first copy."""
        with self._lock:
            rows = self._db.execute(
                "SELECT event_id, body FROM events WHERE duplicate = 0 ORDER BY seq"
            ).fetchall()
        return {r["event_id"]: json.loads(r["body"]) for r in rows}

    def duplicate_count(self) -> int:
        """How many stored copies repeat an id already stored."""
        with self._lock:
            return int(self._db.execute(
                "SELECT COUNT(*) FROM events WHERE duplicate = 1").fetchone()[0])

    def clear(self) -> None:
        """Forget every event and job."""
        with self._lock, self._db:
            self._db.execute("DELETE FROM events")
            self._db.execute("DELETE FROM jobs")


def _is_event(item: Any) -> bool:
    return isinstance(item, dict) and str(item.get("id", "")).startswith("urn:uuid:") and (
        "action" in item
    )


def _actor(event: dict[str, Any]) -> tuple[str | None, str | None]:
    actor = event.get("actor")
    if isinstance(actor, str):
        return actor, None
    if isinstance(actor, dict):
        email = actor.get("email")
        return (str(actor["id"]) if "id" in actor else None,
                str(email) if email is not None else None)
    return None, None


class Ingestion:
    """The job queue and its worker thread (a Condition guards the queue)."""

    def __init__(self, store: EventStore, processing_delay_s: float = 0.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.processing_delay_s = processing_delay_s
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: list[tuple[str, dict[str, Any], float]] = store.waiting_jobs()
        self._in_flight = 0
        self._force = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sandbox-ingestion", daemon=True)
        self._thread.start()

    def submit(self, envelope: dict[str, Any], extra_delay_s: float = 0.0,
               text: str | None = None) -> str:
        """Queue a validated envelope (``text``: the JSON it was parsed from); returns its
        job id."""
        job_id = str(uuid.uuid4())
        ready_at = self._clock() + self.processing_delay_s + extra_delay_s
        self.store.add_job(job_id, envelope, ready_at, text)
        with self._cond:
            self._queue.append((job_id, envelope, ready_at))
            self._cond.notify_all()
        return job_id

    def process_now(self, timeout_s: float = 30.0) -> None:
        """Process every queued job at once and return when all are stored."""
        with self._cond:
            self._force = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: not self._queue and self._in_flight == 0, timeout_s)
            self._force = False

    def clear(self) -> None:
        """Drop queued jobs (the store is cleared separately)."""
        with self._cond:
            self._queue.clear()

    def stop(self) -> None:
        """Stop the worker (queued jobs stay in the store as waiting)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=10)

    def _next_ready(self) -> tuple[str, dict[str, Any]] | None:
        """Pop the first ready job, or wait until one may be; None when stopping."""
        with self._cond:
            while not self._stopping:
                now = self._clock()
                for index, (job_id, envelope, ready_at) in enumerate(self._queue):
                    if self._force or ready_at <= now:
                        del self._queue[index]
                        self._in_flight += 1
                        return job_id, envelope
                timeout = min((r for _, _, r in self._queue), default=now + 60) - now
                self._cond.wait(timeout=max(timeout, 0.001))
            return None

    def _run(self) -> None:
        while (job := self._next_ready()) is not None:
            job_id, envelope = job
            try:
                self.store.set_job_state(job_id, "active")
                self.store.complete_job(job_id, envelope)
            except Exception:
                log.exception("processing job %s failed", job_id)
                self.store.set_job_state(job_id, "failed")
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()
