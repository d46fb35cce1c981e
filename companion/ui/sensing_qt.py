"""The Qt sensing sources: last input time from an event filter on the app's own windows,
and focus from the session window's active state.

Privacy: the filter looks only at the event *type*; it keeps one integer, the monotonic
time of the latest input event. Never keys, text or positions (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QGuiApplication, QWindow
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
    """Records when the last input reached one of the app's own windows.

    The filter sits on the app's top-level windows (``QWindow``), where the platform
    delivers every key, pointer and touch event before Qt hands it to a widget, the lesson
    page's WebEngine view included. It is never an application-wide filter: that one is
    called for every event of every internal Qt object (the web view's Qt Quick items
    among them), and on a real X display wrapping those objects for Python crashed the app.
    New windows (dialogs, the session window after a restart) are watched as they take the
    focus (``focusWindowChanged``); installing twice on one window is a no-op in Qt.
    """

    name = "qt-event-filter"

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last_ms: int | None = None
        self._filter = _InputFilter(self.record)
        self._app: QGuiApplication | None = None

    def install(self, app: QGuiApplication) -> None:
        """Start watching the app's windows (the shown ones now, others as they focus)."""
        if self._app is not None:
            return
        self._app = app
        for window in app.topLevelWindows():
            self.watch(window)
        app.focusWindowChanged.connect(self.watch)

    def watch(self, window: QWindow | None) -> None:
        """Watch input arriving at ``window`` (a no-op for None or a watched window)."""
        if window is not None:
            window.installEventFilter(self._filter)

    def remove(self, app: QGuiApplication) -> None:
        """Stop watching."""
        if self._app is None:
            return
        app.focusWindowChanged.disconnect(self.watch)
        for window in app.topLevelWindows():
            window.removeEventFilter(self._filter)
        self._app = None

    def record(self) -> None:
        """Note that input happened now (only the time is kept)."""
        self._last_ms = self._clock.monotonic_ms()

    def last_input_ms(self) -> int | None:
        """Monotonic ms of the latest input event; None if none yet."""
        return self._last_ms

    def available(self) -> bool:
        """Available while installed: Qt sees input for our own windows."""
        return self._app is not None


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
