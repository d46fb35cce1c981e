"""The sync worker: a thread that delivers the outbox while it holds the lease.

It drives two channels (``companion.sync.channels``): Caliper events and gradebook
results, each with its own pause. One ``step`` lets each channel take one step (Caliper:
settle due uncertain sends, then claim and send one batch of up to 100 events / ~500 KB,
oldest first). Nothing is claimed ahead: a batch is claimed right before it is sent.

The thread runs steps while there is work, and otherwise waits for a trigger: start (after
a random delay), a closed run, every ``periodic_s`` while anything waits, connectivity
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

from companion.core.clock import Clock, SystemClock
from companion.store import outbox, runs
from companion.store.db import Database
from companion.store.lease import Lease, LeaseKeeper, ProcessProbe
from companion.store.results import RESULT_KIND
from companion.sync.channels import CaliperChannel, Channel, ChannelStep, ResultsChannel
from companion.sync.delivery import BatchResult
from companion.sync.settings import CaliperApi, SyncSettings
from companion.sync.status import (
    StatusBoard,
    SyncRunReport,
    SyncState,
    SyncStatus,
    WaitingGroup,
)
from companion.timeback import GradebookClient

log = logging.getLogger("companion.sync")

LEASE_NAME = "owner"  # the same lease owns the open run and the deliveries (DESIGN.md)
_ACTIVE = ("pending", "in_flight", "settling")  # states that keep ``run_until_idle`` going
RESULTS_PER_BUSY_STEP = 2
_FAILING = (SyncState.OFFLINE, SyncState.ERROR, SyncState.STOPPED, SyncState.RATE_LIMITED)


@dataclass(frozen=True)
class StepResult:
    """What one step did: whether it did any work, and the batch result if it sent one."""

    worked: bool
    batch: BatchResult | None = None


def waiting_groups(db: Database) -> tuple[WaitingGroup, ...]:
    """Every undelivered group with its state and reason, held ones first: outbox rows and
    closed runs whose events wait for roster data."""
    groups = [
        WaitingGroup("result" if w.kind == RESULT_KIND else "event", w.state.value, w.count,
                     w.reason)
        for w in outbox.waiting_reasons(db)
    ]
    people = [
        WaitingGroup("run", "held", w.runs, w.text())
        for w in runs.waiting_runs(db)
    ]
    held = [g for g in groups if g.state == "held"]
    rest = [g for g in groups if g.state != "held"]
    return (*people, *held, *rest)


class SyncWorker:
    """Delivers outbox rows; ``start`` runs it in a thread, ``step`` runs it by hand."""

    def __init__(
        self,
        db: Database,
        api: CaliperApi,
        *,
        settings: SyncSettings | None = None,
        clock: Clock | None = None,
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
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.status = StatusBoard()
        self.caliper = CaliperChannel(db, api, self.settings, self.rng, on_unauthorised)
        self.channels: list[Channel] = [self.caliper]
        self.results_api = results_api  # gradebook results (PUT), delivered beside the events
        if results_api is not None:
            self.channels.append(ResultsChannel(db, results_api, self.rng))
        self._own_lease = lease is None
        self.lease = lease or Lease(db, LEASE_NAME, ttl_s=self.settings.lease_ttl_s,
                                    processes=processes)
        self._keeper: LeaseKeeper | None = None
        self._recovered = False
        self._stopped_reason: str | None = None  # set by a configuration error
        self._sent = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._quit_at: datetime | None = None
        self._thread: threading.Thread | None = None
        self._sync_now: tuple[int, str | None] | None = None  # (sent at start, error)

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

    def notify_online(self) -> None:
        """Connectivity is back: forget backoff and a stop, send what is due."""
        outbox.make_due(self.db, self.clock.utc_now())
        for channel in self.channels:
            channel.resume()
        self._stopped_reason = None
        self._wake.set()

    def sync_now(self) -> None:
        """On demand ("Sync now"): like ``notify_online``, and the outcome of the pass is
        reported in ``SyncStatus.sync_now`` (sent N, waiting M and why, or the error)."""
        self._sync_now = (self._sent, None)
        self.status.update(sync_now_running=True)
        self.notify_online()

    def quit(self, grace_s: float | None = None) -> bool:
        """Stop: keep sending for at most ``grace_s`` (default ``quit_grace_s``), then leave
        the rest for next time. True if the thread ended within the grace time."""
        grace = self.settings.quit_grace_s if grace_s is None else grace_s
        self._quit_at = self.clock.utc_now() + timedelta(seconds=grace)
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
        """Hold the lease (taking it if free); on first taking it, recover what a process
        that is gone left in flight, and read held rows back again."""
        if not self.lease.held:
            self._recovered = False  # whoever held it meanwhile may have left rows in flight
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
            now = self.clock.utc_now()
            for channel in self.channels:
                channel.recover(now)
            self._recovered = True
        self.status.update(lease_holder=None)
        return True

    def step(self) -> StepResult:
        """Let each channel take one step, if allowed. Needs the lease."""
        if not self.acquire():
            return StepResult(False)
        now = self.clock.utc_now()
        worked = False
        batch: BatchResult | None = None
        problem: ChannelStep | None = None
        events_moving = False
        for channel in self.channels:
            if self._stopped_reason is not None:
                break
            # results go one PUT each: while event batches move, they go a few per step
            limit = RESULTS_PER_BUSY_STEP if events_moving else None
            done = channel.step(now, limit)
            events_moving = events_moving or (channel is self.caliper and done.batch is not None)
            worked = worked or done.worked
            self._sent += done.sent
            if done.sent:
                self.status.update(last_success_at=now)
            if done.batch is not None:
                batch = done.batch
            if done.stop is not None:
                self._stopped_reason = done.stop
            if done.error is not None and (problem is None or done.paused):
                problem = done
        if self._stopped_reason is not None:
            self.status.update(state=SyncState.STOPPED, reason=self._stopped_reason)
        elif problem is not None and problem.state is not None:
            retry_at = min((c.paused_until for c in self.channels
                            if c.paused_until is not None and c.paused_until > now),
                           default=None)
            self.status.update(state=problem.state, reason=problem.error, retry_at=retry_at)
        else:
            self.status.update(state=SyncState.SENDING, reason=None, retry_at=None)
        self.publish()
        return StepResult(worked, batch)

    def publish(self) -> SyncStatus:
        """Refresh the counts and reasons (and the state, when nothing is wrong) and tell
        listeners."""
        counts = outbox.counts(self.db)
        groups = waiting_groups(self.db)
        current = self.status.current
        state = current.state
        held = counts["held"] + sum(g.count for g in groups if g.what == "run")
        active = sum(counts[name] for name in _ACTIVE)
        if self._stopped_reason is not None:
            state = SyncState.STOPPED
        elif active + held == 0:
            state = SyncState.IDLE
        elif active == 0 and state in (SyncState.SENDING, SyncState.SETTLING):
            state = SyncState.WAITING  # all that is left is held: nothing is being sent
        elif state is SyncState.SENDING and counts["pending"] == 0 and counts["settling"]:
            state = SyncState.SETTLING
        reason = current.reason if state not in (SyncState.IDLE, SyncState.SENDING) else None
        if reason is None and state is not SyncState.IDLE and groups:
            reason = groups[0].reason if groups[0].state == "held" else None
        return self.status.update(
            state=state, reason=reason,
            pending=counts["pending"], in_flight=counts["in_flight"],
            settling=counts["settling"], held=held, dead=counts["refused"],
            acked=counts["delivered"], sent=self._sent, waiting=groups,
        )

    def _finish_sync_now(self) -> None:
        """Report the outcome of a "Sync now" once its pass is over."""
        if self._sync_now is None:
            return
        started, _ = self._sync_now
        self._sync_now = None
        status = self.publish()
        error = status.reason if status.state in _FAILING else None
        first = status.waiting[0] if status.waiting else None
        report = SyncRunReport(sent=self._sent - started, waiting=status.undelivered,
                               reason=first.reason if first else None, error=error,
                               finished_at=self.clock.utc_now())
        self.status.update(sync_now=report, sync_now_running=False)

    # --- running ------------------------------------------------------------------------

    def run_until_idle(self, give_up_when_failing: bool = False) -> SyncStatus:
        """Step and wait (by the injected clock) until nothing is pending, in flight or
        settling: held rows and refused ones are left (``SyncStatus.held`` says so).

        ``give_up_when_failing``: return at the first failure that needs a pause (``--once``).
        Returns early on a configuration stop or at quit.
        """
        try:
            self._run_steps(give_up_when_failing)
        finally:
            self._finish_sync_now()
        return self.status.current

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
            if self._only_held_left(status) and status.lease_holder is None:
                break
            if give_up_when_failing and self._all_paused():
                break
            if status.state in _FAILING:
                self._finish_sync_now()  # the pass met a problem: say so, keep retrying
            self._wait_for_work()
        return self.status.current

    @staticmethod
    def _only_held_left(status: SyncStatus) -> bool:
        return status.pending + status.in_flight + status.settling == 0

    def _all_paused(self) -> bool:
        now = self.clock.utc_now()
        return all(channel.is_paused(now) for channel in self.channels)

    def _quitting(self) -> bool:
        return self._quit_at is not None and self.clock.utc_now() >= self._quit_at

    def _wait_for_work(self) -> None:
        """Wait until the next attempt or check is due, the lease may be free, or a trigger."""
        now = self.clock.utc_now()
        if self._quit_at is not None:
            self._stop.set()  # quitting: never wait, leave the rest for next time
            return
        if self.status.current.lease_holder is not None:
            seconds = self.settings.lease_retry_s
        else:
            due = self._next_due(now)
            seconds = self.settings.periodic_s
            if due is not None and self._stopped_reason is None:
                seconds = min(seconds, max(0.0, (due - now).total_seconds()))
            self.status.update(retry_at=due if due is not None and due > now else None)
        self.clock.wait(seconds, self._wake)

    def _next_due(self, now: datetime) -> datetime | None:
        """The earliest moment a channel has something to do (its pause taken into account)."""
        times = []
        for channel in self.channels:
            due = outbox.next_due_at(self.db, channel.kind)
            if due is None:
                continue
            if channel.is_paused(now) and channel.paused_until is not None:
                due = max(due, channel.paused_until)
            times.append(due)
        return min(times, default=None)

    def _run(self, start_delay_s: float) -> None:
        try:
            if start_delay_s > 0:
                self.status.update(state=SyncState.WAITING, reason="starting")
                self.clock.wait(start_delay_s, self._wake)
            while not self._stop.is_set():
                try:
                    self.run_until_idle()
                except Exception as exc:  # keep the thread alive; report and back off
                    log.exception("sync step failed")
                    self.status.update(state=SyncState.ERROR, reason=f"internal error: {exc}")
                    self.clock.wait(self.settings.periodic_s, self._wake)
                    continue
                if self._quit_at is not None:
                    break
                self.clock.wait(self.settings.periodic_s, self._wake)
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
            self._release()
