"""Screen lock on Windows: the session's lock state from the WTS API.

``WTSQuerySessionInformationW(WTSSessionInfoEx)`` gives ``SessionFlags`` of the current
session: ``WTS_SESSIONSTATE_LOCK`` (0) while the workstation is locked, ``UNLOCK`` (1)
otherwise. Asked once per sampler tick, so no message window is needed for the
``WM_WTSSESSION_CHANGE`` notifications. (Windows 7 and Server 2008 R2 swap the two values;
they are not supported.)
"""

from __future__ import annotations

import ctypes
import sys

from companion.system.select import SourceFailed
from companion.system.sensing import LockSource

WTS_CURRENT_SESSION = 0xFFFFFFFF
WTS_SESSION_INFO_EX = 25
WTS_SESSIONSTATE_LOCK = 0
WTS_SESSIONSTATE_UNLOCK = 1


class WTSINFOEX_LEVEL1_W(ctypes.Structure):
    """``WTSINFOEX_LEVEL1_W``."""

    _fields_ = [
        ("SessionId", ctypes.c_ulong),
        ("SessionState", ctypes.c_int),
        ("SessionFlags", ctypes.c_long),
        ("WinStationName", ctypes.c_wchar * 33),
        ("UserName", ctypes.c_wchar * 21),
        ("DomainName", ctypes.c_wchar * 18),
        ("LogonTime", ctypes.c_longlong),
        ("ConnectTime", ctypes.c_longlong),
        ("DisconnectTime", ctypes.c_longlong),
        ("LastInputTime", ctypes.c_longlong),
        ("CurrentTime", ctypes.c_longlong),
        ("IncomingBytes", ctypes.c_ulong),
        ("OutgoingBytes", ctypes.c_ulong),
        ("IncomingFrames", ctypes.c_ulong),
        ("OutgoingFrames", ctypes.c_ulong),
        ("IncomingCompressedBytes", ctypes.c_ulong),
        ("OutgoingCompressedBytes", ctypes.c_ulong),
    ]


class WTSINFOEX_LEVEL_W(ctypes.Union):
    """``WTSINFOEX_LEVEL_W``."""

    _fields_ = [("WTSInfoExLevel1", WTSINFOEX_LEVEL1_W)]


class WTSINFOEXW(ctypes.Structure):
    """``WTSINFOEXW``."""

    _fields_ = [("Level", ctypes.c_ulong), ("Data", WTSINFOEX_LEVEL_W)]


if sys.platform == "win32":

    def session_flags() -> int:
        """``SessionFlags`` of the current session; ``SourceFailed`` when WTS fails."""
        wtsapi32 = ctypes.windll.wtsapi32
        buffer = ctypes.POINTER(WTSINFOEXW)()
        size = ctypes.c_ulong()
        ok = wtsapi32.WTSQuerySessionInformationW(
            None,
            WTS_CURRENT_SESSION,
            WTS_SESSION_INFO_EX,
            ctypes.byref(buffer),
            ctypes.byref(size),
        )
        if not ok or not buffer:
            raise SourceFailed(f"WTSQuerySessionInformationW failed: {ctypes.GetLastError()}")
        try:
            return int(buffer.contents.Data.WTSInfoExLevel1.SessionFlags)
        finally:
            wtsapi32.WTSFreeMemory(buffer)

else:

    def session_flags() -> int:
        """Not on Windows: always ``SourceFailed``."""
        raise SourceFailed("WTS exists only on Windows")


class WtsLock(LockSource):
    """Locked while the session's WTS flags say ``WTS_SESSIONSTATE_LOCK``."""

    name = "windows-wts"

    def locked(self) -> bool:
        """The session's lock state now; False when WTS does not answer."""
        try:
            return session_flags() == WTS_SESSIONSTATE_LOCK
        except (SourceFailed, OSError):
            return False


def open_source() -> WtsLock:
    """The Windows lock source; ``SourceFailed`` elsewhere."""
    session_flags()
    return WtsLock()
