"""What the lesson library and a guide's care of a student's data show the windows. Plain
values, shared by the use cases and the windows (which never import ``session`` or
``store``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from companion.core.catalogue import Course, Lesson, LessonState


@dataclass(frozen=True, slots=True)
class LessonRow:
    """One lesson as the library shows it to one student."""

    lesson: Lesson
    state: LessonState
    unlock_hint: str | None  # "Master 'Adding to 20' to unlock" for a locked lesson
    best_accuracy: float | None
    attempts: int


@dataclass(frozen=True, slots=True)
class CourseRow:
    """A course and its lessons in order."""

    course: Course
    lessons: tuple[LessonRow, ...]


@dataclass(frozen=True, slots=True)
class TodayStats:
    """Today's focused minutes and XP (runs closed today, local date) against the goal;
    ``runs`` counts only the runs that were attempts (``rules.counts_as_attempt``)."""

    focused_minutes: float
    xp: Decimal
    goal_xp: Decimal
    runs: int = 0

    @property
    def goal_reached(self) -> bool:
        """Whether today's XP reached the daily goal."""
        return self.xp >= self.goal_xp


@dataclass(frozen=True, slots=True)
class Waiting:
    """Something of the student's not delivered yet: an outbox row or unbuilt events."""

    run_id: str
    lesson_id: str
    lesson_title: str
    what: str  # "caliper", "gradebook.result" or "events not built"
    state: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class Kept:
    """How much of the student this computer keeps."""

    runs: int
    journal_lines: int
    delivered: int
    waiting: tuple[Waiting, ...]
    has_pin: bool


@dataclass(frozen=True, slots=True)
class Erased:
    """What an erase did: runs removed, or (nothing removed) what still waits."""

    removed: int
    still_waiting: tuple[Waiting, ...]
