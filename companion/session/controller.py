"""The session controller, under the name the windows and tests know it by.

The run use case lives in ``companion.session.run``; this module keeps its old import
path (``companion.ui.shell`` imports ``SessionController`` from here).
"""

from __future__ import annotations

from companion.core.session_types import (
    LessonLocked,
    LiveStats,
    NoOpenRun,
    RunAlreadyOpen,
    RunHandle,
    SessionSummary,
    TickResult,
    not_counted,
)
from companion.session.run import MAX_ITEM_LENGTH, SessionController

__all__ = [
    "MAX_ITEM_LENGTH",
    "LessonLocked",
    "LiveStats",
    "NoOpenRun",
    "RunAlreadyOpen",
    "RunHandle",
    "SessionController",
    "SessionSummary",
    "TickResult",
    "not_counted",
]
