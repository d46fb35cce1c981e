"""The real clock, for when none is injected (tests inject ``companion.core.clock.FakeClock``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SystemClock:
    """``companion.core.clock.Clock`` on the OS clocks."""

    def monotonic_ms(self) -> int:
        return time.monotonic_ns() // 1_000_000

    def utc_now(self) -> datetime:
        return datetime.now(UTC)
