"""The foreground window on Windows: ``GetForegroundWindow`` through ctypes.

The application is the executable of the window's process (``QueryFullProcessImageNameW``
with limited query rights, which works for other users' elevated processes too); the
title is ``GetWindowTextW``. Store apps show their frame host (``ApplicationFrameHost``).
"""

from __future__ import annotations

import ctypes
import ntpath
import sys

from companion.system.external import ForegroundReader, ForegroundWindow
from companion.system.select import SourceFailed

PROCESS_QUERY_LIMITED_INFORMATION = 0x1000


def split_executable(path: str | None) -> tuple[str | None, tuple[str, ...]]:
    """``C:\\...\\Scratch 3.exe`` → (``Scratch 3``, (``Scratch 3.exe``,))."""
    if not path:
        return None, ()
    base = ntpath.basename(path)
    stem = base[:-4] if base.lower().endswith(".exe") else base
    return stem, (base,) if base != stem else ()


if sys.platform == "win32":
    from ctypes import wintypes

    def _process_image(pid: int) -> str | None:
        kernel32 = ctypes.windll.kernel32
        kernel32.OpenProcess.restype = wintypes.HANDLE
        handle = kernel32.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
        if not handle:
            return None
        try:
            size = wintypes.DWORD(32768)
            buffer = ctypes.create_unicode_buffer(size.value)
            if kernel32.QueryFullProcessImageNameW(handle, 0, buffer, ctypes.byref(size)):
                return str(buffer.value)
            return None
        finally:
            kernel32.CloseHandle(handle)

    def foreground_window() -> ForegroundWindow | None:
        """The window in front, or None (no foreground window, e.g. while locked)."""
        user32 = ctypes.windll.user32
        user32.GetForegroundWindow.restype = wintypes.HWND
        hwnd = user32.GetForegroundWindow()
        if not hwnd:
            return None
        length = int(user32.GetWindowTextLengthW(hwnd))
        text = ctypes.create_unicode_buffer(length + 1)
        user32.GetWindowTextW(hwnd, text, length + 1)
        pid = wintypes.DWORD()
        user32.GetWindowThreadProcessId(hwnd, ctypes.byref(pid))
        app, aliases = split_executable(_process_image(int(pid.value)))
        return ForegroundWindow(
            app=app, title=str(text.value), aliases=aliases, pid=int(pid.value) or None
        )

else:

    def foreground_window() -> ForegroundWindow | None:
        """Not on Windows: always ``SourceFailed``."""
        raise SourceFailed("GetForegroundWindow exists only on Windows")


class WindowsForeground(ForegroundReader):
    """Reads the foreground window of this Windows session."""

    name = "windows-getforegroundwindow"

    def front(self) -> ForegroundWindow | None:
        """``foreground_window()``; None when it fails."""
        try:
            return foreground_window()
        except OSError:
            return None

    def available(self) -> bool:
        """Always, on Windows."""
        return sys.platform == "win32"


def open_source() -> WindowsForeground:
    """The Windows foreground reader; ``SourceFailed`` elsewhere."""
    if sys.platform != "win32":
        raise SourceFailed("GetForegroundWindow exists only on Windows")
    return WindowsForeground()
