"""Courses, lesson order and the unlock rule (learning-rules.md section 4)."""

from __future__ import annotations

import pytest

from companion.core.catalogue import (
    Catalogue,
    Course,
    Lesson,
    lesson_state,
    required_for,
    unlocks_after,
)
from companion.core.journal import LessonSettings


def _lesson(lid: str, order: int, course: str = "math3") -> Lesson:
    return Lesson(id=lid, title=lid.upper(), course_id=course, subject="Math", grade="3",
                  order=order)


@pytest.fixture
def cat() -> Catalogue:
    courses = (Course("math3", "Math 3", "Math", "3"), Course("read3", "Reading 3", "Reading",
                                                              "3"))
    # given out of order on purpose
    lessons = (_lesson("m3", 30), _lesson("m1", 10), _lesson("m2", 20),
               _lesson("r1", 1, "read3"))
    return Catalogue(courses, lessons)


def test_lessons_in_course_sorted_by_order(cat: Catalogue) -> None:
    assert [x.id for x in cat.lessons_in_course("math3")] == ["m1", "m2", "m3"]
    assert [x.id for x in cat.lessons_in_course("read3")] == ["r1"]
    assert cat.get("m2").order == 20
    assert cat.course("read3").subject == "Reading"


def test_unknown_ids_raise_key_error(cat: Catalogue) -> None:
    with pytest.raises(KeyError, match="nope"):
        cat.get("nope")
    with pytest.raises(KeyError, match="nope"):
        cat.lessons_in_course("nope")
    with pytest.raises(KeyError):
        lesson_state(cat, "nope", {"nope"})


def test_neighbours(cat: Catalogue) -> None:
    assert unlocks_after(cat, "m1") == cat.get("m2")
    assert unlocks_after(cat, "m3") is None
    assert required_for(cat, "m3") == cat.get("m2")
    assert required_for(cat, "m1") is None
    assert required_for(cat, "r1") is None and unlocks_after(cat, "r1") is None


def test_first_lesson_open_others_locked(cat: Catalogue) -> None:
    assert [lesson_state(cat, x, set()) for x in ("m1", "m2", "m3", "r1")] == [
        "open", "locked", "locked", "open"]


def test_mastery_opens_only_the_next_lesson(cat: Catalogue) -> None:
    assert [lesson_state(cat, x, {"m1"}) for x in ("m1", "m2", "m3")] == [
        "mastered", "open", "locked"]


def test_a_mastered_lesson_stays_open_even_if_its_predecessor_is_not(cat: Catalogue) -> None:
    # e.g. progress carried over from another computer
    assert lesson_state(cat, "m3", {"m3"}) == "mastered"
    assert lesson_state(cat, "m2", {"m3"}) == "locked"


def test_mastery_in_another_course_unlocks_nothing(cat: Catalogue) -> None:
    assert lesson_state(cat, "m2", {"r1"}) == "locked"


def test_lesson_keeps_its_settings() -> None:
    s = LessonSettings(idle_timeout_ms=60_000, min_questions=5)
    lesson = Lesson("x", "X", "c", None, "K", 1, s)
    cat = Catalogue((Course("c", "C", None, "K"),), (lesson,))
    assert cat.get("x").settings.idle_timeout_ms == 60_000
    assert Lesson("y", "Y", "c", "Science", "K", 2).settings == LessonSettings()


@pytest.mark.parametrize(
    ("courses", "lessons", "message"),
    [
        ((Course("c", "C", "Math", "3"), Course("c", "D", "Math", "3")), (), "duplicate course"),
        ((Course("c", "C", "Math", "3"),), (_lesson("a", 1, "c"), _lesson("a", 2, "c")),
         "duplicate lesson id 'a'"),
        ((Course("c", "C", "Math", "3"),), (_lesson("a", 1, "c"), _lesson("b", 1, "c")),
         "'a' and 'b' both have order 1 in course 'c'"),
        ((Course("c", "C", "Math", "3"),), (_lesson("a", 1, "zz"),), "unknown course 'zz'"),
    ],
)
def test_inconsistent_catalogue_is_rejected(
    courses: tuple[Course, ...], lessons: tuple[Lesson, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Catalogue(courses, lessons)


def test_same_order_in_different_courses_is_fine() -> None:
    cat = Catalogue((Course("a", "A", "Math", "1"), Course("b", "B", "Math", "1")),
                    (_lesson("x", 1, "a"), _lesson("y", 1, "b")))
    assert lesson_state(cat, "y", set()) == "open"


def test_subject_must_be_a_timeback_subject() -> None:
    with pytest.raises(ValueError, match="subject"):
        Course("c", "C", "Maths", "3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="subject"):
        Lesson("x", "X", "c", "Art", "3", 1)  # type: ignore[arg-type]
