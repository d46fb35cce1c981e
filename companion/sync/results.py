"""Delivering queued AssessmentResults to the gradebook with PUT.

Called by the sync worker (which holds the delivery lease) beside the Caliper batches.
Outcomes follow the retry table in ``companion.sync.retry`` with one difference: a PUT is
idempotent, so an ambiguous failure (a reset after sending, a 5xx, a lost answer) is
settled by sending the same PUT again after the backoff, not by reading back first.
A rejected result is checked against its line item: if the line item is missing on the
server the result is held (state held, with a clear reason) until `companion content push`
has run; otherwise it is refused with the server's message.
"""

from __future__ import annotations

import logging
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from companion.store import outbox
from companion.store.db import Database
from companion.store.results import HELD_REASON, body_of, claim_results
from companion.store.tables import OutboxItem
from companion.sync.retry import Action, Outcome, backoff_delay, classify, decide, retry_after_of
from companion.sync.status import SyncState
from companion.timeback import (
    GradebookClient,
    NotFoundError,
    RejectedError,
    TimebackError,
)

log = logging.getLogger("companion.sync.results")

HOLD_RECHECK = timedelta(minutes=30)  # a held result is tried again this often anyway
PARALLEL_PUTS = 8  # results PUT at once (idempotent writes, one request each)


@dataclass(frozen=True)
class ResultCounts:
    """What one call of ``deliver_results`` did."""

    sent: int = 0
    retry: int = 0  # back to pending after a backoff
    held: int = 0  # waiting for the line item (content push)
    dead: int = 0
    error: str | None = None  # the last retryable or configuration problem
    state: SyncState = SyncState.IDLE  # the retry table's state of the last failure
    pause_s: float = 0.0  # how long to hold all result delivery back (offline, 429)


@dataclass
class _Tally:
    sent: int = 0
    retry: int = 0
    held: int = 0
    dead: int = 0
    error: str | None = None
    state: SyncState = SyncState.IDLE
    pause_s: float = 0.0

    def freeze(self) -> ResultCounts:
        return ResultCounts(self.sent, self.retry, self.held, self.dead, self.error,
                            self.state, self.pause_s)


def deliver_results(
    db: Database,
    client: GradebookClient,
    now: datetime,
    max_items: int = 100,
    *,
    rng: random.Random | None = None,
) -> ResultCounts:
    """PUT up to ``max_items`` due results, one request each, up to PARALLEL_PUTS at once;
    returns the counts.

    Offline, rate limiting, an expired login or a configuration problem stop the pass:
    the result that met it and the rest of the claim go back to pending after the delay.
    """
    rng = rng or random.Random()
    claimed = claim_results(db, max_items, now=now)
    tally = _Tally()
    line_items: dict[str, bool] = {}
    items: list[tuple[OutboxItem, dict[str, object]]] = []
    for row in claimed:
        assert row.id is not None
        try:
            items.append((row, body_of(row)))
        except ValueError as exc:
            outbox.mark_dead(db, row.id, str(exc), now=now)
            tally.dead += 1
    for start in range(0, len(items), PARALLEL_PUTS):
        window = items[start:start + PARALLEL_PUTS]
        outcomes = _put_all(client, [record for _, record in window])
        delivered = [row.id for (row, _), error in zip(window, outcomes, strict=True)
                     if error is None and row.id is not None]
        if delivered:
            outbox.mark_acked(db, delivered, now=now)
            tally.sent += len(delivered)
        stop = False
        for (row, record), error in zip(window, outcomes, strict=True):
            assert row.id is not None
            if error is None:
                continue
            if stop:  # after a stop, the other failures of the window wait as well
                when = now + timedelta(seconds=tally.pause_s)
                outbox.mark_pending(db, [row.id], when, tally.error, now=now)
                tally.retry += 1
            elif isinstance(error, RejectedError | NotFoundError):
                _rejected(db, client, row, record, error, line_items, now, tally, rng)
            else:
                stop = _failed(db, row, error, now, tally, rng)
        if stop:
            rest = [row.id for row, _ in items[start + PARALLEL_PUTS:] if row.id is not None]
            when = now + timedelta(seconds=tally.pause_s)
            outbox.mark_pending(db, rest, when, tally.error, now=now)
            tally.retry += len(rest)
            break
    return tally.freeze()


def _put_all(client: GradebookClient, records: list[dict[str, object]],
             ) -> list[TimebackError | None]:
    """PUT each record (a few at once: each is one request); the error of each, or None."""

    def put(record: dict[str, object]) -> TimebackError | None:
        try:
            client.put_result(record)
        except TimebackError as exc:
            return exc
        return None

    if len(records) <= 1:
        return [put(record) for record in records]
    with ThreadPoolExecutor(max_workers=len(records), thread_name_prefix="result-put") as pool:
        return list(pool.map(put, records))


def _failed(
    db: Database,
    row: OutboxItem,
    exc: TimebackError,
    now: datetime,
    tally: _Tally,
    rng: random.Random,
) -> bool:
    """Back to pending after the backoff; True when the whole pass should stop."""
    assert row.id is not None
    outcome = classify(exc)
    rule = decide(outcome)
    delay = backoff_delay(row.attempts, rng, retry_after_of(exc)) if rule.backoff else 0.0
    if rule.action is Action.STOP:
        delay = max(delay, backoff_delay(row.attempts, rng))
    message = f"{outcome.value}: {exc}"
    outbox.mark_pending(db, [row.id], now + timedelta(seconds=delay), message, now=now)
    tally.retry += 1
    tally.error = message
    tally.state = rule.state
    stop = outcome in (Outcome.OFFLINE, Outcome.TIMEOUT_BEFORE_SEND, Outcome.RATE_LIMITED,
                       Outcome.UNAUTHORISED, Outcome.NETWORK_CONFIG) or (
        rule.action is Action.STOP
    )
    if stop:
        tally.pause_s = max(tally.pause_s, delay)
    log.info("result %s not delivered (%s); next try in %.1f s", row.event_id, message, delay)
    return stop


def _rejected(
    db: Database,
    client: GradebookClient,
    row: OutboxItem,
    record: dict[str, object],
    exc: TimebackError,
    line_items: dict[str, bool],
    now: datetime,
    tally: _Tally,
    rng: random.Random,
) -> None:
    """Held if the line item is missing on the server, else dead with the server's word."""
    assert row.id is not None
    item = record.get("assessmentLineItem")
    item_id = item.get("sourcedId") if isinstance(item, dict) else None
    if isinstance(item_id, str):
        if item_id not in line_items:
            try:
                client.get_line_item(item_id)
                line_items[item_id] = True
            except NotFoundError:
                line_items[item_id] = False
            except TimebackError as check_error:
                _failed(db, row, check_error, now, tally, rng)
                return
        if not line_items[item_id]:
            reason = f"{HELD_REASON} (line item {item_id})"
            outbox.mark_held(db, [row.id], reason, now + HOLD_RECHECK, now=now)
            tally.held += 1
            return
    message = f"rejected ({getattr(exc, 'status_code', '?')}): {exc}"
    outbox.mark_dead(db, row.id, message, now=now)
    tally.dead += 1
    log.warning("result %s is dead: %s", row.event_id, message)
