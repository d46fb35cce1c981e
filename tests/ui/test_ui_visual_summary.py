"""The end-of-lesson summary in plain words: the XP figure, the 80 % check's verdict and
meaning, the bonus, mastery and what it unlocks, and a kind reason for 0 XP."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from companion.core.catalogue import Lesson
from companion.core.session_types import SessionSummary
from companion.ui.summary import SummaryWidget

LESSON = Lesson("l1", "Adding to 20", "c1", "Math", "03", 1)
NEXT = Lesson("l2", "Taking away", "c1", "Math", "03", 2)
MASTERED = SessionSummary(
    run_id="r1", lesson=LESSON, completed=True, abandoned=False, active_ms=300_000,
    focused_minutes=5.0, questions=5, correct=5, accuracy=1.0, gate_passed=True,
    multiplier=1.25, capped=False, xp=Decimal("6.2"), mastered=True, next_unlocked=NEXT,
    explain=("Active time: 5 min (300 s)", "Unlocked next: 'Taking away'"),
)


@pytest.fixture
def widget(qtbot: Any) -> SummaryWidget:
    w = SummaryWidget()
    qtbot.addWidget(w)
    return w


def test_mastered_run_shows_xp_gate_bonus_and_unlock(widget: SummaryWidget) -> None:
    widget.show_summary(MASTERED)
    assert widget.xp_figure.text() == "6.2"
    assert "6.2 XP" in widget.title.text()
    assert widget.fact("gate")[0] == "Passed ✓"
    assert "80 %" in widget.fact("gate")[1]
    assert widget.fact("bonus")[0] == "×1.25"
    assert "Perfect first try" in widget.fact("bonus")[1]
    assert widget.fact("mastery") == ("Mastered ✓", "'Taking away' is now open for you.")
    assert widget.fact("minutes")[0] == "5 minutes"
    assert widget.explanation() == list(MASTERED.explain)


def test_below_the_gate_says_kindly_why_there_is_no_xp(widget: SummaryWidget) -> None:
    below = replace(MASTERED, correct=3, accuracy=0.6, gate_passed=False, multiplier=0.0,
                    xp=Decimal("0.0"), mastered=False, next_unlocked=None)
    widget.show_summary(below)
    assert widget.xp_figure.text() == "0.0"
    assert widget.fact("gate")[0] == "Not passed"
    assert "60 %" in widget.fact("gate")[1] and "at least 80 %" in widget.fact("gate")[1]
    assert "No XP this time" in widget.message.text()
    assert "60 %" in widget.message.text() and "80 %" in widget.message.text()
    assert widget.fact("mastery")[0] == "Not this time"
    assert widget.fact("bonus")[0] == "None"


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"abandoned": True, "completed": False}, "nobody was working"),
        ({"completed": False}, "ended before the finish"),
        ({"questions": 0, "correct": 0, "accuracy": None, "gate_passed": False},
         "no questions were answered"),
    ],
)
def test_zero_xp_reasons(widget: SummaryWidget, changes: dict[str, Any], words: str) -> None:
    run = replace(MASTERED, xp=Decimal(0), mastered=False, next_unlocked=None, **changes)
    widget.show_summary(run)
    assert words in widget.message.text()
    assert widget.xp_card.property("zero") is True


def test_the_cap_is_explained(widget: SummaryWidget) -> None:
    from companion.core.journal import LessonSettings

    capped_lesson = replace(LESSON, settings=LessonSettings(expected_xp=Decimal(3)))
    widget.show_summary(replace(MASTERED, lesson=capped_lesson, capped=True))
    value, meaning = widget.fact("cap")
    assert value == "Reached" and "at most 3 minutes" in meaning
