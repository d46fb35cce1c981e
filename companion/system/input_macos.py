"""Input activity on macOS: ``CGEventSourceSecondsSinceLastEventType`` (CoreGraphics).

Called through ctypes on the combined session state for any input event type, so it needs
no pyobjc and no Accessibility permission. Only the idle time is read; nothing about keys.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

from companion.core.clock import Clock
from companion.system.select import IdleTimeInput, SourceFailed

COMBINED_SESSION_STATE = 0  # kCGEventSourceStateCombinedSessionState
ANY_INPUT_EVENT = 0xFFFFFFFF  # kCGAnyInputEventType
CORE_GRAPHICS = "/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics"


def load_idle_function() -> Callable[[int, int], float]:
    """``CGEventSourceSecondsSinceLastEventType`` from CoreGraphics; ``SourceFailed`` if absent."""
    if sys.platform != "darwin":
        raise SourceFailed("CoreGraphics exists only on macOS")
    try:
        lib = ctypes.CDLL(ctypes.util.find_library("CoreGraphics") or CORE_GRAPHICS)
    except OSError as exc:
        raise SourceFailed(f"cannot load CoreGraphics: {exc}") from exc
    func = lib.CGEventSourceSecondsSinceLastEventType
    func.argtypes = [ctypes.c_int32, ctypes.c_uint32]
    func.restype = ctypes.c_double
    return func


def open_source(clock: Clock) -> IdleTimeInput:
    """The macOS idle-time input source; ``SourceFailed`` elsewhere."""
    since = load_idle_function()

    def idle_ms() -> int:
        return int(since(COMBINED_SESSION_STATE, ANY_INPUT_EVENT) * 1000)

    return IdleTimeInput("macos-cgeventsource", idle_ms, clock)
