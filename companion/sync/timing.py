"""The worker's time: a wall clock for the database and waits that a trigger can cut short.

Every wait in ``companion.sync`` goes through a ``SyncTime``, so tests pass ``FakeTime``
and backoff, Retry-After and settling run in no real time at all.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class SyncTime(Protocol):
    """The clock and the sleeper the worker uses."""

    def now(self) -> datetime:
        """The wall clock, timezone-aware UTC."""
        ...

    def wait(self, seconds: float, wake: threading.Event) -> bool:
        """Wait up to ``seconds`` or until ``wake`` is set; True if woken."""
        ...


class RealTime:
    """The system clock and real waits."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def wait(self, seconds: float, wake: threading.Event) -> bool:
        return wake.wait(max(0.0, seconds))


class FakeTime:
    """A clock that moves only when the worker waits (or a test calls ``advance``).

    ``waits`` records every wait asked for, so tests can assert on delays.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()
        self.waits: list[float] = []

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        with self._lock:
            self._now += timedelta(seconds=seconds)

    def wait(self, seconds: float, wake: threading.Event) -> bool:
        if wake.is_set():
            return True
        self.waits.append(seconds)
        self.advance(max(0.0, seconds))
        return wake.is_set()
