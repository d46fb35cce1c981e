"""Settling uncertain sends: did the events arrive? Never resend before knowing.

A row being settled is in_flight with a ``settle_until`` deadline. Its job's status decides
when the send returned a job id; otherwise each event is read back by id. Ingestion is
asynchronous, so "not found" counts only from a check made at or after the deadline; before
it, checks back off (the interval roughly doubles, from ``check_min_s`` to ``check_max_s``).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from companion.store import outbox
from companion.store.db import Database
from companion.store.tables import OutboxItem
from companion.sync.delivery import ack_rows
from companion.sync.settings import CaliperApi, SyncSettings
from companion.timeback import NotFoundError, TimebackError

log = logging.getLogger("companion.sync")


@dataclass(frozen=True)
class SettleReport:
    """What one settling pass found."""

    checked: int = 0
    acked: int = 0  # found on the server
    resend: int = 0  # not there at the deadline: pending again, due now
    dead: int = 0  # the job rejected them
    error: str | None = None  # a check failed (offline, 5xx...): tried again later


class Settler:
    """Checks settling rows whose next check is due."""

    def __init__(self, db: Database, api: CaliperApi, settings: SyncSettings) -> None:
        self.db = db
        self.api = api
        self.settings = settings

    def next_check(self, row: OutboxItem, now: datetime) -> datetime:
        """When to look again: back off with the time already spent, never past the deadline."""
        assert row.settle_until is not None
        started = row.settle_until - timedelta(seconds=self.settings.settle_s)
        elapsed = (now - started).total_seconds()
        interval = min(self.settings.check_max_s, max(self.settings.check_min_s, elapsed))
        return min(now + timedelta(seconds=interval), max(row.settle_until, now))

    def settle_due(self, now: datetime) -> SettleReport:
        """One pass over due settling rows (at most one batch' worth)."""
        rows = outbox.settling_due(self.db, now, limit=self.settings.max_events)
        if not rows:
            return SettleReport()
        by_job: dict[str, list[OutboxItem]] = defaultdict(list)
        unknown: list[OutboxItem] = []
        for row in rows:
            (by_job[row.job_id] if row.job_id else unknown).append(row)
        found: list[OutboxItem] = []
        missing: list[OutboxItem] = []
        waiting: list[OutboxItem] = []
        dead = 0
        error: str | None = None
        try:
            for job_id, job_rows in by_job.items():
                dead += self._by_job(job_id, job_rows, now, found, missing, waiting, unknown)
            for index, row in enumerate(unknown):
                try:
                    event = self.api.get_event(row.event_id)
                except TimebackError:
                    waiting.extend(unknown[index:])
                    raise
                if event is not None:
                    found.append(row)
                elif row.settle_until is not None and now >= row.settle_until:
                    missing.append(row)
                else:
                    waiting.append(row)
        except TimebackError as exc:
            error = f"checking uncertain deliveries failed: {exc.message}"
            log.info(error)
        self._record(found, missing, waiting, now, error)
        return SettleReport(checked=len(rows), acked=len(found), resend=len(missing),
                            dead=dead, error=error)

    def _by_job(
        self,
        job_id: str,
        rows: list[OutboxItem],
        now: datetime,
        found: list[OutboxItem],
        missing: list[OutboxItem],
        waiting: list[OutboxItem],
        unknown: list[OutboxItem],
    ) -> int:
        """Decide rows by their job's results; returns how many were dead-lettered."""
        try:
            status = self.api.job_status(job_id)
        except NotFoundError:
            unknown.extend(rows)  # the server forgot the job: read the events back instead
            return 0
        except TimebackError:
            waiting.extend(rows)
            raise
        if not status.finished:
            waiting.extend(rows)  # it arrived; its job has not run yet
            return 0
        results = {r.event_id: r for r in status.results}
        dead = 0
        for row in rows:
            result = results.get(row.event_id)
            if result is not None and result.status == "stored":
                found.append(row)
            elif result is not None and row.id is not None:
                reason = result.message or "rejected by the ingestion job"
                outbox.mark_dead(self.db, row.id, f"rejected by Timeback: {reason}", now=now)
                dead += 1
            else:
                missing.append(row)  # the finished job did not have it: it never arrived
        return dead

    def _record(
        self,
        found: list[OutboxItem],
        missing: list[OutboxItem],
        waiting: list[OutboxItem],
        now: datetime,
        error: str | None,
    ) -> None:
        if found:
            by_job: dict[str | None, list[int]] = defaultdict(list)
            for row in found:
                if row.id is not None:
                    by_job[row.job_id].append(row.id)
            for job_id, ids in by_job.items():
                ack_rows(self.db, ids, job_id, now)
        if missing:
            note = "not found on the server after the settling time; sending again"
            outbox.mark_pending(self.db, [r.id for r in missing if r.id is not None], now, note,
                                now=now)
        groups: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
        for row in waiting:
            if row.id is not None and row.settle_until is not None:
                groups[(row.settle_until, self.next_check(row, now))].append(row.id)
        for (until, check_at), ids in groups.items():
            outbox.mark_settling(self.db, ids, until, check_at, error or "waiting to settle",
                                 now=now)
