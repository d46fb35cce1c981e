"""What closing a run produces, computed by pure functions: actor, events, result, progress."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from companion.core import rules
from companion.core.caliper import ActivityInfo
from companion.core.journal import LessonSettings, Line
from companion.core.report import Answer
from companion.core.results import ProgressFacts, result_id, run_result_envelope
from companion.core.run_outcome import (
    NO_EMAIL,
    NOT_IN_ROSTER,
    EventContext,
    LessonFacts,
    RosterPerson,
    RunFacts,
    RunProgress,
    activity_of,
    actor_of,
    caliper_role,
    close_outcome,
    first_answers,
    progress_after,
    run_info,
    time_spent_report,
)

BASE = "https://sandbox.example/"
ANCHOR = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
RUN = RunFacts("0b7c2f4e-8a59-4d2b-9a61-3f1c2e5d7a90", "stu-1", "fractions-1", 1, ANCHOR)
LESSON = LessonFacts("fractions-1", "Fractions 1", "math-g3", "Math G3", "Math")
ADA = RosterPerson("stu-1", " ada@example.org ", "Ada", "L", "student")
CTX = EventContext(oneroster_base=BASE, window_ms=60_000)
SETTINGS = LessonSettings(idle_timeout_ms=60_000, abandon_after_ms=600_000)


def journal(answers: int, correct: int, minutes: int = 10) -> list[Line]:
    """Start, input every 30 s for ``minutes``, and ``answers`` answers (``correct`` right)."""
    body = [Line(t, "input") for t in range(30_000, minutes * 60_000 + 1, 30_000)]
    body += [
        Line(1_000 + i * 10_000, "answer", item=f"q{i}", correct=i < correct)
        for i in range(answers)
    ]
    start = Line(0, "start", lesson=LESSON.id, settings=SETTINGS, attempt=RUN.attempt)
    return [start, *sorted(body, key=lambda line: line.t)]


def metrics(event: dict[str, Any]) -> dict[str, Any]:
    return {item["type"]: item["value"] for item in event["generated"]["items"]}


@pytest.mark.parametrize(
    ("raw", "role"),
    [
        (None, "student"),
        ("student", "student"),
        (" teacher ", "teacher"),
        ("administrator", "admin"),
        ("guide", "guide"),
        ("aide", "student"),
        ("parent", "student"),
    ],
)
def test_a_oneroster_role_becomes_a_caliper_role(raw: str | None, role: str) -> None:
    assert caliper_role(raw) == role


def test_the_actor_is_the_roster_user_with_email_name_and_role() -> None:
    actor, reason = actor_of(
        RosterPerson("stu-1", " ada@example.org ", "Ada", None, "administrator"), BASE
    )
    assert reason is None and actor is not None
    assert actor.user_url == "https://sandbox.example/ims/oneroster/rostering/v1p2/users/stu-1"
    assert (actor.email, actor.role, actor.name) == ("ada@example.org", "admin", "Ada")


@pytest.mark.parametrize(
    ("person", "reason"),
    [
        (None, NOT_IN_ROSTER),
        (RosterPerson("stu-1", None), NO_EMAIL),
        (RosterPerson("stu-1", "   "), NO_EMAIL),
    ],
)
def test_no_actor_without_the_user_or_an_email(person: RosterPerson | None, reason: str) -> None:
    assert actor_of(person, BASE) == (None, reason)


def test_the_activity_names_the_lesson_and_course_and_knows_only_caliper_subjects() -> None:
    assert activity_of(LESSON, BASE) == ActivityInfo(
        subject="Math",
        course_id_url="https://sandbox.example/ims/oneroster/rostering/v1p2/courses/math-g3",
        course_name="Math G3",
        activity_id_url=(
            "https://sandbox.example/ims/oneroster/rostering/v1p2/courses/components/fractions-1"
        ),
        activity_name="Fractions 1",
    )
    odd = activity_of(LessonFacts("l9", "", "", "", "Art"), BASE)
    assert (odd.subject, odd.activity_name, odd.course_name) == ("None", "l9", "")
    assert odd.course_id_url.endswith("/courses/l9")  # no course: the lesson stands for it


def test_time_spent_report_covers_the_settled_windows_and_says_how_far() -> None:
    lines = journal(0, 0, minutes=3)
    classification = rules.classify(lines, 200_000)
    actor, _ = actor_of(ADA, BASE)
    assert actor is not None
    info = run_info(RUN, actor, LESSON, CTX)
    report = time_spent_report(info, classification, 0, 60_000, final=False)
    assert report.reported_until_ms == 180_000  # settled at the last input, 180 s
    assert len(report.events) == 3
    assert [metrics(e)["active"] for e in report.events] == [60, 60, 60]
    again = time_spent_report(info, classification, 180_000, 60_000, final=False)
    assert again.events == () and again.reported_until_ms == 180_000


def test_progress_after_a_run() -> None:
    before = ProgressFacts(attempts=1, best_accuracy=0.7, total_xp=Decimal("3.5"))
    good = RunProgress(2, True, Decimal(5), 0.9, True, "2026-01-05T09:10:00+00:00")
    after = progress_after(before, good)
    assert after == ProgressFacts(
        mastered=True,
        attempts=2,
        best_accuracy=0.9,
        total_xp=Decimal("8.5"),
        mastered_at="2026-01-05T09:10:00+00:00",
    )
    # a later run that is no attempt: no attempt, lower accuracy kept out, mastery kept
    idle = RunProgress(3, False, Decimal(0), 0.5, False, "2026-01-06T09:00:00+00:00")
    assert progress_after(after, idle) == after
    # a second mastery keeps the first date
    again = RunProgress(3, True, Decimal(1), None, True, "2026-01-07T09:00:00+00:00")
    third = progress_after(after, again)
    assert (third.attempts, third.mastered_at, third.total_xp) == (
        3,
        "2026-01-05T09:10:00+00:00",
        Decimal("9.5"),
    )


def test_first_answers_are_the_first_per_item_before_abandonment() -> None:
    lines = [
        Line(
            0,
            "start",
            lesson="x",
            settings=LessonSettings(idle_timeout_ms=1_000, abandon_after_ms=10_000),
        ),
        Line(500, "answer", item="a", correct=False),
        Line(600, "answer", item="a", correct=True),
        Line(700, "answer", item="b", correct=True),
        Line(20_000, "answer", item="c", correct=True),  # after the abandonment
        Line(21_000, "end", completed=False),
    ]
    classification = rules.classify(lines)
    assert classification.abandoned_at == 10_000  # answers are no input: idle from 0 s
    assert first_answers(lines, classification) == [Answer("a", False), Answer("b", True)]


def test_closing_computes_events_result_progress_and_summary() -> None:
    lines = journal(answers=10, correct=10)
    outcome = close_outcome(
        RUN,
        lines,
        Line(600_000, "end", completed=True),
        ADA,
        LESSON,
        CTX,
        reported_until_ms=120_000,
    )

    assert outcome.lines == len(lines) and outcome.end == Line(600_000, "end", completed=True)
    assert outcome.score.xp == Decimal("12.5") and outcome.score.mastered
    assert outcome.closed_at == "2026-01-05T09:10:00+00:00"
    delivery = outcome.delivery
    assert delivery.pending_reason is None and delivery.reported_until_ms == 600_000
    types = [e["type"] for e in delivery.events]
    assert types == ["TimeSpentEvent"] * 8 + ["ActivityEvent"]  # 2-10 min, one a minute
    assert metrics(delivery.events[-1]) == {
        "totalQuestions": 10,
        "correctQuestions": 10,
        "xpEarned": 12.5,
        "masteredUnits": 1,
    }
    assert delivery.result is not None
    record = delivery.result["assessmentResult"]
    assert (
        delivery.result["sourcedId"]
        == record["sourcedId"]
        == result_id(CTX.app.app_id, "stu-1", "fractions-1", RUN.run_id)
    )
    assert record["score"] == 100.0 and record["scoreDate"] == "2026-01-05T09:10:00.000Z"
    assert outcome.progress == RunProgress(
        1, True, Decimal("12.5"), 1.0, True, "2026-01-05T09:10:00+00:00"
    )
    summary = outcome.summary
    assert (summary.focused_ms, summary.idle_ms, summary.questions, summary.xp) == (
        600_000,
        0,
        10,
        Decimal("12.5"),
    )
    assert summary.answers[0] == Answer("q0", True) and len(summary.answers) == 10
    assert summary.explanation[-1].startswith("Mastered: yes")


def test_closing_without_an_email_keeps_the_reason_and_builds_nothing() -> None:
    outcome = close_outcome(
        RUN,
        journal(2, 2),
        Line(600_000, "end", completed=True),
        RosterPerson("stu-1", None),
        LESSON,
        CTX,
        reported_until_ms=0,
    )
    assert outcome.delivery.pending_reason == NO_EMAIL
    assert outcome.delivery.events == () and outcome.delivery.result is None
    assert outcome.score.questions == 2  # progress and summary are still computed
    assert outcome.progress.counts_as_attempt and outcome.summary.questions == 2


def test_a_run_without_answers_yields_no_result_and_is_no_attempt() -> None:
    outcome = close_outcome(
        RUN,
        journal(0, 0),
        Line(600_000, "end", completed=False),
        ADA,
        LESSON,
        CTX,
        reported_until_ms=0,
    )
    assert outcome.delivery.result is None
    assert outcome.delivery.events[-1]["type"] == "ActivityEvent"
    assert not outcome.progress.counts_as_attempt
    assert run_result_envelope("app", "s", "l", RUN.run_id, ANCHOR, outcome.score, 0) is None


def test_closing_refuses_an_end_before_the_last_line_or_a_line_that_is_no_end() -> None:
    lines = journal(0, 0, minutes=1)
    with pytest.raises(ValueError, match="before the last line"):
        close_outcome(RUN, lines, Line(10_000, "end", completed=True), ADA, LESSON, CTX, 0)
    with pytest.raises(ValueError, match="'end' line"):
        close_outcome(RUN, lines, Line(90_000, "input"), ADA, LESSON, CTX, 0)


def test_the_result_carries_the_score_in_percent() -> None:
    lines = journal(answers=10, correct=9)
    classification = rules.classify([*lines, Line(600_000, "end", completed=True)])
    score = rules.score([*lines, Line(600_000, "end", completed=True)], classification)
    envelope = run_result_envelope(
        "app-1", "stu-1", "fractions-1", RUN.run_id, ANCHOR, score, 600_000
    )
    assert envelope is not None
    record = envelope["assessmentResult"]
    assert record["score"] == pytest.approx(90.0)
    assert record["metadata"]["accuracy"] == pytest.approx(90.0)
    assert score.accuracy == Fraction(9, 10)
