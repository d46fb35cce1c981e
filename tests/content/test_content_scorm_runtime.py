"""The SCORM run-time data as the journal sees it: answers, score, completion, the place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from companion.content.scorm_runtime import (
    Answer,
    Place,
    Score,
    ScormRun,
    initial_cmi,
    item_id,
)


def play(run: ScormRun, *values: tuple[str, str]) -> list[object]:
    effects: list[object] = []
    for element, value in values:
        run.call("SetValue" if run.api == "2004" else "LMSSetValue")
        effects.extend(run.set_value(element, value))
    return effects


@pytest.mark.parametrize(("result", "correct"), [("correct", True), ("wrong", False),
                                                 ("incorrect", False)])
def test_a_scored_result_is_an_answer(result: str, correct: bool) -> None:
    run = ScormRun("1.2")
    assert play(run, ("cmi.interactions.0.id", "q1"), ("cmi.interactions.0.result", result)) \
        == [Answer("q1", correct)]


@pytest.mark.parametrize("result", ["neutral", "unanticipated", "0.5", "12", ""])
def test_other_results_are_not_answers(result: str) -> None:
    run = ScormRun("2004")
    assert play(run, ("cmi.interactions.0.id", "q1"), ("cmi.interactions.0.result", result)) \
        == []


def test_result_before_id_waits_for_the_id_and_repeats_are_dropped() -> None:
    run = ScormRun("1.2")
    assert play(run, ("cmi.interactions.4.result", "correct")) == []
    assert play(run, ("cmi.interactions.4.id", "late")) == [Answer("late", True)]
    assert play(run, ("cmi.interactions.4.result", "correct")) == []  # same record again
    assert play(run, ("cmi.interactions.4.result", "wrong")) == [Answer("late", False)]


def test_a_later_record_for_the_same_id_is_a_second_answer() -> None:
    run = ScormRun("1.2")
    effects = play(run, ("cmi.interactions.0.id", "q"), ("cmi.interactions.0.result", "wrong"),
                   ("cmi.interactions.1.id", "q"), ("cmi.interactions.1.result", "correct"))
    assert effects == [Answer("q", False), Answer("q", True)]


def test_many_interactions_in_one_commit() -> None:
    run = ScormRun("2004")
    values = []
    for n in range(50):
        values += [(f"cmi.interactions.{n}.id", f"i{n}"),
                   (f"cmi.interactions.{n}.result", "correct" if n % 2 else "incorrect")]
    effects = play(run, *values)
    assert len(effects) == 50 and sum(isinstance(e, Answer) and e.correct for e in effects) == 25


def test_scorm_12_score_is_raw_over_max_once_both_are_set() -> None:
    run = ScormRun("1.2")
    assert play(run, ("cmi.core.score.raw", "8")) == []
    assert play(run, ("cmi.core.score.max", "10")) == [Score(Decimal("0.8"))]
    assert play(run, ("cmi.core.score.max", "10")) == []  # unchanged
    assert play(run, ("cmi.core.score.raw", "20")) == []  # 2.0 is no scaled score


def test_scorm_2004_scaled_score() -> None:
    run = ScormRun("2004")
    assert play(run, ("cmi.score.scaled", "-0.25")) == [Score(Decimal("-0.25"))]
    assert run.summary()["score"] == -0.25


@pytest.mark.parametrize(("status", "completion", "success"), [
    ("passed", "completed", "passed"), ("failed", "completed", "failed"),
    ("completed", "completed", None), ("incomplete", "incomplete", None),
    ("browsed", "browsed", None)])
def test_scorm_12_lesson_status_gives_both(status: str, completion: str,
                                           success: str | None) -> None:
    run = ScormRun("1.2")
    play(run, ("cmi.core.lesson_status", status))
    assert (run.completion, run.success) == (completion, success)
    assert run.completed == (completion == "completed")


def test_scorm_2004_statuses_are_separate() -> None:
    run = ScormRun("2004")
    play(run, ("cmi.success_status", "passed"))
    assert not run.completed
    play(run, ("cmi.completion_status", "completed"))
    assert run.completed and run.success == "passed"


def test_place_and_session_time() -> None:
    run = ScormRun("1.2")
    assert run.place() is None
    play(run, ("cmi.suspend_data", "x=1"), ("cmi.core.session_time", "0000:01:02.5"))
    assert run.place() == Place("x=1", "")
    assert run.session_time == "0000:01:02.5"


def test_calls_initialize_and_finish_are_counted() -> None:
    run = ScormRun("2004")
    for name in ("Initialize", "GetValue", "GetLastError", "Terminate", "Terminate"):
        assert run.call(name)
    assert not run.call("eval")
    assert (run.calls, run.initialized, run.finished) == (5, True, True)


def test_long_or_odd_interaction_ids_become_items() -> None:
    assert item_id("urn:q:1") == "urn:q:1"
    long_a, long_b = item_id("x" * 4000), item_id("x" * 3999)
    assert len(long_a) == 200 and long_a != long_b
    assert item_id("a\nb").isprintable()


def test_initial_data_model_carries_the_place_and_mastery() -> None:
    cmi = initial_cmi("1.2", "s1", Place("d", "loc"), Decimal("0.85"))
    assert cmi == {"core": {"student_id": "s1", "student_name": "s1", "entry": "resume",
                            "lesson_location": "loc"},
                   "suspend_data": "d", "student_data": {"mastery_score": "85"}}
    cmi = initial_cmi("2004", "s1", None, Decimal("0.8"))
    assert cmi == {"learner_id": "s1", "learner_name": "s1", "entry": "ab-initio",
                   "scaled_passing_score": "0.8"}
