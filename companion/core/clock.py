"""The one clock: run time that keeps counting through sleep, the wall clock, and waits.

Everything that needs the time takes a ``Clock``: the composition root passes one
``SystemClock``, tests pass a ``FakeClock``, which moves only when told to (or when something
waits on it), so backoff, settling and token expiry run in no real time at all.

This is the only module of ``companion.core`` that reads the OS clocks (``time``, through
the standard library); everything else in core is handed a clock.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Wake(Protocol):
    """What a wait can be cut short by (``threading.Event`` is one)."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class Clock(Protocol):
    """What the rules, the recorder, the clients and the worker need to know about time."""

    def monotonic_ms(self) -> int:
        """Milliseconds on a clock that nobody can set and that counts through sleep."""
        ...

    def utc_now(self) -> datetime:
        """The wall clock, timezone-aware UTC (only to anchor and date events)."""
        ...

    def wait(self, seconds: float, wake: Wake) -> bool:
        """Wait up to ``seconds`` or until ``wake`` is set; True if woken."""
        ...


def utc_now() -> datetime:
    """The OS wall clock, timezone-aware UTC (what ``SystemClock.utc_now`` says)."""
    return datetime.now(UTC)


if sys.platform == "linux":

    def _through_sleep_ms() -> int:
        """CLOCK_BOOTTIME: counts through suspend and cannot be set."""
        return time.clock_gettime_ns(time.CLOCK_BOOTTIME) // 1_000_000

elif sys.platform == "darwin":

    def _through_sleep_ms() -> int:
        """CLOCK_MONOTONIC on macOS is mach_continuous_time: it counts through sleep
        (``time.monotonic`` uses mach_absolute_time, which stops while asleep)."""
        return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1_000_000

else:

    def _through_sleep_ms() -> int:
        """Windows: ``time.monotonic`` (the performance counter / tick count) keeps
        counting while the machine sleeps."""
        return time.monotonic_ns() // 1_000_000


class SystemClock:
    """``Clock`` on the OS clocks: journal time keeps counting through sleep, so a suspended
    machine shows as a gap that the sampler turns into suspend/resume."""

    def monotonic_ms(self) -> int:
        """Milliseconds on a clock that counts through sleep and nobody can set."""
        return _through_sleep_ms()

    def utc_now(self) -> datetime:
        """The wall clock, timezone-aware UTC."""
        return utc_now()

    def wait(self, seconds: float, wake: Wake) -> bool:
        """A real wait, cut short when ``wake`` is set."""
        return wake.wait(max(0.0, seconds))


class FakeClock:
    """A clock for tests: it moves only when told to, or by as long as something waits.

    ``waits`` records every wait asked for (in seconds), so tests can assert on delays.
    """

    def __init__(self, start: datetime | None = None, monotonic_ms: int = 0) -> None:
        self._wall = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._mono_us = monotonic_ms * 1000
        self.waits: list[float] = []

    def monotonic_ms(self) -> int:
        return self._mono_us // 1000

    def utc_now(self) -> datetime:
        return self._wall

    def advance(self, ms: float) -> None:
        """Move both clocks forward by ``ms`` milliseconds."""
        step = timedelta(milliseconds=ms)
        self._mono_us += step // timedelta(microseconds=1)
        self._wall += step

    def wait(self, seconds: float, wake: Wake) -> bool:
        """No real wait: the clock moves on by ``seconds`` unless ``wake`` is already set."""
        if wake.is_set():
            return True
        self.waits.append(seconds)
        self.advance(max(0.0, seconds) * 1000)
        return wake.is_set()
