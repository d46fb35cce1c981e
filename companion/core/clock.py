"""The injected clock: run time that keeps counting through sleep, and the wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the rules and the recorder need to know about time."""

    def monotonic_ms(self) -> int:
        """Milliseconds on a clock that nobody can set and that counts through sleep."""
        ...

    def utc_now(self) -> datetime:
        """The wall clock, timezone-aware UTC (only to anchor and date events)."""
        ...


class FakeClock:
    """A clock for tests: it moves only when told to."""

    def __init__(self, start: datetime | None = None, monotonic_ms: int = 0) -> None:
        self._wall = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._mono = monotonic_ms

    def monotonic_ms(self) -> int:
        return self._mono

    def utc_now(self) -> datetime:
        return self._wall

    def advance(self, ms: int) -> None:
        """Move both clocks forward by ``ms`` milliseconds."""
        self._mono += ms
        self._wall += timedelta(milliseconds=ms)
