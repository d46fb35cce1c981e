"""The lesson library: lesson states with unlock hints, and today's minutes and XP."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

import pytest

from companion.session.library import LibraryView, TodayStats
from tests.session.test_session_controller import ADA, BEN, CATALOGUE, L1, L2, L3, World
from tests.session.test_session_controller import world as world  # the fixture


def states(view: LibraryView, who: str) -> list[tuple[str, str, str | None, int]]:
    [course] = view.lessons_for(who)
    assert course.course == CATALOGUE.courses[0]
    return [(r.lesson.id, r.state, r.unlock_hint, r.attempts) for r in course.lessons]


def test_a_new_student_sees_the_first_lesson_open_and_hints_for_the_rest(world: World) -> None:
    view = LibraryView(world.db, CATALOGUE, world.clock)
    assert states(view, BEN) == [
        (L1.id, "open", None, 0),
        (L2.id, "locked", "Master 'Adding to 10' to unlock", 0),
        (L3.id, "locked", "Master 'Adding to 20' to unlock", 0),
    ]
    assert view.today(BEN) == TodayStats(0.0, Decimal(0), Decimal(20), 0)


def test_mastery_shows_for_its_student_only(world: World) -> None:
    summary = world.study(world.controller(), ADA, L1, right=10, wrong=0)
    assert summary.mastered
    view = LibraryView(world.db, CATALOGUE, world.clock, daily_goal_xp=10, tz=UTC)
    assert states(view, ADA) == [
        (L1.id, "mastered", None, 1),
        (L2.id, "open", None, 0),
        (L3.id, "locked", "Master 'Adding to 20' to unlock", 0),
    ]
    [course] = view.lessons_for(ADA)
    assert course.lessons[0].best_accuracy == 1.0
    today = view.today(ADA)
    assert (today.focused_minutes, today.xp, today.goal_xp, today.runs) == (
        10.0, Decimal("12.5"), Decimal(10), 1
    )
    assert today.goal_reached
    # Ben sees none of Ada's progress
    assert states(view, BEN)[0] == (L1.id, "open", None, 0)
    [ben_course] = view.lessons_for(BEN)
    assert all(r.best_accuracy is None for r in ben_course.lessons)
    assert view.today(BEN) == TodayStats(0.0, Decimal(0), Decimal(10), 0)


def test_today_counts_only_runs_closed_today(world: World) -> None:
    world.study(world.controller(), ADA, L1, right=17, wrong=3)  # 10 min, 10.0 XP
    view = LibraryView(world.db, CATALOGUE, world.clock, tz=UTC)
    assert view.today(ADA).xp == Decimal("10.0")
    world.clock.advance(24 * 3600 * 1000)
    ctl = world.controller()
    ctl.start(ADA, L1.id)
    world.seconds(ctl, 90, input_every=5)
    ctl.quit()  # 1.5 focused minutes, no XP, and no answer: not an attempt
    today = view.today(ADA)
    assert (today.focused_minutes, today.xp, today.runs) == (1.5, Decimal(0), 0)
    assert not today.goal_reached


def test_the_daily_goal_must_be_positive(world: World) -> None:
    with pytest.raises(ValueError):
        LibraryView(world.db, CATALOGUE, world.clock, daily_goal_xp=0)
