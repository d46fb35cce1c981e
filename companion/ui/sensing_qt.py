"""The Qt sensing sources: last input time from an application event filter, and focus
from the session window's active state.

Privacy: the filter looks only at the event *type*; it keeps one integer, the monotonic
time of the latest input event. Never keys, text or positions (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

from companion.core.clock import Clock
from companion.system.sensing import FocusSource, InputSource

INPUT_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TouchUpdate,
        QEvent.Type.TouchEnd,
        QEvent.Type.TabletPress,
        QEvent.Type.TabletMove,
        QEvent.Type.TabletRelease,
    }
)


class _InputFilter(QObject):
    """The event filter itself: calls ``on_input`` for input event types, keeps nothing."""

    def __init__(self, on_input: Callable[[], None]) -> None:
        super().__init__()
        self._on_input = on_input

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Note input events by type only; never consumes an event."""
        if event.type() in INPUT_EVENTS:
            self._on_input()
        return False


class QtInputSource(InputSource):
    """An application-wide event filter that records when the last input happened."""

    name = "qt-event-filter"

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last_ms: int | None = None
        self._filter = _InputFilter(self.record)
        self._installed = False

    def install(self, app: QCoreApplication) -> None:
        """Start watching every event the application delivers."""
        if not self._installed:
            app.installEventFilter(self._filter)
            self._installed = True

    def remove(self, app: QCoreApplication) -> None:
        """Stop watching."""
        if self._installed:
            app.removeEventFilter(self._filter)
            self._installed = False

    def record(self) -> None:
        """Note that input happened now (only the time is kept)."""
        self._last_ms = self._clock.monotonic_ms()

    def last_input_ms(self) -> int | None:
        """Monotonic ms of the latest input event; None if none yet."""
        return self._last_ms

    def available(self) -> bool:
        """Available while installed: Qt sees input for our own windows."""
        return self._installed


class WindowFocusSource(FocusSource):
    """Focused while the session window, or one of the app's own windows or dialogs, is the
    active window; our own dialogs do not count as leaving the lesson."""

    def __init__(self, window: QWidget) -> None:
        self._window = window

    def focused(self) -> bool:
        """True when any of our top-level windows is active and the window not minimised."""
        if self._window.isMinimized():
            return False
        return QApplication.activeWindow() is not None

    def front_app(self) -> str | None:
        """Unknown from Qt alone."""
        return None
