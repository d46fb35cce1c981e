"""Input activity on X11: the server's idle time from the MIT-SCREEN-SAVER extension.

One question, one function (like ActivityWatch's ``seconds_since_last_input``):
``XScreenSaverIdle.idle_ms`` asks the X server how long ago it saw the last keyboard or
pointer event from any client. No events are read, so nothing about keys can be kept.
python-xlib is imported lazily. Caveat: programs that reset the screen saver (some video
players) look like input to the X server.
"""

from __future__ import annotations

import contextlib
from typing import Any

from companion.core.clock import Clock
from companion.system.select import IdleTimeInput, SourceFailed


class XScreenSaverIdle:
    """A connection to an X display that answers ``idle_ms``."""

    def __init__(self, display_name: str | None = None) -> None:
        """Connect to ``display_name`` (default ``$DISPLAY``); ``SourceFailed`` if impossible."""
        try:
            import Xlib.display
            import Xlib.error
        except ImportError as exc:
            raise SourceFailed(f"python-xlib is not installed: {exc}") from exc
        try:
            self._display: Any = Xlib.display.Display(display_name)
        except (Xlib.error.DisplayError, OSError) as exc:
            where = display_name or "$DISPLAY"
            raise SourceFailed(f"cannot open X display {where}: {exc}") from exc
        if not self._display.has_extension("MIT-SCREEN-SAVER"):
            self._display.close()
            raise SourceFailed("the X server has no MIT-SCREEN-SAVER extension")
        self._root = self._display.screen().root

    def idle_ms(self) -> int:
        """Milliseconds since the X server last saw input; ``SourceFailed`` if it is gone."""
        import Xlib.error

        try:
            return int(self._root.screensaver_query_info().idle)
        except (Xlib.error.ConnectionClosedError, Xlib.error.XError, OSError) as exc:
            raise SourceFailed(f"X server stopped answering: {exc}") from exc

    def close(self) -> None:
        """Close the X connection."""
        with contextlib.suppress(Exception):  # already closed or broken
            self._display.close()


def open_source(clock: Clock, display_name: str | None = None) -> IdleTimeInput:
    """The X11 idle-time input source; ``SourceFailed`` when there is no usable display."""
    idle = XScreenSaverIdle(display_name)
    return IdleTimeInput("x11-screensaver", idle.idle_ms, clock, close=idle.close)
