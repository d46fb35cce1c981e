"""What the service asks of the rest of the app: one small interface, and its implementation
on today's store and session code.

``Authority`` is everything the protocol's operations need: the roster lists, PIN checks
(with their lockouts), runs and their journals, answer keys, the guide's report and
delivery. ``StoreAuthority`` implements it with ``SignInService``, ``companion.store``
(``runs``, ``open_runs``), ``build_report`` and the ``SyncWorker``; when the run use case
moves into one place, a new implementation of this interface is all that changes.
Everything here runs in the service's process, never in the student's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from typing import Any, Literal, Protocol

from companion.core import rules
from companion.core.answer_key import AnswerKey
from companion.core.catalogue import Catalogue, lesson_state
from companion.core.clock import Clock
from companion.core.journal import Line
from companion.core.periods import Period
from companion.core.session_types import not_counted
from companion.session import closing
from companion.session import report as report_mod
from companion.session.library import LibraryView, mastered_lessons
from companion.session.signin import SignInResult, SignInService
from companion.store import open_runs as store_open_runs
from companion.store import outbox, runs
from companion.store.db import Database
from companion.store.journal_appends import GroupedAppends
from companion.store.open_runs import OpenRun
from companion.store.runs import EventContext

log = logging.getLogger(__name__)

PinStatus = Literal["ok", "wrong_pin", "locked_out", "needs_pin", "disabled", "unknown"]


class RunRefused(Exception):
    """A run operation the service refuses; ``code`` is the protocol's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class PinCheck:
    """The outcome of a PIN check, as the protocol reports it."""

    status: PinStatus
    user_id: str | None = None
    name: str | None = None
    role: str | None = None
    remaining_attempts: int = 0
    retry_after_s: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True, slots=True)
class Closed:
    """What closing a run computed."""

    run_id: str
    end_ms: int
    completed: bool
    abandoned: bool
    xp: str
    mastered: bool
    active_ms: int
    questions: int
    # what the student's summary shows (the service's numbers, not the app's)
    correct: int = 0
    accuracy: float | None = None
    gate_passed: bool = False
    multiplier: float = 0.0
    capped: bool = False
    explain: tuple[str, ...] = ()
    not_counted_ms: tuple[tuple[str, int], ...] = ()


class Authority(Protocol):
    """The service's one way into data, rules and delivery."""

    def classes(self) -> list[dict[str, Any]]:
        """Classes to pick: ``{"id", "title", "students"}``."""
        ...

    def students(self, class_id: str) -> list[dict[str, Any]]:
        """A class's name grid: ``{"id", "name", "canSignIn", "hasPin"}``."""
        ...

    def guides(self) -> list[dict[str, Any]]:
        """Guides who may sign in: ``{"id", "name", "hasPin"}``."""
        ...

    def sign_in(self, user_id: str, pin: str) -> PinCheck:
        """A student's PIN check (lockouts counted and kept by the service)."""
        ...

    def check_guide(self, guide_id: str, pin: str) -> PinCheck:
        """A guide's PIN check."""
        ...

    def set_pin(self, student_id: str, new_pin: str, guide_id: str, guide_pin: str) -> PinCheck:
        """Set a student's PIN with a guide's PIN."""
        ...

    def clear_lockout(self, student_id: str, guide_id: str, guide_pin: str) -> PinCheck:
        """Clear a student's PIN lockout with a guide's PIN."""
        ...

    def open_runs(self) -> list[OpenRun]:
        """Every run open on this computer."""
        ...

    def open_run(self, student_id: str, lesson_id: str) -> OpenRun:
        """Open a run; RunRefused ("run_open", "unknown_lesson", "lesson_locked")."""
        ...

    def start_line(self, run_id: str) -> Line:
        """The run's `start` line (seq 0: the lesson's settings and the attempt)."""
        ...

    def record(self, run_id: str, first_seq: int, lines: Sequence[Line]) -> int:
        """Store lines at their seqs (repeats skipped); the journal's last seq."""
        ...

    def answer_key(self, lesson_id: str) -> AnswerKey | None:
        """The lesson's answer key, if the service holds one."""
        ...

    def close_run(self, run_id: str, completed: bool, at_ms: int) -> Closed:
        """Close a run at run time ``at_ms``."""
        ...

    def check_abandoned(self, run_id: str, now_ms: int) -> bool:
        """Close the run if the rules find it abandoned by ``now_ms``."""
        ...

    def report_time(self, run_id: str, now_ms: int) -> int:
        """Write TimeSpentEvents for newly settled time; how many."""
        ...

    def library(self, student_id: str) -> dict[str, Any]:
        """The student's lessons with their states, and today's minutes and XP."""
        ...

    def take_notices(self, student_id: str) -> list[str]:
        """What happened to the student's crashed lessons, in words (each told once)."""
        ...

    def report(self, first: date, last: date, class_id: str | None) -> dict[str, Any]:
        """The guide's report of the days ``first``..``last``."""
        ...

    def sync_now(self) -> str:
        """Ask delivery to send now; what happened, in words."""
        ...

    def status(self) -> dict[str, Any]:
        """Outbox counts, credentials present, open runs (nothing secret)."""
        ...


def _pin_check(result: SignInResult) -> PinCheck:
    user = result.user
    return PinCheck(
        status=result.status,
        user_id=None if user is None else user.user_id,
        name=None if user is None else user.name,
        role=None if user is None else user.role,
        remaining_attempts=result.remaining_attempts,
        retry_after_s=result.retry_after_s,
        message=result.message,
    )


class StoreAuthority:
    """``Authority`` on the store, ``SignInService``, the report and the sync worker."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ctx: EventContext,
        catalogue: Catalogue,
        *,
        keys: dict[str, AnswerKey] | None = None,
        sync_now: Callable[[], str] | None = None,
        run_closed: Callable[[], None] | None = None,
        credentials_present: Callable[[], bool] = lambda: False,
        time_zone: tzinfo | None = None,
    ) -> None:
        """``keys`` are the answer keys by lesson id; ``sync_now`` asks delivery to send
        (None: this service has no delivery configured); ``run_closed`` tells delivery that
        a closed run's events wait in the outbox."""
        self._db = db
        self._clock = clock
        self._ctx = ctx
        self._catalogue = catalogue
        self._keys = dict(keys or {})
        self._sync_now = sync_now
        self._run_closed = run_closed
        self._credentials_present = credentials_present
        self._tz = time_zone
        self._signin = SignInService(db, clock)
        self._appends = GroupedAppends(db)  # lines of many lessons share a commit
        runs.save_lessons(db, catalogue)

    # ------------------------------------------------------------ roster and PINs

    def classes(self) -> list[dict[str, Any]]:
        return [
            {"id": c.id, "title": c.title, "students": c.student_count}
            for c in self._signin.classes()
        ]

    def students(self, class_id: str) -> list[dict[str, Any]]:
        return [
            {"id": s.id, "name": s.display_name, "canSignIn": s.can_sign_in, "hasPin": s.has_pin}
            for s in self._signin.students(class_id)
        ]

    def guides(self) -> list[dict[str, Any]]:
        return [
            {"id": g.id, "name": g.display_name, "hasPin": g.has_pin} for g in self._signin.guides()
        ]

    def sign_in(self, user_id: str, pin: str) -> PinCheck:
        return _pin_check(self._signin.sign_in(user_id, pin))

    def check_guide(self, guide_id: str, pin: str) -> PinCheck:
        return _pin_check(self._signin.sign_in_guide(guide_id, pin))

    def set_pin(self, student_id: str, new_pin: str, guide_id: str, guide_pin: str) -> PinCheck:
        return _pin_check(self._signin.set_pin(student_id, new_pin, guide_id, guide_pin))

    def clear_lockout(self, student_id: str, guide_id: str, guide_pin: str) -> PinCheck:
        return _pin_check(self._signin.clear_lockout(student_id, guide_id, guide_pin))

    # ------------------------------------------------------------ runs

    def open_runs(self) -> list[OpenRun]:
        return store_open_runs.open_runs(self._db)

    def open_run(self, student_id: str, lesson_id: str) -> OpenRun:
        try:
            self._catalogue.get(lesson_id)
        except KeyError:
            raise RunRefused("unknown_lesson", f"no lesson {lesson_id!r} here") from None
        mastered = mastered_lessons(self._db, student_id)
        if lesson_state(self._catalogue, lesson_id, mastered) == "locked":
            raise RunRefused("lesson_locked", "this lesson opens after the one before it")
        try:
            return store_open_runs.open_student_run(
                self._db, student_id, lesson_id, anchor=self._clock.utc_now()
            )
        except store_open_runs.StudentRunOpen as exc:
            raise RunRefused(
                "run_open",
                "this student already has a lesson open on this computer; close it first",
            ) from exc
        except runs.UnknownLesson as exc:
            raise RunRefused("unknown_lesson", str(exc)) from exc

    def start_line(self, run_id: str) -> Line:
        return runs.journal(self._db, run_id)[0]

    def record(self, run_id: str, first_seq: int, lines: Sequence[Line]) -> int:
        return self._appends.append(run_id, first_seq, lines)

    def answer_key(self, lesson_id: str) -> AnswerKey | None:
        return self._keys.get(lesson_id)

    def close_run(self, run_id: str, completed: bool, at_ms: int) -> Closed:
        result = closing.close_run(
            self._db, run_id, completed=completed, at_ms=at_ms, ctx=self._ctx
        )
        if self._run_closed is not None:
            self._run_closed()
        classification, score = result.classification, result.score
        assert classification is not None and score is not None  # a close computes both
        return Closed(
            result.run_id,
            result.end_ms,
            result.completed,
            result.abandoned,
            str(result.xp),
            result.mastered,
            result.active_ms,
            result.questions,
            correct=score.correct,
            accuracy=None if score.accuracy is None else float(score.accuracy),
            gate_passed=score.gate_passed,
            multiplier=float(score.multiplier),
            capped=score.capped,
            explain=tuple(rules.explain(score)),
            not_counted_ms=not_counted(classification),
        )

    def check_abandoned(self, run_id: str, now_ms: int) -> bool:
        return closing.check_abandoned(self._db, run_id, now_ms, self._ctx)

    def report_time(self, run_id: str, now_ms: int) -> int:
        return closing.report_time_spent(self._db, run_id, now_ms, self._ctx)

    # ------------------------------------------------------------ the library

    def library(self, student_id: str) -> dict[str, Any]:
        view = LibraryView(self._db, self._catalogue, self._clock, tz=self._tz)
        today = view.today(student_id)
        return {
            "courses": [
                {
                    "id": row.course.id,
                    "lessons": [
                        {
                            "id": lesson.lesson.id,
                            "state": lesson.state,
                            "unlockHint": lesson.unlock_hint,
                            "bestAccuracy": lesson.best_accuracy,
                            "attempts": lesson.attempts,
                        }
                        for lesson in row.lessons
                    ],
                }
                for row in view.lessons_for(student_id)
            ],
            "today": {
                "focusedMinutes": today.focused_minutes,
                "xp": str(today.xp),
                "goalXp": str(today.goal_xp),
                "runs": today.runs,
            },
        }

    def take_notices(self, student_id: str) -> list[str]:
        view = LibraryView(self._db, self._catalogue, self._clock, tz=self._tz)
        return view.take_notices(student_id)

    # ------------------------------------------------------------ the guide's

    def report(self, first: date, last: date, class_id: str | None) -> dict[str, Any]:
        built = report_mod.build_report(
            self._db, Period(first, last), tz=self._tz, class_id=class_id, catalogue=self._catalogue
        )
        return {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "classId": class_id,
            "students": [
                {
                    "id": s.student_id,
                    "name": s.name,
                    "focusedMinutes": s.minutes.get("focused", 0.0),
                    "xp": str(s.xp),
                    "lessonsStudied": s.lessons_studied,
                    "lessonsMastered": s.lessons_mastered,
                    "attempts": s.attempts,
                }
                for s in built.students
            ],
        }

    def sync_now(self) -> str:
        if self._sync_now is None:
            return "delivery is not configured on this service"
        return self._sync_now()

    def status(self) -> dict[str, Any]:
        return {
            "environment": self._db.env,
            "openRuns": len(self.open_runs()),
            "outbox": dict(outbox.counts(self._db)),
            "credentialsPresent": self._credentials_present(),
            "deliveryConfigured": self._sync_now is not None,
        }
