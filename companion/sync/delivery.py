"""Sending one claimed batch and recording what the retry table says about the outcome."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from companion.store import outbox
from companion.store.db import Database
from companion.store.outbox import Claimed
from companion.sync.crashpoints import AFTER_RECORD, AFTER_SEND, crash_point
from companion.sync.retry import (
    Action,
    Outcome,
    Rule,
    backoff_delay,
    classify,
    decide,
    retry_after_of,
)
from companion.sync.settings import CaliperApi, SyncSettings
from companion.timeback import MalformedResponseError, TimebackError

log = logging.getLogger("companion.sync")


@dataclass(frozen=True)
class BatchResult:
    """What became of one batch."""

    outcome: Outcome
    rule: Rule
    acked: int = 0
    dead: int = 0
    resend: int = 0  # back to pending, due now (the good events of a rejected batch)
    error: str | None = None
    pause_s: float = 0.0  # how long the worker should hold all sending back
    dead_ids: tuple[str, ...] = field(default=())


def ack_rows(db: Database, ids: list[int], job_id: str | None, now: datetime,
             reopen_until: datetime | None = None) -> int:
    """Mark rows delivered in one write, with the crash point between recording and commit.

    ``reopen_until``: held Caliper rows are read back again in the same write (settling
    until then), since this delivery can vouch for the read-back once it shows up.
    """
    return outbox.ack_delivered(db, ids, job_id, now, reopen_until,
                                before_commit=lambda: crash_point(AFTER_RECORD))


class Sender:
    """Sends a batch and applies the retry table's action to its rows."""

    def __init__(
        self,
        db: Database,
        api: CaliperApi,
        settings: SyncSettings,
        rng: random.Random,
        on_unauthorised: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.api = api
        self.settings = settings
        self.rng = rng
        self.on_unauthorised = on_unauthorised

    def delay(self, failures: int, retry_after_s: float | None = None) -> float:
        """The backoff before the next attempt after ``failures`` failures in a row."""
        return backoff_delay(
            max(1, failures),
            self.rng,
            retry_after_s,
            base_s=self.settings.backoff_base_s,
            cap_s=self.settings.backoff_cap_s,
        )

    def send(self, batch: Sequence[Claimed], now: datetime, failures: int) -> BatchResult:
        """Send ``batch`` (in_flight rows) once; ``failures``: failed attempts in a row so far,
        counting this one if it fails."""
        ids = [row.id for row in batch]
        events = [json.loads(row.payload) for row in batch]
        try:
            result = self.api.send(events)
        except TimebackError as exc:
            crash_point(AFTER_SEND)
            return self._failed(exc, batch, ids, events, now, failures)
        crash_point(AFTER_SEND)
        reopen = now + timedelta(seconds=self.settings.settle_s)
        acked = ack_rows(self.db, ids, result.job_id, now, reopen_until=reopen)
        return BatchResult(Outcome.SENT, decide(Outcome.SENT), acked=acked)

    def _failed(
        self,
        exc: TimebackError,
        batch: Sequence[Claimed],
        ids: list[int],
        events: list[dict[str, Any]],
        now: datetime,
        failures: int,
    ) -> BatchResult:
        outcome = classify(exc)
        rule = decide(outcome)
        message = f"{outcome.value}: {exc.message}"
        log.info("batch of %d events: %s", len(ids), message)
        if rule.action is Action.SETTLE:
            first = now + timedelta(seconds=self.settings.check_min_s)
            until = now + timedelta(seconds=self.settings.settle_s)
            job_id = exc.job_id if isinstance(exc, MalformedResponseError) else None
            outbox.mark_settling(self.db, ids, until, min(first, until), message,
                                 job_id=job_id, now=now)
            return BatchResult(outcome, rule, error=message)
        if rule.action is Action.VALIDATE_EACH:
            return self._validate_each(exc, batch, events, now, failures)
        if rule.action is Action.STOP:
            outbox.mark_pending(self.db, ids, now, message, now=now)
            return BatchResult(outcome, rule, error=message)
        if rule.action is Action.REFRESH_TOKEN and self.on_unauthorised is not None:
            self.on_unauthorised()
        pause = self.delay(failures, retry_after_of(exc)) if rule.backoff else 0.0
        outbox.mark_pending(self.db, ids, now + timedelta(seconds=pause), message, now=now)
        return BatchResult(outcome, rule, error=message, pause_s=pause)

    def _validate_each(
        self,
        exc: TimebackError,
        batch: Sequence[Claimed],
        events: list[dict[str, Any]],
        now: datetime,
        failures: int,
    ) -> BatchResult:
        """400/422: validate events one by one; dead-letter the bad ones, resend the rest."""
        rule = decide(Outcome.REJECTED)
        good: list[int] = []
        dead: list[str] = []
        for index, (row, event) in enumerate(zip(batch, events, strict=True)):
            try:
                verdict = self.api.validate([event])
            except TimebackError as check_error:
                # Cannot tell good from bad now: everything not yet judged waits.
                rest = [r.id for r in batch[index:]]
                pause = self.delay(failures, retry_after_of(check_error))
                error = f"rejected; validating failed: {check_error.message}"
                outbox.mark_pending(self.db, rest, now + timedelta(seconds=pause), error, now=now)
                outbox.mark_pending(self.db, good, now, None, now=now)
                return BatchResult(Outcome.REJECTED, rule, dead=len(dead), resend=len(good),
                                   error=error, pause_s=pause, dead_ids=tuple(dead))
            if verdict.valid:
                good.append(row.id)
                continue
            details = "; ".join(e.message for e in verdict.errors) or verdict.message
            outbox.mark_dead(self.db, row.id, f"rejected by Timeback: {details}", now=now)
            dead.append(row.event_id)
        if dead:
            outbox.mark_pending(self.db, good, now, None, now=now)
            return BatchResult(Outcome.REJECTED, rule, dead=len(dead), resend=len(good),
                               error=f"{len(dead)} event(s) rejected", dead_ids=tuple(dead))
        # Every event is valid alone, yet the envelope was refused: wait, do not loop.
        pause = self.delay(failures)
        error = f"envelope rejected though each event is valid: {exc.message}"
        outbox.mark_pending(self.db, good, now + timedelta(seconds=pause), error, now=now)
        return BatchResult(Outcome.REJECTED, rule, error=error, pause_s=pause)
