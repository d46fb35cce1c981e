"""What the sync worker tells the windows and the command line: its state, what waits and
why, the outcome of a "Sync now". Plain values (the worker's ``StatusBoard`` publishes
them; the windows never import ``sync``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class SyncState(StrEnum):
    """What the worker is doing."""

    IDLE = "idle"  # nothing to send
    WAITING = "waiting"  # something to send later (start delay, lease held elsewhere)
    SENDING = "sending"
    SETTLING = "settling"  # reading back events whose delivery is uncertain
    OFFLINE = "offline"
    RATE_LIMITED = "rate-limited"
    ERROR = "error"  # see ``reason``; retries continue unless the state says stopped
    STOPPED = "stopped"  # a configuration problem (403, no credentials) or quit


@dataclass(frozen=True)
class WaitingGroup:
    """Deliveries that wait for the same reason: ``what`` is "event", "result" or "run"
    (a closed run whose events cannot be built yet), ``state`` the outbox state (or
    "held" for runs)."""

    what: str
    state: str
    count: int
    reason: str | None

    def text(self) -> str:
        """E.g. "2 results held: line item missing: run `companion content push`"."""
        noun = self.what if self.count == 1 else f"{self.what}s"
        label = self.state.replace("_", " ")
        return f"{self.count} {noun} {label}" + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class SyncRunReport:
    """The outcome of one "Sync now": what was sent, what still waits and why, or the error."""

    sent: int
    waiting: int
    reason: str | None  # why the first group still waits
    error: str | None  # the problem that stopped the pass, if any
    finished_at: datetime

    def text(self) -> str:
        """One sentence for the person who pressed "Sync now"."""
        if self.error:
            return f"Sync failed: {self.error}" + (f" ({self.sent} sent)" if self.sent else "")
        if not self.waiting:
            return f"Sent {self.sent}; everything is delivered"
        tail = f": {self.reason}" if self.reason else ""
        return f"Sent {self.sent}; {self.waiting} waiting{tail}"


@dataclass(frozen=True)
class SyncStatus:
    """One snapshot of the worker's state and the outbox counts.

    ``waiting`` lists every undelivered group with its state and reason (held first);
    "up to date" means it is empty.
    """

    state: SyncState = SyncState.IDLE
    reason: str | None = None
    pending: int = 0
    in_flight: int = 0
    dead: int = 0
    acked: int = 0
    sent: int = 0  # events this worker saw delivered since it started
    last_success_at: datetime | None = None
    retry_at: datetime | None = None  # when the next attempt is due, while waiting
    lease_holder: str | None = None  # "pid 123 on host" when another process sends
    settling: int = 0  # sent without a clear answer: being read back
    held: int = 0  # held deliveries and runs waiting for roster data
    waiting: tuple[WaitingGroup, ...] = ()
    sync_now: SyncRunReport | None = None  # the result of the last "Sync now"
    sync_now_running: bool = False  # a "Sync now" is in progress

    @property
    def undelivered(self) -> int:
        """Everything not delivered yet (refused rows aside): 0 means up to date."""
        if self.waiting:
            return sum(group.count for group in self.waiting)
        return self.pending + self.in_flight + self.settling + self.held

    def waiting_text(self) -> str | None:
        """E.g. "2 waiting: no email in the roster for Noah Smith", or None if none wait."""
        if not self.waiting:
            return None
        first = self.waiting[0]
        total = self.undelivered
        return f"{total} waiting: {first.reason}" if first.reason else f"{total} waiting"
