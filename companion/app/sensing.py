"""Choosing the sensing, in one place: the input source the windows and the run read (the
Qt event filter, or an injected fake), the window focus, and the per-run pickers (the
OS's best sources, or the injected ones in tests).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtWidgets import QApplication, QWidget

from companion.core.clock import Clock
from companion.system.external import ForegroundReader
from companion.system.sensing import FocusSource, InputSource, LockSource, NoLockSensing
from companion.ui.run_sensing import Pickers, RunSensing, fixed_pickers
from companion.ui.sensing_qt import QtInputSource, WindowFocusSource

log = logging.getLogger("companion.app.sensing")


@dataclass
class SensingChoice:
    """The sources the app was given (tests inject fakes); None: the real ones."""

    clock: Clock
    input: InputSource | None = None
    focus: FocusSource | None = None
    lock: LockSource | None = None
    foreground: ForegroundReader | None = None  # None: the OS's own foreground reader
    _qt_input: QtInputSource | None = None

    def input_source(self) -> InputSource:
        """The last-input source for the idle sign-out and the runs (made once)."""
        if self.input is None:
            self.input = self._qt_input = QtInputSource(self.clock)
        return self.input

    def install(self, app: QApplication) -> None:
        """Start the Qt input filter, if it is the source (after the first window shows:
        the filter then sees no start-up events)."""
        if self._qt_input is not None:
            self._qt_input.install(app)

    def for_runs(self, window: QWidget) -> RunSensing:
        """Per-run sensing for ``window``: the injected sources, else the OS's best ones."""
        input_source = self.input_source()
        injected = self.focus is not None or self.lock is not None
        focus = self.focus if self.focus is not None else WindowFocusSource(window)
        if injected:
            pickers = fixed_pickers(input_source, self.lock or NoLockSensing(), self.foreground)
        else:
            pickers = Pickers()
            if self.foreground is not None:
                reader = self.foreground
                pickers.foreground = lambda: reader
        return RunSensing(self.clock, input_source, focus, pickers)
