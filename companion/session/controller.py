"""The session controller, under the name the tests know it by.

The run use case lives in ``companion.session.run``; this module keeps its old import
path, which the tests use.
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
