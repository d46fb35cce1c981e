"""Input activity on Windows: ``GetLastInputInfo``, the session's last input tick.

``idle_ms`` is ``GetTickCount() - LASTINPUTINFO.dwTime`` (modulo 2**32, so the 49.7-day wrap
is harmless), and the reference clock is ``GetTickCount64``: the same counter, so a sleep
never looks like input. Only the tick count of the last input is read; nothing about keys.
"""

from __future__ import annotations

import ctypes
import sys

from companion.core.clock import Clock
from companion.system.select import IdleTimeInput, SourceFailed


class LASTINPUTINFO(ctypes.Structure):
    """The Win32 ``LASTINPUTINFO`` structure."""

    _fields_ = [("cbSize", ctypes.c_uint), ("dwTime", ctypes.c_uint32)]


if sys.platform == "win32":

    def idle_ms() -> int:
        """Milliseconds since the last input in this session."""
        user32 = ctypes.windll.user32
        kernel32 = ctypes.windll.kernel32
        info = LASTINPUTINFO()
        info.cbSize = ctypes.sizeof(LASTINPUTINFO)
        if not user32.GetLastInputInfo(ctypes.byref(info)):
            raise SourceFailed(f"GetLastInputInfo failed: {ctypes.GetLastError()}")
        now = int(kernel32.GetTickCount()) & 0xFFFFFFFF
        return (now - int(info.dwTime)) & 0xFFFFFFFF

    def tick_ms() -> int:
        """``GetTickCount64``: the clock ``GetLastInputInfo`` counts on."""
        kernel32 = ctypes.windll.kernel32
        kernel32.GetTickCount64.restype = ctypes.c_uint64
        return int(kernel32.GetTickCount64())

else:

    def idle_ms() -> int:
        """Not on Windows: always ``SourceFailed``."""
        raise SourceFailed("GetLastInputInfo exists only on Windows")

    def tick_ms() -> int:
        """Not on Windows: always ``SourceFailed``."""
        raise SourceFailed("GetTickCount64 exists only on Windows")


def open_source(clock: Clock) -> IdleTimeInput:
    """The Windows idle-time input source; ``SourceFailed`` elsewhere."""
    idle_ms()  # fail now rather than at the first tick
    return IdleTimeInput("windows-lastinputinfo", idle_ms, clock, reference_ms=tick_ms)
