"""The sensing of one run: chosen when the run starts, closed when it ends.

Input: the Qt event filter first, then the OS idle time (``pick_input``); with no source at
all, an empty ``FallbackInput`` so that the run records sensing unavailable. Lock:
``pick_lock``. Focus: the window's own focus plus the foreground application's name
(``pick_foreground``), or just the window's focus where the foreground cannot be seen.
The pickers are parameters so tests drive this with fakes (no display, D-Bus or pynput).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from companion.core.clock import Clock
from companion.core.sampler import Observation
from companion.system.external import ForegroundReader, FrontAppFocus
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


def fixed_pickers(input_source: InputSource, lock: LockSource) -> Pickers:
    """Pickers that hand out the given sources (tests, and ``Shell``'s injected fakes)."""

    def no_foreground() -> ForegroundReader:
        raise SensingUnavailable("injected sources: no foreground reader")

    return Pickers(input=lambda _clock, _first: FallbackInput([input_source]),
                   lock=lambda: lock, foreground=no_foreground)


class RunSensing:
    """Opens ``SessionSensing`` for a run and closes its sources afterwards."""

    def __init__(self, clock: Clock, qt_input: InputSource, window_focus: FocusSource,
                 pickers: Pickers | None = None) -> None:
        self.clock = clock
        self.qt_input = qt_input
        self.window_focus = window_focus
        self.pickers = pickers or Pickers()
        self.current: SessionSensing | None = None
        self._reader: ForegroundReader | None = None

    def open(self) -> SessionSensing:
        """Choose the sources for a run that starts now (closing any left open)."""
        self.close()
        try:
            chain = self.pickers.input(self.clock, [self.qt_input])
        except SensingUnavailable as exc:
            log.warning("no input sensing for this run: %s", exc)
            chain = FallbackInput([])
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
        sensing = SessionSensing(chain, focus, lock, focus_available=focus_available)
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
