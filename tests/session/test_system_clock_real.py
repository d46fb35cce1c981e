"""The real clock: monotonic milliseconds that never go back, and aware UTC wall time."""

from __future__ import annotations

import sys
import time
from datetime import UTC

from companion.system.clock import SystemClock


def test_monotonic_ms_never_goes_back_and_utc_is_aware() -> None:
    clock = SystemClock()
    readings = [clock.monotonic_ms() for _ in range(1000)]
    assert readings == sorted(readings) and readings[0] > 0
    now = clock.utc_now()
    assert now.tzinfo is not None and now.utcoffset() == UTC.utcoffset(now)


def test_linux_uses_the_boot_clock() -> None:
    clock = SystemClock()
    if sys.platform.startswith("linux"):
        boot = time.clock_gettime_ns(time.CLOCK_BOOTTIME) // 1_000_000
        assert abs(clock.monotonic_ms() - boot) < 1000
    else:
        assert abs(clock.monotonic_ms() - time.monotonic_ns() // 1_000_000) < 1000
