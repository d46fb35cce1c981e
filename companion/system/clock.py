"""The real clock: monotonic milliseconds that count through sleep, and UTC wall time."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime

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
    """``companion.core.clock.Clock`` on the OS clocks: journal time keeps counting through
    sleep, so a suspended machine shows as a gap that the sampler turns into suspend/resume."""

    def monotonic_ms(self) -> int:
        """Milliseconds on a clock that counts through sleep and nobody can set."""
        return _through_sleep_ms()

    def utc_now(self) -> datetime:
        """The wall clock, timezone-aware UTC."""
        return datetime.now(UTC)
