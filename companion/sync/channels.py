"""The two delivery channels behind one interface: Caliper events and gradebook results.

Each channel takes one step of work when asked (settle what is due, then send one batch),
keeps its own pause (backoff after offline, 429, ...) and its own count of failures in a
row, and tells the worker what it did in a ``ChannelStep``. A pause of one channel never
holds the other back.
"""

from __future__ import annotations

import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from companion.store import outbox
from companion.store.db import Database
from companion.store.results import RESULT_KIND
from companion.sync.crashpoints import AFTER_CLAIM, crash_point
from companion.sync.delivery import BatchResult, Sender
from companion.sync.results import deliver_results
from companion.sync.retry import Action, Outcome
from companion.sync.settings import CaliperApi, SyncSettings
from companion.sync.settle import Settler
from companion.sync.status import SyncState
from companion.timeback import GradebookClient

log = logging.getLogger("companion.sync")


@dataclass(frozen=True)
class ChannelStep:
    """What one step of a channel did."""

    worked: bool = False  # it sent or checked something
    sent: int = 0  # deliveries that became delivered
    error: str | None = None  # the problem met, if any
    state: SyncState | None = None  # what to report for that problem
    paused: bool = False  # it met a failure that holds it back for a while
    stop: str | None = None  # a configuration problem: nothing will work as is
    batch: BatchResult | None = None  # the batch it sent (Caliper)


class Channel(ABC):
    """One kind of delivery with its own pause."""

    kind: str

    def __init__(self) -> None:
        self.paused_until: datetime | None = None
        self.failures = 0  # failed attempts in a row: drives the backoff

    def is_paused(self, now: datetime) -> bool:
        """Whether the channel waits out a backoff at ``now``."""
        return self.paused_until is not None and now < self.paused_until

    def resume(self) -> None:
        """Forget the backoff (on demand, or connectivity is back)."""
        self.paused_until = None
        self.failures = 0

    def recover(self, now: datetime) -> int:
        """On taking the lease: deal with what a process that is gone left; returns rows."""
        return 0

    @abstractmethod
    def step(self, now: datetime, limit: int | None = None) -> ChannelStep:
        """One step of work at ``now``; ``limit``: at most this many deliveries (a channel
        that sends one request per delivery yields to the other this way)."""


class CaliperChannel(Channel):
    """Caliper events: envelopes of up to 100, read back before anything is sent twice."""

    kind = outbox.CALIPER_KIND

    def __init__(self, db: Database, api: CaliperApi, settings: SyncSettings,
                 rng: random.Random, on_unauthorised: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.db = db
        self.settings = settings
        self.sender = Sender(db, api, settings, rng, on_unauthorised)
        self.settler = Settler(db, api, settings)

    def recover(self, now: datetime) -> int:
        """In-flight rows of a process that died become settling; held rows are read back
        again at once (deliveries made meanwhile may vouch for the read-back)."""
        until = now + timedelta(seconds=self.settings.settle_s)
        recovered = outbox.recover_in_flight(self.db, until, now=now)
        if recovered:
            log.warning("%d events were being sent when the last run stopped; "
                        "checking whether they arrived before sending again", recovered)
        return recovered + outbox.reopen_held(self.db, now, now, now=now)

    def step(self, now: datetime, limit: int | None = None) -> ChannelStep:
        report = self.settler.settle_due(now)
        worked = report.checked > 0
        sent = report.acked
        if sent:
            self.resume()
        if self.is_paused(now):
            return ChannelStep(worked, sent, report.error,
                               SyncState.SETTLING if report.error else None, paused=True)
        batch = outbox.claim_batch(self.db, self.settings.max_events, self.settings.max_bytes,
                                   now=now)
        if not batch:
            return ChannelStep(worked, sent, report.error,
                               SyncState.SETTLING if report.error else None)
        crash_point(AFTER_CLAIM)
        result = self.sender.send(batch, now, self.failures + 1)
        return self._after(result, now, sent)

    def _after(self, result: BatchResult, now: datetime, sent: int) -> ChannelStep:
        rule = result.rule
        if result.outcome is Outcome.SENT:
            self.resume()
            return ChannelStep(True, sent + result.acked, batch=result)
        if result.outcome is Outcome.REJECTED and result.pause_s == 0:
            self.failures = 0
            return ChannelStep(True, sent, result.error, None, batch=result)
        if rule.action is Action.STOP:
            return ChannelStep(True, sent, result.error, SyncState.STOPPED,
                               stop=f"configuration error: {result.error}", batch=result)
        self.failures += 1
        if result.pause_s > 0:
            self.paused_until = now + timedelta(seconds=result.pause_s)
        return ChannelStep(True, sent, result.error, rule.state, paused=result.pause_s > 0,
                           batch=result)


class ResultsChannel(Channel):
    """Gradebook results: one idempotent PUT each, sent again after an unclear outcome."""

    kind = RESULT_KIND

    def __init__(self, db: Database, client: GradebookClient, rng: random.Random) -> None:
        super().__init__()
        self.db = db
        self.client = client
        self.rng = rng
        self.max_items = 100

    def step(self, now: datetime, limit: int | None = None) -> ChannelStep:
        if self.is_paused(now):
            return ChannelStep(paused=True)
        counts = deliver_results(self.db, self.client, now, limit or self.max_items,
                                 rng=self.rng)
        if counts.pause_s > 0:
            self.paused_until = now + timedelta(seconds=counts.pause_s)
        if counts.error:
            log.info("gradebook results: %s", counts.error)
        worked = counts.sent + counts.retry + counts.held + counts.dead > 0
        if counts.sent and not counts.error:
            self.resume()
        state = counts.state if counts.error else None
        return ChannelStep(worked and counts.sent > 0, counts.sent, counts.error, state,
                           paused=counts.pause_s > 0)
