"""The foreground application on macOS: ``NSWorkspace.frontmostApplication`` (pyobjc).

The application's localised name, bundle id and process id come from AppKit; the title of
its front window from ``CGWindowListCopyWindowInfo`` (empty without the Screen Recording
permission, so match macOS lessons on the application name). AppKit updates the front
application from the main run loop: call ``front`` on the UI thread (Qt runs that loop).
"""

from __future__ import annotations

import sys
from typing import Any

from companion.system.external import ForegroundReader, ForegroundWindow
from companion.system.select import SourceFailed


def front_window_title(quartz: Any, pid: int) -> str:
    """The name of ``pid``'s frontmost normal-layer on-screen window ('' when unknown)."""
    options = quartz.kCGWindowListOptionOnScreenOnly | quartz.kCGWindowListExcludeDesktopElements
    for info in quartz.CGWindowListCopyWindowInfo(options, quartz.kCGNullWindowID) or ():
        if info.get("kCGWindowOwnerPID") == pid and info.get("kCGWindowLayer") == 0:
            return str(info.get("kCGWindowName") or "")
    return ""


class MacForeground(ForegroundReader):
    """Reads the frontmost application through AppKit."""

    name = "macos-nsworkspace"

    def __init__(self) -> None:
        """Import AppKit and Quartz (pyobjc); ``SourceFailed`` when they are missing."""
        if sys.platform != "darwin":
            raise SourceFailed("NSWorkspace exists only on macOS")
        try:
            import AppKit
            import Quartz
        except ImportError as exc:
            raise SourceFailed(f"pyobjc is not installed: {exc}") from exc
        self._workspace: Any = AppKit.NSWorkspace.sharedWorkspace()
        self._quartz: Any = Quartz

    def front(self) -> ForegroundWindow | None:
        """The frontmost application and its front window's title."""
        app = self._workspace.frontmostApplication()
        if app is None:
            return None
        pid = int(app.processIdentifier())
        bundle = app.bundleIdentifier()
        return ForegroundWindow(
            app=str(app.localizedName() or "") or None,
            title=front_window_title(self._quartz, pid),
            aliases=(str(bundle),) if bundle else (),
            pid=pid,
        )

    def available(self) -> bool:
        """Always, once AppKit loaded."""
        return True


def open_source() -> MacForeground:
    """The macOS foreground reader; ``SourceFailed`` elsewhere or without pyobjc."""
    return MacForeground()
