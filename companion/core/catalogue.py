"""Courses, their ordered lessons, and the unlock rule (learning-rules.md section 4).

The first lesson of a course is open; a later lesson opens only once the lesson before it
is mastered; a mastered lesson stays open. Time spent and completion unlock nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from companion.core.journal import LessonSettings

Subject = Literal["Science", "Math", "Reading", "Language", "Social Studies", "None"]
SUBJECTS: tuple[str, ...] = ("Science", "Math", "Reading", "Language", "Social Studies", "None")
LessonState = Literal["locked", "open", "mastered"]


def _check_subject(subject: str | None, what: str) -> None:
    if subject is not None and subject not in SUBJECTS:
        raise ValueError(f"{what}: subject must be one of {SUBJECTS}, not {subject!r}")


@dataclass(frozen=True, slots=True)
class Course:
    """A course: an ordered sequence of lessons in one subject and grade."""

    id: str
    title: str
    subject: Subject | None
    grade: str

    def __post_init__(self) -> None:
        _check_subject(self.subject, f"course {self.id!r}")


@dataclass(frozen=True, slots=True)
class Lesson:
    """One lesson of a course; ``order`` places it in the course (smallest first)."""

    id: str
    title: str
    course_id: str
    subject: Subject | None
    grade: str
    order: int
    settings: LessonSettings = field(default_factory=LessonSettings)

    def __post_init__(self) -> None:
        _check_subject(self.subject, f"lesson {self.id!r}")


@dataclass(frozen=True)
class Catalogue:
    """All courses and lessons known to the app, checked for consistency on creation.

    Raises ValueError for duplicate course or lesson ids, a lesson in an unknown course,
    or two lessons with the same order in one course.
    """

    courses: tuple[Course, ...]
    lessons: tuple[Lesson, ...]
    _by_id: dict[str, Lesson] = field(init=False, repr=False, compare=False)
    _by_course: dict[str, tuple[Lesson, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        course_ids: set[str] = set()
        for course in self.courses:
            if course.id in course_ids:
                raise ValueError(f"duplicate course id {course.id!r}")
            course_ids.add(course.id)
        by_id: dict[str, Lesson] = {}
        orders: dict[tuple[str, int], str] = {}
        grouped: dict[str, list[Lesson]] = {cid: [] for cid in course_ids}
        for lesson in self.lessons:
            if lesson.id in by_id:
                raise ValueError(f"duplicate lesson id {lesson.id!r}")
            if lesson.course_id not in course_ids:
                raise ValueError(
                    f"lesson {lesson.id!r} belongs to unknown course {lesson.course_id!r}"
                )
            key = (lesson.course_id, lesson.order)
            if key in orders:
                raise ValueError(
                    f"lessons {orders[key]!r} and {lesson.id!r} both have order "
                    f"{lesson.order} in course {lesson.course_id!r}"
                )
            orders[key] = lesson.id
            by_id[lesson.id] = lesson
            grouped[lesson.course_id].append(lesson)
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(
            self,
            "_by_course",
            {cid: tuple(sorted(ls, key=lambda x: x.order)) for cid, ls in grouped.items()},
        )

    def get(self, lesson_id: str) -> Lesson:
        """The lesson with this id; KeyError when there is none."""
        try:
            return self._by_id[lesson_id]
        except KeyError:
            raise KeyError(f"unknown lesson {lesson_id!r}") from None

    def course(self, course_id: str) -> Course:
        """The course with this id; KeyError when there is none."""
        for c in self.courses:
            if c.id == course_id:
                return c
        raise KeyError(f"unknown course {course_id!r}")

    def lessons_in_course(self, course_id: str) -> tuple[Lesson, ...]:
        """The course's lessons, sorted by order; KeyError for an unknown course."""
        try:
            return self._by_course[course_id]
        except KeyError:
            raise KeyError(f"unknown course {course_id!r}") from None


def _neighbour(catalogue: Catalogue, lesson_id: str, step: int) -> Lesson | None:
    lesson = catalogue.get(lesson_id)
    course = catalogue.lessons_in_course(lesson.course_id)
    i = course.index(lesson) + step
    return course[i] if 0 <= i < len(course) else None


def unlocks_after(catalogue: Catalogue, lesson_id: str) -> Lesson | None:
    """The lesson that mastering ``lesson_id`` opens (the next in its course), if any."""
    return _neighbour(catalogue, lesson_id, 1)


def required_for(catalogue: Catalogue, lesson_id: str) -> Lesson | None:
    """The lesson that must be mastered before ``lesson_id`` opens, or None if none."""
    return _neighbour(catalogue, lesson_id, -1)


def lesson_state(catalogue: Catalogue, lesson_id: str, mastered: set[str]) -> LessonState:
    """Whether the lesson is locked, open, or mastered (and therefore open)."""
    if lesson_id in mastered:
        catalogue.get(lesson_id)
        return "mastered"
    before = required_for(catalogue, lesson_id)
    if before is None or before.id in mastered:
        return "open"
    return "locked"
