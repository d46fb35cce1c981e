"""Screen lock on macOS: ``CGSSessionScreenIsLocked`` in the Quartz session dictionary.

``CGSessionCopyCurrentDictionary`` (pyobjc Quartz) is asked once per sampler tick; the key
is present and true while the screen is locked (the same state as the
``com.apple.screenIsLocked`` / ``screenIsUnlocked`` notifications, without needing a
notification observer).
"""

from __future__ import annotations

import sys
from typing import Any

from companion.system.select import SourceFailed
from companion.system.sensing import LockSource

LOCKED_KEY = "CGSSessionScreenIsLocked"


def is_locked(session: Any) -> bool:
    """Whether a Quartz session dictionary says the screen is locked."""
    if session is None:
        return False
    return bool(session.get(LOCKED_KEY, False))


class QuartzLock(LockSource):
    """The Quartz session's lock flag."""

    name = "macos-quartz-session"

    def __init__(self) -> None:
        """Import Quartz (pyobjc); ``SourceFailed`` elsewhere or without it."""
        if sys.platform != "darwin":
            raise SourceFailed("Quartz exists only on macOS")
        try:
            import Quartz
        except ImportError as exc:
            raise SourceFailed(f"pyobjc Quartz is not installed: {exc}") from exc
        self._quartz: Any = Quartz

    def locked(self) -> bool:
        """Whether the screen is locked now."""
        return is_locked(self._quartz.CGSessionCopyCurrentDictionary())


def open_source() -> QuartzLock:
    """The macOS lock source; ``SourceFailed`` elsewhere or without pyobjc."""
    return QuartzLock()
