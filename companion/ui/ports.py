"""The narrow interfaces the windows are given by the composition root (``companion.app``).

Each is a ``typing.Protocol``: the use cases under ``session``, ``sync`` and ``launch``
satisfy them as they are, and a window never imports those packages (nor the store, the
Timeback clients or the root). The values crossing them are plain ``core`` types.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from companion.content.importer import Imported
from companion.content.scorm_runtime import Place
from companion.core.launch_types import OpenLesson, StartLaunch
from companion.core.library_types import CourseRow, Erased, Kept, TodayStats
from companion.core.periods import Period
from companion.core.report import Report
from companion.core.session_types import LiveStats, RunHandle, SessionSummary, TickResult
from companion.core.signin_types import (
    ClassInfo,
    GuideInfo,
    PulledRoster,
    School,
    SignInResult,
    StudentInfo,
)
from companion.core.sync_types import SyncStatus


class SignIn(Protocol):
    """Sign-in on the cached roster, and the PIN actions of guides (``SignInService``).

    ``students``, ``guides`` and every PIN check are slow enough (a database read, an
    scrypt hash) that the sign-in screen calls them off the UI thread.
    """

    def classes(self) -> list[ClassInfo]:
        """The classes this computer serves, by title."""
        ...

    def students(self, class_id: str) -> list[StudentInfo]:
        """The class's students for the name grid."""
        ...

    def guides(self) -> list[GuideInfo]:
        """The roster's guides who may sign in."""
        ...

    def sign_in(self, user_id: str, pin: str) -> SignInResult:
        """Check a student's PIN."""
        ...

    def sign_in_guide(self, guide_id: str, pin: str) -> SignInResult:
        """Check a guide's PIN."""
        ...

    def set_pin(self, student_id: str, new_pin: str, guide_id: str, guide_pin: str) -> SignInResult:
        """Set a student's PIN with a guide's PIN (signs the student in)."""
        ...

    def clear_lockout(self, student_id: str, guide_id: str, guide_pin: str) -> SignInResult:
        """Let a locked-out student try again, with a guide's PIN."""
        ...

    def verified_sign_in(self, user_id: str) -> SignInResult:
        """A sign-in Timeback verified (a launch, Sign in with Timeback): no PIN."""
        ...

    def set_own_pin(self, user_id: str, new_pin: str) -> SignInResult:
        """The student's own PIN, right after a verified sign-in."""
        ...


class LessonLibrary(Protocol):
    """The library screen's view of one student (``LibraryView``)."""

    def lessons_for(self, student_id: str) -> list[CourseRow]:
        """The courses with each lesson's state for the student."""
        ...

    def today(self, student_id: str) -> TodayStats:
        """Today's focused minutes and XP against the goal."""
        ...

    def take_notices(self, student_id: str) -> list[str]:
        """What happened to the student's crashed lessons (each told once)."""
        ...


class LessonRun(Protocol):
    """The run use case as the session window drives it (``SessionController``)."""

    @property
    def run(self) -> RunHandle | None:
        """The open run, or None."""
        ...

    def start(self, student_id: str, lesson_id: str) -> RunHandle:
        """Open a run (``LessonLocked``, ``RunAlreadyOpen`` from ``core.session_types``)."""
        ...

    def tick(self) -> TickResult:
        """One sampling tick (the window's 1 s timer)."""
        ...

    def live(self) -> LiveStats:
        """Figures for the status line."""
        ...

    def monotonic_ms(self) -> int:
        """The run's clock, for the page bridge."""
        ...

    def answer(self, item: str, correct: bool, scored_by: str = ...) -> None:
        """Record an answer."""
        ...

    def media(self, playing: bool) -> None:
        """Record whether media plays."""
        ...

    def score(self, scaled: Decimal) -> None:
        """Record a package's own score."""
        ...

    def content_resume(self) -> Place | None:
        """Where a package left off last time."""
        ...

    def keep_content_state(self, place: Place | None, session_time: str | None) -> None:
        """Keep a package's place for the next run."""
        ...

    def complete(self) -> SessionSummary:
        """Close the run as completed."""
        ...

    def quit(self) -> SessionSummary:
        """Close the run as not completed."""
        ...


class StudentCare(Protocol):
    """A guide's care of one student's data on this computer."""

    def kept(self, student_id: str) -> Kept:
        """What this computer keeps of the student."""
        ...

    def export(self, student_id: str) -> dict[str, Any]:
        """The student's data as JSON-ready values."""
        ...

    def erase(self, student_id: str, *, discard_waiting: bool) -> Erased:
        """Erase the student's data (unless something waits and may not be discarded)."""
        ...


class Launches(Protocol):
    """The running launch side (the loopback listener)."""

    def begin_sign_in(self) -> None:
        """Start Sign in with Timeback in the browser (blocking: call off the UI thread)."""
        ...

    def login_url(self, start: StartLaunch) -> str:
        """The URL that starts ``start`` in the browser."""
        ...

    def stop(self) -> None:
        """Stop listening (on quit)."""
        ...


class SetupSteps(Protocol):
    """The set-up dialog's steps (each blocking: the dialog runs them off the UI thread)."""

    env_name: str

    def check_credentials(self, client_id: str, secret: str) -> list[School]:
        """Verify and store the credentials; the schools they see."""
        ...

    def pull_roster(self, school_id: str) -> PulledRoster:
        """Pull the school's roster; its classes and guides."""
        ...

    def finish(self, school_id: str, class_ids: list[str], guide_pins: dict[str, str]) -> None:
        """Set the guide PINs and record the school and classes."""
        ...


class StatusFeed(Protocol):
    """The sync worker's status board."""

    @property
    def current(self) -> SyncStatus:
        """The latest snapshot."""
        ...

    def subscribe(self, listener: Callable[[SyncStatus], None]) -> Callable[[], None]:
        """Hear of every new status (on the worker's thread); returns the unsubscribe."""
        ...


ParseLink = Callable[[str], StartLaunch | OpenLesson]
"""What a ``timeback-companion://`` link asks for; ``core.launch_types.UrlRefused``."""

BuildReport = Callable[[Period, str | None], Report]
"""The guide's report: ``build(period, class_id)`` (slow: run off the UI thread)."""

AddLessons = Callable[[Path, Callable[[int, int], None]], Imported]
"""Import a package or folder into this computer's library, with progress(done, total)."""
