"""Fakes of the sensing sources for tests: they implement the real interfaces.

Tests set their state directly (``fake.focus = False``); the fakes hold nothing else.
"""

from __future__ import annotations

from companion.core.clock import Clock
from companion.system.sensing import FocusSource, InputSource, LockSource


class FakeInput(InputSource):
    """An input source whose last input time the test sets (``touch``)."""

    name = "fake"

    def __init__(self, clock: Clock | None = None, available: bool = True) -> None:
        """With a clock, ``touch()`` records the clock's current monotonic time."""
        self._clock = clock
        self.last: int | None = None
        self.is_available = available

    def touch(self, at_ms: int | None = None) -> None:
        """Record an input at ``at_ms`` (default: the clock's now)."""
        if at_ms is None:
            if self._clock is None:
                raise ValueError("FakeInput.touch needs at_ms or a clock")
            at_ms = self._clock.monotonic_ms()
        self.last = at_ms

    def last_input_ms(self) -> int | None:
        """The last time set by ``touch``."""
        return self.last

    def available(self) -> bool:
        """``is_available``."""
        return self.is_available


class FakeFocus(FocusSource):
    """A focus source the test switches (``focus``, ``app``)."""

    def __init__(self, focus: bool = True, app: str | None = None) -> None:
        """Start focused (by default) with no app in front."""
        self.focus = focus
        self.app = app

    def focused(self) -> bool:
        """``focus``."""
        return self.focus

    def front_app(self) -> str | None:
        """``app``."""
        return self.app


class FakeLock(LockSource):
    """A lock source the test switches (``is_locked``)."""

    def __init__(self, locked: bool = False) -> None:
        """Start unlocked (by default)."""
        self.is_locked = locked

    def locked(self) -> bool:
        """``is_locked``."""
        return self.is_locked
