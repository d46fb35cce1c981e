"""The clocks: the real one (monotonic milliseconds that never go back, aware UTC wall time,
waits a wake cuts short) and the fake one tests use (moves only when told or waited on)."""

from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from companion.core.clock import Clock, FakeClock, SystemClock


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


def test_a_set_wake_ends_the_real_wait_at_once() -> None:
    wake = threading.Event()
    wake.set()
    started = time.monotonic()
    assert SystemClock().wait(60, wake) is True
    assert time.monotonic() - started < 30
    assert SystemClock().wait(-1, threading.Event()) is False  # a negative wait is none


def test_the_fake_clock_moves_by_what_is_waited() -> None:
    clock = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), monotonic_ms=1_000)
    wake = threading.Event()
    assert clock.wait(2.5, wake) is False
    clock.advance(250)
    assert clock.monotonic_ms() == 3_750
    assert clock.utc_now() == datetime(2026, 1, 5, 9, 0, 2, 750_000, tzinfo=UTC)
    wake.set()
    assert clock.wait(10, wake) is True  # already woken: no time passes
    assert clock.waits == [2.5] and clock.monotonic_ms() == 3_750


def test_the_fake_clock_keeps_sub_millisecond_waits() -> None:
    clock = FakeClock()
    start = clock.utc_now()
    for _ in range(4):
        clock.wait(0.0004, threading.Event())
    assert clock.utc_now() - start == timedelta(microseconds=1600)
    assert clock.monotonic_ms() == 1  # 1.6 ms, counted down to whole milliseconds


def test_both_clocks_are_clocks() -> None:
    clocks: list[Clock] = [SystemClock(), FakeClock()]
    assert all(c.utc_now().tzinfo is UTC for c in clocks)
