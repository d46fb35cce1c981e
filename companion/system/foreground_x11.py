"""The foreground window on X11: the window manager's ``_NET_ACTIVE_WINDOW``.

Reads the active window id from the root window (EWMH, set by any current window manager)
and that window's ``WM_CLASS`` (application), ``_NET_WM_NAME`` / ``WM_NAME`` (title) and
``_NET_WM_PID``. python-xlib is imported lazily. Without a window manager no window is
ever active, and ``front`` returns None.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from companion.system.external import ForegroundReader, ForegroundWindow
from companion.system.select import SourceFailed

log = logging.getLogger("companion.system")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


class X11Foreground(ForegroundReader):
    """Reads the active window of an X display."""

    name = "x11-net-active-window"

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
        self._root = self._display.screen().root
        atom = self._display.intern_atom
        self._active = atom("_NET_ACTIVE_WINDOW")
        self._net_wm_name = atom("_NET_WM_NAME")
        self._utf8 = atom("UTF8_STRING")
        self._pid = atom("_NET_WM_PID")
        self._dead = False

    def active_window_id(self) -> int | None:
        """The id of the active window (None when none is active)."""
        import Xlib.X

        prop = self._root.get_full_property(self._active, Xlib.X.AnyPropertyType)
        if prop is None or not len(prop.value):
            return None
        wid = int(prop.value[0])
        return wid or None

    def front(self) -> ForegroundWindow | None:
        """The active window, or None (no active window, it just closed, or X is gone)."""
        if self._dead:
            return None
        import Xlib.error
        import Xlib.X

        try:
            wid = self.active_window_id()
            if wid is None:
                return None
            window = self._display.create_resource_object("window", wid)
            name = window.get_full_property(self._net_wm_name, self._utf8)
            title = _text(name.value) if name is not None else _text(window.get_wm_name())
            wm_class = window.get_wm_class() or ()
            pid_prop = window.get_full_property(self._pid, Xlib.X.AnyPropertyType)
        except (Xlib.error.BadWindow, Xlib.error.BadDrawable, Xlib.error.BadValue):
            return None  # the window closed while we read it
        except (Xlib.error.ConnectionClosedError, Xlib.error.XError, OSError) as exc:
            log.warning("foreground source %s stopped: %s", self.name, exc)
            self._dead = True
            return None
        instance, app = [*wm_class, None, None][:2]
        pid = int(pid_prop.value[0]) if pid_prop is not None and len(pid_prop.value) else None
        aliases = tuple(a for a in (instance,) if a and a != app)
        return ForegroundWindow(app=app or instance, title=title, aliases=aliases, pid=pid)

    def available(self) -> bool:
        """False once the X connection broke."""
        return not self._dead

    def close(self) -> None:
        """Close the X connection."""
        self._dead = True
        with contextlib.suppress(Exception):  # already closed or broken
            self._display.close()


def open_source(display_name: str | None = None) -> X11Foreground:
    """The X11 foreground reader; ``SourceFailed`` without a display."""
    return X11Foreground(display_name)
