"""The real clock: monotonic milliseconds that count through sleep, and UTC wall time."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime


def _boottime_ms() -> int:
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME) // 1_000_000


def _monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class SystemClock:
    """``companion.core.clock.Clock`` on the OS clocks.

    On Linux ``CLOCK_BOOTTIME`` (counts through suspend, cannot be set); elsewhere
    ``time.monotonic``, which may pause while the machine sleeps (the OS sleep
    notifications of a later issue cover that).
    """

    def __init__(self) -> None:
        """Pick the best monotonic clock this platform has."""
        self._mono = (
            _boottime_ms
            if sys.platform.startswith("linux") and hasattr(time, "CLOCK_BOOTTIME")
            else _monotonic_ms
        )

    def monotonic_ms(self) -> int:
        """Milliseconds on the monotonic clock."""
        return self._mono()

    def utc_now(self) -> datetime:
        """The wall clock, timezone-aware UTC."""
        return datetime.now(UTC)
