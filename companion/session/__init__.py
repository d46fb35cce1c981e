"""Session services under the UI (no Qt): sign-in, the lesson library and the session.

The UI builds its windows on these classes; they take the database, an injected clock and
the sensing sources, so everything here runs in tests without a display.
"""

from __future__ import annotations

from companion.core.session_types import (
    LessonLocked,
    LiveStats,
    RunHandle,
    SessionSummary,
    TickResult,
)
from companion.session.library import CourseRow, LessonRow, LibraryView, TodayStats
from companion.session.run import SessionController
from companion.session.signin import (
    ClassInfo,
    GuideInfo,
    SignedIn,
    SignInResult,
    SignInService,
    StudentInfo,
    seed_demo_pins,
)

__all__ = [
    "ClassInfo",
    "CourseRow",
    "GuideInfo",
    "LessonLocked",
    "LessonRow",
    "LibraryView",
    "LiveStats",
    "RunHandle",
    "SessionController",
    "SessionSummary",
    "SignInResult",
    "SignInService",
    "SignedIn",
    "StudentInfo",
    "TickResult",
    "TodayStats",
    "seed_demo_pins",
]
