"""Settling uncertain sends: did the events arrive? Never resend before knowing.

A settling row was sent without a clear answer; ``settle_until`` is the moment after which
"not found" may mean "never arrived" (ingestion is asynchronous), and ``next_attempt_at``
the next read-back (the interval roughly doubles, from ``check_min_s`` to ``check_max_s``).

What a check finds (``companion.sync.readback``):

* found (by any way of reading) -> delivered; rejected by its job -> refused;
* not found by a way of reading that found a witness, at or after the deadline -> pending,
  sent again;
* not found, and no way of reading found a witness: if the newest delivered event may still
  be on its way in, wait for it; otherwise the rows are *held*, with the reason, checked
  again every ``hold_recheck_s`` and as soon as a newer batch is delivered.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from companion.store import outbox
from companion.store.db import Database
from companion.store.tables import DeliveryState, OutboxItem
from companion.sync.delivery import ack_rows
from companion.sync.readback import Evidence, ReadBack
from companion.sync.settings import CaliperApi, SyncSettings
from companion.timeback import TimebackError

log = logging.getLogger("companion.sync")

NO_WITNESS = ("held: read-back cannot be checked yet (no event is known to be stored on the "
              "server); not sent again until a later delivery can be read back")
BLIND = ("held: read-back cannot find events known to be stored on the server, so its "
         "\"not found\" is no evidence; not sent again until it can")


@dataclass(frozen=True)
class SettleReport:
    """What one settling pass found."""

    checked: int = 0
    acked: int = 0  # found on the server
    resend: int = 0  # proved missing at the deadline: pending again, due now
    dead: int = 0  # the job rejected them
    held: int = 0  # read-back could not be trusted: held
    error: str | None = None  # a check failed (offline, 5xx...): tried again later


class Settler:
    """Checks settling (and held) rows whose next check is due."""

    def __init__(self, db: Database, api: CaliperApi, settings: SyncSettings) -> None:
        self.db = db
        self.readback = ReadBack(api)
        self.settings = settings

    def next_check(self, row: OutboxItem, now: datetime) -> datetime:
        """When to look again: back off with the time already spent, never past the deadline."""
        assert row.settle_until is not None
        started = row.settle_until - timedelta(seconds=self.settings.settle_s)
        elapsed = (now - started).total_seconds()
        interval = min(self.settings.check_max_s, max(self.settings.check_min_s, elapsed))
        return min(now + timedelta(seconds=interval), max(row.settle_until, now))

    def settle_due(self, now: datetime) -> SettleReport:
        """One pass over due settling and held rows (at most one batch' worth)."""
        rows = outbox.settling_due(self.db, now, limit=self.settings.max_events)
        if not rows:
            return SettleReport()
        witnesses = outbox.witnesses(self.db)
        try:
            due = any(row.settle_until is None or now >= row.settle_until for row in rows)
            evidence = self.readback.check(rows, witnesses, thorough=due)
        except TimebackError as exc:
            error = f"checking uncertain deliveries failed: {exc.message}"
            log.info(error)
            self._later(rows, now, error)
            return SettleReport(checked=len(rows), error=error)
        return self._record(rows, evidence, witnesses, now)

    def _later(self, rows: list[OutboxItem], now: datetime, error: str) -> None:
        """The check itself failed: settling rows look again later, held rows stay held."""
        groups: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
        held: list[int] = []
        for row in rows:
            if row.id is None:
                continue
            if row.state is DeliveryState.HELD or row.settle_until is None:
                held.append(row.id)
            else:
                groups[(row.settle_until, self.next_check(row, now))].append(row.id)
        for (until, check_at), ids in groups.items():
            outbox.mark_settling(self.db, ids, until, check_at, error, now=now)
        recheck = now + timedelta(seconds=self.settings.check_max_s)
        for row in rows:
            if row.id in held:
                outbox.mark_held(self.db, [row.id], row.hold_reason or BLIND, recheck, now=now)

    def _record(self, rows: list[OutboxItem], evidence: Evidence,
                witnesses: list[OutboxItem], now: datetime) -> SettleReport:
        found = [r for r in rows if r.event_id in evidence.found]
        refused = [r for r in rows if r.event_id in evidence.refused]
        rest = [r for r in rows if r not in found and r not in refused]
        by_job: dict[str | None, list[int]] = defaultdict(list)
        for row in found:
            if row.id is not None:
                by_job[row.job_id].append(row.id)
        for job_id, ids in by_job.items():
            ack_rows(self.db, ids, job_id, now)
        for row in refused:
            if row.id is not None:
                message = f"rejected by Timeback: {evidence.refused[row.event_id]}"
                outbox.mark_refused(self.db, row.id, message, now=now)
        missing: list[int] = []
        held: list[int] = []
        waiting: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
        fresh_until = self._fresh_witness_until(witnesses, now)
        for row in rest:
            if row.id is None:
                continue
            until = row.settle_until or now
            if now < until:
                waiting[(until, self.next_check(row, now))].append(row.id)
            elif evidence.trusted and row.event_id in evidence.missing:
                missing.append(row.id)
            elif fresh_until is not None and now < fresh_until:
                # the newest delivered event may not be readable yet: wait for it
                check_at = min(now + timedelta(seconds=self.settings.check_max_s), fresh_until)
                waiting[(fresh_until, check_at)].append(row.id)
            else:
                held.append(row.id)
        if missing:
            note = "not found on the server after the settling time; sending again"
            outbox.mark_pending(self.db, missing, now, note, now=now)
        for (until, check_at), ids in waiting.items():
            outbox.mark_settling(self.db, ids, until, check_at, "waiting to settle", now=now)
        if held:
            reason = NO_WITNESS if not witnesses else BLIND
            detail = "; ".join(dict.fromkeys(evidence.notes)) if witnesses else ""
            recheck = now + timedelta(seconds=self.settings.hold_recheck_s)
            outbox.mark_held(self.db, held, f"{reason} ({detail})" if detail else reason,
                             recheck, now=now)
            log.warning("%d events held: %s", len(held), reason)
        return SettleReport(checked=len(rows), acked=len(found), resend=len(missing),
                            dead=len(refused), held=len(held))

    def _fresh_witness_until(self, witnesses: list[OutboxItem], now: datetime,
                             ) -> datetime | None:
        """Until when the newest delivered event may still be on its way into the store."""
        times = [w.acked_at for w in witnesses if w.acked_at is not None]
        if not times:
            return None
        until = max(times) + timedelta(seconds=self.settings.settle_s)
        return until if until > now else None
