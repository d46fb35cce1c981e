"""The sync worker: a thread that delivers the outbox to Caliper while it holds the lease.

One ``step`` settles due uncertain sends, then claims and sends one batch (oldest first,
up to 100 events / ~500 KB). The write that records a sent batch as acked also claims the
next one (one commit per batch), which the following step sends: at most one batch is
claimed ahead, and only after a success. Until sent it is in_flight like any claimed batch,
so a crash leaves it to the read-back check; when the worker stops it goes back to pending.

The thread runs steps while there is work, and otherwise waits for a trigger: start (after
a random delay), a closed run, every ``periodic_s`` while anything is pending, connectivity
back, or on demand. At quit it keeps going for at most ``quit_grace_s`` and leaves the rest
for next time.

Only the holder of the database's lease sends. Either the app passes its own held lease
(the one that also owns the open run), or the worker takes one itself and renews it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from companion.store import outbox
from companion.store.db import Database
from companion.store.lease import Lease, LeaseKeeper, ProcessProbe
from companion.store.outbox import Claimed
from companion.sync.crashpoints import AFTER_CLAIM, crash_point
from companion.sync.delivery import BatchResult, NextClaim, Sender
from companion.sync.results import deliver_results
from companion.sync.retry import Action, Outcome
from companion.sync.settings import CaliperApi, SyncSettings
from companion.sync.settle import Settler
from companion.sync.status import StatusBoard, SyncState, SyncStatus
from companion.sync.timing import RealTime, SyncTime
from companion.timeback import GradebookClient

log = logging.getLogger("companion.sync")

LEASE_NAME = "owner"  # the same lease owns the open run and the deliveries (DESIGN.md)


@dataclass(frozen=True)
class StepResult:
    """What one step did: whether it did any work, and the batch result if it sent one."""

    worked: bool
    batch: BatchResult | None = None


class SyncWorker:
    """Delivers outbox events; ``start`` runs it in a thread, ``step`` runs it by hand."""

    def __init__(
        self,
        db: Database,
        api: CaliperApi,
        *,
        settings: SyncSettings | None = None,
        time: SyncTime | None = None,
        rng: random.Random | None = None,
        lease: Lease | None = None,
        on_unauthorised: Callable[[], None] | None = None,
        results_api: GradebookClient | None = None,
        processes: ProcessProbe | None = None,
    ) -> None:
        """``lease``: a lease the caller already holds and keeps; None: take our own (which
        ``processes`` lets take over at once from a holder that is gone)."""
        self.db = db
        self.settings = settings or SyncSettings()
        self.time: SyncTime = time or RealTime()
        self.rng = rng or random.Random()
        self.status = StatusBoard()
        self.sender = Sender(db, api, self.settings, self.rng, on_unauthorised)
        self.settler = Settler(db, api, self.settings)
        self._own_lease = lease is None
        self.lease = lease or Lease(db, LEASE_NAME, ttl_s=self.settings.lease_ttl_s,
                                    processes=processes)
        self._keeper: LeaseKeeper | None = None
        self._recovered = False
        self._failures = 0  # failed attempts in a row: drives the backoff
        self._paused_until: datetime | None = None
        self._stopped_reason: str | None = None  # set by a configuration error
        self._sent = 0
        self._ahead: list[Claimed] = []  # claimed with the last ack, not sent yet
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.results_api = results_api  # gradebook results (PUT), delivered beside the events
        self._results_paused_until: datetime | None = None
        self._quit_at: datetime | None = None
        self._thread: threading.Thread | None = None

    # --- triggers -----------------------------------------------------------------------

    def start(self, start_delay: bool = True) -> None:
        """Run in a thread, first waiting a random 0..start_delay_max_s (unless told not to)."""
        if self._thread is not None:
            raise RuntimeError("the sync worker is already running")
        delay = self.rng.uniform(0, self.settings.start_delay_max_s) if start_delay else 0.0
        self._thread = threading.Thread(target=self._run, args=(delay,), name="sync-worker",
                                        daemon=True)
        self._thread.start()

    def notify_run_closed(self) -> None:
        """A run closed and queued events: send them now."""
        self._wake.set()

    def sync_now(self) -> None:
        """On demand, or connectivity is back: forget backoff and a stop, send what is due."""
        outbox.make_due(self.db, self.time.now())
        self._paused_until = None
        self._failures = 0
        self._stopped_reason = None
        self._wake.set()

    notify_online = sync_now

    def quit(self, grace_s: float | None = None) -> bool:
        """Stop: keep sending for at most ``grace_s`` (default ``quit_grace_s``), then leave
        the rest for next time. True if the thread ended within the grace time."""
        grace = self.settings.quit_grace_s if grace_s is None else grace_s
        self._quit_at = self.time.now() + timedelta(seconds=grace)
        self._wake.set()
        finished = True
        if self._thread is not None:
            self._thread.join(timeout=grace + 0.5)
            finished = not self._thread.is_alive()
        if finished:
            self._release()
        return finished

    # --- one step -----------------------------------------------------------------------

    def acquire(self) -> bool:
        """Hold the lease (taking it if free); on first taking it, recover in_flight rows."""
        if not self.lease.held and self._ahead:
            # The lease was lost: another process may have taken over what we claimed.
            # Never send it from here; once the lease is ours again, it is read back.
            self._ahead = []
            self._recovered = False
        if not self.lease.held and not self.lease.try_acquire():
            holder = self.lease.holder()
            where = f"pid {holder.pid} on {holder.host}" if holder else "another process"
            self.status.update(state=SyncState.WAITING, lease_holder=where,
                               reason=f"{where} is delivering events")
            return False
        if self._own_lease and (self._keeper is None or not self._keeper.running):
            self._keeper = LeaseKeeper(self.lease, on_lost=self._wake.set)
            self._keeper.start()
        if not self._recovered:
            now = self.time.now()
            until = now + timedelta(seconds=self.settings.settle_s)
            recovered = outbox.recover_in_flight(self.db, until, now=now)
            if recovered:
                log.warning("%d events were being sent when the last run stopped; "
                            "checking whether they arrived before sending again", recovered)
            self._recovered = True
        self.status.update(lease_holder=None)
        return True

    def step(self) -> StepResult:
        """Settle what is due, then send one batch if allowed. Needs the lease."""
        if not self.acquire():
            return StepResult(False)
        now = self.time.now()
        report = self.settler.settle_due(now)
        worked = report.checked > 0
        worked = self._deliver_results(now) or worked
        if report.acked:
            self._sent += report.acked
            self._success(now)
        if report.error:
            self.status.update(state=SyncState.SETTLING, reason=report.error)
        if self._stopped_reason is not None or (
            self._paused_until is not None and now < self._paused_until
        ):
            self.publish()
            return StepResult(worked)
        self.status.update(state=SyncState.SENDING, reason=None, retry_at=None)
        batch, self._ahead = self._ahead, []
        if not batch:
            batch = outbox.claim_batch(self.db, self.settings.max_events,
                                       self.settings.max_bytes, now=now)
        if not batch:
            self.publish()
            return StepResult(worked)
        crash_point(AFTER_CLAIM)
        claim_next = None if self._quit_at is not None else NextClaim(
            self.settings.max_events, self.settings.max_bytes)
        result = self.sender.send(batch, now, self._failures + 1, claim_next)
        self._ahead = list(result.next_batch)
        self._after_batch(result, now)
        self.publish()
        return StepResult(True, result)

    def _deliver_results(self, now: datetime) -> bool:
        """PUT the due gradebook results (idempotent, so an unclear outcome is simply
        repeated); returns whether any went out. Their own pause after offline or 429."""
        if self.results_api is None or self._stopped_reason is not None:
            return False
        if self._results_paused_until is not None and now < self._results_paused_until:
            return False
        counts = deliver_results(self.db, self.results_api, now, rng=self.rng)
        if counts.pause_s > 0:
            self._results_paused_until = now + timedelta(seconds=counts.pause_s)
        if counts.error:
            log.info("gradebook results: %s", counts.error)
        return counts.sent > 0

    def _after_batch(self, result: BatchResult, now: datetime) -> None:
        rule = result.rule
        if result.outcome is Outcome.SENT:
            self._sent += result.acked
            self._success(now)
            return
        if result.outcome is Outcome.REJECTED and result.pause_s == 0:
            self._failures = 0
            return
        if rule.action is Action.STOP:
            self._stopped_reason = f"configuration error: {result.error}"
            self.status.update(state=SyncState.STOPPED, reason=self._stopped_reason)
            return
        self._failures += 1
        if result.pause_s > 0:
            self._paused_until = now + timedelta(seconds=result.pause_s)
        state = SyncState(rule.state) if rule.state in SyncState._value2member_map_ else (
            SyncState.ERROR)
        self.status.update(state=state, reason=result.error, retry_at=self._paused_until)

    def _success(self, now: datetime) -> None:
        self._failures = 0
        self._paused_until = None
        self.status.update(last_success_at=now)

    def publish(self) -> SyncStatus:
        """Refresh the counts (and the state, when nothing is wrong) and tell listeners."""
        counts = outbox.counts(self.db)
        counts["pending"] += len(self._ahead)  # claimed ahead, but not sent yet
        counts["in_flight"] -= len(self._ahead)
        current = self.status.current
        state = current.state
        undone = counts["pending"] + counts["in_flight"]
        if self._stopped_reason is not None:
            state = SyncState.STOPPED
        elif undone == 0:
            state = SyncState.IDLE
        elif state is SyncState.SENDING and counts["pending"] == 0:
            state = SyncState.SETTLING
        return self.status.update(
            state=state,
            reason=current.reason if state not in (SyncState.IDLE, SyncState.SENDING) else None,
            pending=counts["pending"], in_flight=counts["in_flight"], dead=counts["dead"],
            acked=counts["acked"], sent=self._sent,
        )

    # --- running ------------------------------------------------------------------------

    def run_until_idle(self, give_up_when_failing: bool = False) -> SyncStatus:
        """Step and wait (by the injected time) until nothing is pending or in flight.

        ``give_up_when_failing``: return at the first failure that needs a pause (``--once``).
        Returns early on a configuration stop or at quit. A batch claimed ahead and not
        sent goes back to pending on the way out.
        """
        try:
            return self._run_steps(give_up_when_failing)
        finally:
            self._release_ahead()

    def _run_steps(self, give_up_when_failing: bool) -> SyncStatus:
        while not self._stop.is_set():
            if self._quitting():
                break
            self._wake.clear()  # a trigger from now on wakes the next wait
            result = self.step()
            status = self.status.current
            if status.state is SyncState.STOPPED:
                break
            if result.worked:
                if give_up_when_failing and result.batch is not None and result.batch.pause_s:
                    break
                continue
            if status.pending + status.in_flight == 0 and status.lease_holder is None:
                break
            self._wait_for_work()
        return self.status.current

    def _release_ahead(self) -> None:
        """Put the batch claimed ahead (never sent) back in the queue."""
        ahead, self._ahead = self._ahead, []
        if not ahead:
            return
        if self.lease.held:
            outbox.release_unsent(self.db, [row.id for row in ahead], now=self.time.now())
        else:
            self._recovered = False  # not ours to touch: read back once the lease is ours

    def _quitting(self) -> bool:
        return self._quit_at is not None and self.time.now() >= self._quit_at

    def _wait_for_work(self) -> None:
        """Wait until the next attempt or check is due, the lease may be free, or a trigger."""
        now = self.time.now()
        if self._quit_at is not None:
            self._stop.set()  # quitting: never wait, leave the rest for next time
            return
        if self.status.current.lease_holder is not None:
            seconds = self.settings.lease_retry_s
        else:
            due = outbox.next_due_at(self.db)
            if self._paused_until is not None and (due is None or due < self._paused_until):
                due = self._paused_until
            seconds = self.settings.periodic_s
            if due is not None and self._stopped_reason is None:
                seconds = min(seconds, max(0.0, (due - now).total_seconds()))
            self.status.update(retry_at=due if due is not None and due > now else None)
        self.time.wait(seconds, self._wake)

    def _run(self, start_delay_s: float) -> None:
        try:
            if start_delay_s > 0:
                self.status.update(state=SyncState.WAITING, reason="starting")
                self.time.wait(start_delay_s, self._wake)
            while not self._stop.is_set():
                try:
                    self.run_until_idle()
                except Exception as exc:  # keep the thread alive; report and back off
                    log.exception("sync step failed")
                    self.status.update(state=SyncState.ERROR, reason=f"internal error: {exc}")
                    self.time.wait(self.settings.periodic_s, self._wake)
                    continue
                if self._quit_at is not None:
                    break
                self.time.wait(self.settings.periodic_s, self._wake)
        finally:
            self.status.update(state=SyncState.STOPPED if self._quit_at else SyncState.IDLE)

    def _release(self) -> None:
        if self._keeper is not None:
            self._keeper.stop()
            self._keeper = None
        if self._own_lease and self.lease.held:
            self.lease.release()

    def close(self) -> None:
        """Release our own lease when the worker was run by hand (no thread)."""
        self._stop.set()
        if self._thread is None:
            self._release_ahead()
            self._release()
