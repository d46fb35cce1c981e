"""The lesson library: a student's courses and lessons, and today's minutes and XP.

Everything is read for one student only: progress and runs of other students never appear.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from decimal import Decimal
from fractions import Fraction

from companion.core import rules
from companion.core.catalogue import Catalogue, lesson_state, required_for
from companion.core.clock import Clock
from companion.core.library_types import CourseRow, LessonRow, TodayStats
from companion.store import notices, runs
from companion.store.db import Database

DEFAULT_DAILY_GOAL_XP = Decimal(20)

__all__ = ["CourseRow", "LessonRow", "LibraryView", "TodayStats", "mastered_lessons"]



def mastered_lessons(db: Database, student_id: str) -> set[str]:
    """Ids of the lessons this student has mastered (on this computer)."""
    return runs.mastered_lessons(db, student_id)


class LibraryView:
    """Read-only view-model of the library screen."""

    def __init__(
        self,
        db: Database,
        catalogue: Catalogue,
        clock: Clock,
        daily_goal_xp: Decimal | int = DEFAULT_DAILY_GOAL_XP,
        tz: tzinfo | None = None,
    ) -> None:
        """``tz`` decides what "today" is; None means this computer's local time zone."""
        if Decimal(daily_goal_xp) <= 0:
            raise ValueError("the daily goal must be positive")
        self._db = db
        self._catalogue = catalogue
        self._clock = clock
        self.daily_goal_xp = Decimal(daily_goal_xp)
        self._tz = tz

    def lessons_for(self, student_id: str) -> list[CourseRow]:
        """The catalogue's courses with each lesson's state for this student."""
        progress = runs.progress_of(self._db, student_id)
        mastered = {lesson_id for lesson_id, p in progress.items() if p.mastered}
        out: list[CourseRow] = []
        for course in self._catalogue.courses:
            rows: list[LessonRow] = []
            for lesson in self._catalogue.lessons_in_course(course.id):
                state = lesson_state(self._catalogue, lesson.id, mastered)
                hint = None
                if state == "locked":
                    required = required_for(self._catalogue, lesson.id)
                    if required is not None:
                        hint = f"Master '{required.title}' to unlock"
                p = progress.get(lesson.id)
                rows.append(
                    LessonRow(
                        lesson=lesson,
                        state=state,
                        unlock_hint=hint,
                        best_accuracy=None if p is None else p.best_accuracy,
                        attempts=0 if p is None else p.attempts,
                    )
                )
            out.append(CourseRow(course, tuple(rows)))
        return out

    def today(self, student_id: str) -> TodayStats:
        """Focused minutes and XP of this student's runs closed today (local date)."""
        today = self._local_date(self._clock.utc_now())
        todays = [
            (run_id, xp)
            for run_id, xp, closed_at in runs.closed_runs_of(self._db, student_id)
            if closed_at and self._local_date(datetime.fromisoformat(closed_at)) == today
        ]
        active_ms = 0
        xp = Decimal(0)
        attempts = 0
        for run_id, run_xp in todays:
            xp += Decimal(run_xp or "0")
            lines = runs.journal(self._db, run_id)
            classification = rules.classify(lines)
            active_ms += classification.total("active")
            score = rules.score(lines, classification)
            attempts += rules.counts_as_attempt(score.questions, score.completed)
        minutes = float(Fraction(active_ms, 60_000))
        return TodayStats(round(minutes, 1), xp, self.daily_goal_xp, attempts)

    def take_notices(self, student_id: str) -> list[str]:
        """What happened to this student's lessons that a crash interrupted, in words for
        the student; each is given once (taken from the store)."""
        return [self._recovered_text(n) for n in notices.take_recovered(self._db, student_id)]

    def _recovered_text(self, notice: notices.RecoveredRun) -> str:
        try:
            title = self._catalogue.get(notice.lesson_id).title
        except KeyError:
            title = notice.lesson_id
        ended = datetime.fromisoformat(notice.ended_at).astimezone(self._tz)
        tenths = notice.active_ms // 6_000
        minutes = f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths / 10:.1f}"
        unit = "minute" if minutes == "1" else "minutes"
        attempt = ("It counts as an attempt." if notice.attempt_counted
                   else "It did not count as an attempt.")
        kept = (f"Its {minutes} focused {unit} were kept and reported"
                if tenths else "Its time was kept and reported")
        return (
            f"Your lesson '{title}' stopped at {ended:%H:%M} on {ended:%A} because the app "
            f"closed unexpectedly. {kept}; it ended without XP. {attempt} You can start it "
            "again."
        )

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self._tz).date()
