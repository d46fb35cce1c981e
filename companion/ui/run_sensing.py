"""The sensing of one run: chosen when the run starts, closed when it ends.

Input: the Qt event filter first, then the OS idle time (``pick_input``); with no source at
all, an empty ``FallbackInput`` so that the run records sensing unavailable. Lock:
``pick_lock``. Focus: the window's own focus plus the foreground application's name
(``pick_foreground``), or just the window's focus where the foreground cannot be seen.

A lesson in another application (``open(external=...)``) is followed in the foreground
instead: focus is ``ExternalLessonFocus`` (a matching window in front), plus the session
window itself only while ``count_own_window(True)`` (the check quiz is showing); input is
the OS idle time alone, since the Qt filter cannot see input in another application. Where
the foreground cannot be seen, the run records sensing unavailable (unknown time, never
active) except while our own window counts, and ``foreground_problem`` says why.
The pickers are parameters so tests drive this with fakes (no display, D-Bus or pynput).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from companion.core.clock import Clock
from companion.core.sampler import Observation
from companion.system.external import (
    ExternalLesson,
    ExternalLessonFocus,
    ForegroundReader,
    FrontAppFocus,
)
from companion.system.select import (
    FallbackInput,
    SensingUnavailable,
    SessionSensing,
    pick_foreground,
    pick_input,
    pick_lock,
)
from companion.system.sensing import FocusSource, InputSource, LockSource

log = logging.getLogger("companion.ui.sensing")

@dataclass
class Pickers:
    """How the sources are chosen (the real ones by default)."""

    input: Callable[[Clock, Sequence[InputSource]], FallbackInput] = (
        lambda clock, first: pick_input(clock, first=first))
    lock: Callable[[], LockSource] = pick_lock
    foreground: Callable[[], ForegroundReader] = pick_foreground


def fixed_pickers(input_source: InputSource, lock: LockSource,
                  foreground: ForegroundReader | None = None) -> Pickers:
    """Pickers that hand out the given sources (tests, and ``Shell``'s injected fakes);
    without ``foreground`` the foreground cannot be seen."""

    def no_foreground() -> ForegroundReader:
        raise SensingUnavailable("injected sources: no foreground reader")

    return Pickers(input=lambda _clock, _first: FallbackInput([input_source]),
                   lock=lambda: lock,
                   foreground=no_foreground if foreground is None else lambda: foreground)


class OwnWindowFocus(FocusSource):
    """The session window's focus, counted only while ``counting`` (the check quiz shows)."""

    def __init__(self, inner: FocusSource) -> None:
        self.inner = inner
        self.counting = False

    def focused(self) -> bool:
        """Whether our window is in front while it counts."""
        return self.counting and self.inner.focused()

    def front_app(self) -> str | None:
        """``inner``'s answer."""
        return self.inner.front_app()


class RunSensing:
    """Opens ``SessionSensing`` for a run and closes its sources afterwards."""

    def __init__(self, clock: Clock, qt_input: InputSource, window_focus: FocusSource,
                 pickers: Pickers | None = None) -> None:
        self.clock = clock
        self.qt_input = qt_input
        self.window_focus = window_focus
        self.pickers = pickers or Pickers()
        self.current: SessionSensing | None = None
        self.own_window = OwnWindowFocus(window_focus)
        self.foreground_problem: str | None = None  # why an external lesson can't be followed
        self._reader: ForegroundReader | None = None

    def count_own_window(self, counting: bool) -> None:
        """Whether the session window counts as the lesson (the check quiz is showing)."""
        self.own_window.counting = counting

    def open(self, external: ExternalLesson | None = None) -> SessionSensing:
        """Choose the sources for a run that starts now (closing any left open); for a lesson
        in another application, follow its window (``external``)."""
        self.close()
        if external is not None:
            return self._open_external(external)
        chain = self._input([self.qt_input])
        lock = self.pickers.lock()
        focus: FocusSource = self.window_focus
        # Qt always knows whether our own window is active: focus is always available; the
        # foreground reader only adds the name of the application in front.
        focus_available: Callable[[], bool] | None = None
        try:
            reader = self.pickers.foreground()
        except SensingUnavailable as exc:
            log.info("foreground not visible, window focus only: %s", exc)
        else:
            self._reader = reader
            focus = FrontAppFocus(self.window_focus, reader)
        return self._use(SessionSensing(chain, focus, lock, focus_available=focus_available))

    def _open_external(self, external: ExternalLesson) -> SessionSensing:
        chain = self._input([])  # OS idle time: input in the other application counts
        lock = self.pickers.lock()
        try:
            reader = self.pickers.foreground()
        except SensingUnavailable as exc:
            log.warning("foreground not visible, time in the lesson is unknown: %s", exc)
            self.foreground_problem = str(exc)
            own = self.own_window
            return self._use(SessionSensing(chain, own, lock,
                                            focus_available=lambda: own.counting))
        self._reader = reader
        focus = ExternalLessonFocus(reader, external, also=self.own_window)
        return self._use(SessionSensing(chain, focus, lock, focus_available=reader.available))

    def _input(self, first: Sequence[InputSource]) -> FallbackInput:
        try:
            return self.pickers.input(self.clock, first)
        except SensingUnavailable as exc:
            log.warning("no input sensing for this run: %s", exc)
            return FallbackInput([])

    def _use(self, sensing: SessionSensing) -> SessionSensing:
        self.current = sensing
        log.info("run sensing: %s", sensing.describe())
        return sensing

    def observe(self) -> Observation:
        """The current run's observation (opening the sources if no run opened them)."""
        sensing = self.current or self.open()
        return sensing.observe()

    def close(self) -> None:
        """Close the run's OS sources (the Qt filter and the window focus stay)."""
        sensing, self.current = self.current, None
        self.own_window.counting = False
        self.foreground_problem = None
        if sensing is not None:
            for source in getattr(sensing.input, "sources", []):
                if source is not self.qt_input:
                    _close(source)
            _close(sensing.lock)
        if self._reader is not None:
            _close(self._reader)
            self._reader = None


def _close(source: Any) -> None:
    close = getattr(source, "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # closing a broken OS connection
            log.debug("closing %r failed", source, exc_info=True)
