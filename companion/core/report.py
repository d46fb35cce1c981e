"""The guide's report as data: students, lessons, attempts, days, delivery state.

Pure values (built by ``companion.session.report`` from stored run summaries), so that
windows, exports and printing read the same thing without touching the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from companion.core.elsewhere import Fetch
from companion.core.periods import Period
from companion.core.words import TIME_KINDS, TimeKind

DELIVERED: Final = "delivered"
WAITING: Final = "waiting"
REFUSED: Final = "refused"
NOTHING: Final = "nothing to deliver"


def no_minutes() -> dict[TimeKind, float]:
    """Zero minutes of every kind."""
    return dict.fromkeys(TIME_KINDS, 0.0)


@dataclass(frozen=True, slots=True)
class Answer:
    """The first answer to one question of a run: right or wrong."""

    item: str
    correct: bool


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt at a lesson, as the guide sees it."""

    run_id: str
    student_id: str
    lesson_id: str
    attempt: int
    started: datetime  # in the report's time zone
    day: date
    minutes: dict[TimeKind, float]
    xp: Decimal
    questions: int
    correct: int
    completed: bool
    mastered: bool
    explanation_json: str  # the stored JSON list of lines (read when shown)
    answers: tuple[Answer, ...]
    journal_removed_at: str | None
    elsewhere: bool = False  # recorded on another computer (``core.elsewhere``)
    source: str | None = None  # that computer, when its result names it
    score: float | None = None  # accuracy (0..1) a result gave without question counts

    @property
    def explanation(self) -> tuple[str, ...]:
        """The lines that explain the attempt's XP and mastery."""
        value = json.loads(self.explanation_json or "[]")
        return tuple(str(v) for v in value) if isinstance(value, list) else ()

    @property
    def accuracy(self) -> float | None:
        """Right answers over questions answered."""
        return self.correct / self.questions if self.questions else self.score


@dataclass(frozen=True, slots=True)
class LessonLine:
    """One lesson a student studied in the period, with its attempts (oldest first)."""

    lesson_id: str
    title: str
    course_title: str
    attempts: tuple[Attempt, ...]

    @property
    def mastered(self) -> bool:
        """Whether an attempt in the period mastered it."""
        return any(a.mastered for a in self.attempts)

    @property
    def best_accuracy(self) -> float | None:
        """The best attempt's accuracy."""
        values = [a.accuracy for a in self.attempts if a.accuracy is not None]
        return max(values) if values else None

    @property
    def xp(self) -> Decimal:
        """XP of all its attempts."""
        return sum((a.xp for a in self.attempts), Decimal(0))

    @property
    def attempts_elsewhere(self) -> int:
        """Attempts recorded on the student's other computers."""
        return sum(1 for a in self.attempts if a.elsewhere)


@dataclass(frozen=True, slots=True)
class Day:
    """One day of one student (or of the class): minutes per kind, XP, attempts."""

    day: date
    minutes: dict[TimeKind, float]
    xp: Decimal  # with the XP of other computers' results of the day
    attempts: int  # with other computers' attempts
    lessons: int
    xp_elsewhere: Decimal = Decimal(0)  # the part of ``xp`` from other computers
    attempts_elsewhere: int = 0


@dataclass(frozen=True, slots=True)
class Delivery:
    """Where a student's results stand: delivered, waiting (why, what to do) or refused."""

    state: str
    detail: str = ""
    todo: str = ""
    waiting: int = 0
    refused: int = 0
    delivered: int = 0

    def text(self) -> str:
        """One line for the table and exports."""
        if self.state == REFUSED:
            return f"refused ({self.refused})" + (f": {self.detail}" if self.detail else "")
        if self.state == WAITING:
            return f"waiting ({self.waiting})" + (f": {self.detail}" if self.detail else "")
        return self.state


@dataclass(frozen=True, slots=True)
class NextLesson:
    """Where a student is in one course: the next open lesson (None: all mastered)."""

    course_title: str
    lesson_title: str | None


@dataclass(frozen=True, slots=True)
class StudentLine:
    """One student over the period."""

    student_id: str
    name: str
    can_sign_in: bool
    disabled_why: str | None
    where_to_change: str | None
    minutes: dict[TimeKind, float]
    xp: Decimal  # with other computers' results (``xp_elsewhere``)
    attempts: int  # with other computers' attempts (``attempts_elsewhere``)
    best_accuracy: float | None
    last_accuracy: float | None
    lessons: tuple[LessonLine, ...]
    days: tuple[Day, ...]  # every day of the period, in order
    next_lessons: tuple[NextLesson, ...]
    delivery: Delivery
    goal_minutes: float
    xp_elsewhere: Decimal = Decimal(0)  # the part of ``xp`` from other computers
    attempts_elsewhere: int = 0  # the part of ``attempts`` from other computers

    @property
    def lessons_elsewhere(self) -> int:
        """Lessons with an attempt on another computer in the period."""
        return sum(1 for lesson in self.lessons if lesson.attempts_elsewhere)

    @property
    def lessons_studied(self) -> int:
        """Lessons with at least one attempt in the period."""
        return len(self.lessons)

    @property
    def lessons_mastered(self) -> int:
        """Lessons mastered by an attempt in the period."""
        return sum(1 for lesson in self.lessons if lesson.mastered)

    @property
    def days_studied(self) -> int:
        """Days with any focused time."""
        return sum(1 for d in self.days if d.minutes["focused"] > 0)

    @property
    def days_goal_met(self) -> int:
        """Days whose focused minutes reached the daily goal."""
        return sum(1 for d in self.days if d.minutes["focused"] >= self.goal_minutes)


@dataclass(frozen=True, slots=True)
class MissedQuestion:
    """A question of a lesson and how many students got it wrong at their first answer."""

    lesson_id: str
    lesson_title: str
    item: str
    missed_by: int  # students whose first answer in the period was wrong (any attempt)
    answered_by: int


@dataclass(frozen=True, slots=True)
class Report:
    """The report for one period and (optionally) one class."""

    period: Period
    class_id: str | None
    students: tuple[StudentLine, ...]
    missed: tuple[MissedQuestion, ...]
    days: tuple[Day, ...]  # the class per day
    goal_minutes: float
    time_zone: str = ""
    notes: tuple[str, ...] = field(default=())
    others: Fetch | None = None  # whether other computers' results were fetched just now

    @property
    def has_elsewhere(self) -> bool:
        """Whether any student's figures include other computers' results."""
        return any(s.attempts_elsewhere or s.xp_elsewhere for s in self.students)

    def student(self, student_id: str) -> StudentLine | None:
        """One student's line."""
        return next((s for s in self.students if s.student_id == student_id), None)


