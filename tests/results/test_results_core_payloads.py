"""Pure gradebook records: deterministic ids, the result's metadata, reading back, merging."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from companion.core import results
from companion.core.results import ProgressFacts, SeenResult
from companion.core.rules import Score
from tests.results.helpers import APP_ID, CATALOGUE, LESSON_1

RUN = "7b0f5b7e-3b8e-4f57-9d3c-2a61f1b0c001"


def score(correct: int, n: int = 10, attempt: int = 1, completed: bool = True) -> Score:
    accuracy = Fraction(correct, n)
    gate = accuracy >= Fraction(4, 5)
    mastered = completed and accuracy >= Fraction(9, 10)
    multiplier = Fraction(5, 4) if accuracy == 1 and attempt == 1 else Fraction(1)
    return Score(questions=n, correct=correct, accuracy=accuracy, completed=completed,
                 abandoned=False, active_ms=600_000, gate_passed=gate, multiplier=multiplier,
                 capped=False, xp=Decimal("12.5") if gate and completed else Decimal(0),
                 mastered=mastered, attempt=attempt)


def payload(correct: int = 10, attempt: int = 1, run_id: str = RUN) -> dict[str, object]:
    info = results.RunResult(APP_ID, "stu-1", LESSON_1, run_id, "2026-01-05T09:10:00.000Z")
    return results.result_payload(info, score(correct, attempt=attempt))


def test_sourced_ids_are_deterministic_and_distinct() -> None:
    a = results.result_id(APP_ID, "stu-1", LESSON_1, RUN)
    assert a == results.result_id(APP_ID, "stu-1", LESSON_1, RUN)
    others = {
        results.result_id(APP_ID, "stu-2", LESSON_1, RUN),
        results.result_id(APP_ID, "stu-1", "other", RUN),
        results.result_id(APP_ID, "stu-1", LESSON_1, RUN.replace("c001", "c002")),
        results.result_id("https://other.app", "stu-1", LESSON_1, RUN),
    }
    assert a not in others and len(others) == 4
    assert results.line_item_id(APP_ID, LESSON_1) != results.line_item_id(APP_ID, "other")


def test_result_payload_carries_score_and_metadata() -> None:
    body = payload(correct=10)
    assert body["sourcedId"] == results.result_id(APP_ID, "stu-1", LESSON_1, RUN)
    assert body["assessmentLineItem"] == {"sourcedId": results.line_item_id(APP_ID, LESSON_1)}
    assert body["student"] == {"sourcedId": "stu-1"}
    assert (body["score"], body["scoreStatus"], body["status"]) == (100.0, "fully graded",
                                                                    "active")
    meta = body["metadata"]
    assert isinstance(meta, dict)
    assert {k: meta[k] for k in ("masteredUnits", "totalQuestions", "correctQuestions",
                                 "accuracy", "xp", "multiplier", "attempt", "runId")} == {
        "masteredUnits": 1, "totalQuestions": 10, "correctQuestions": 10, "accuracy": 100.0,
        "xp": 12.5, "multiplier": 1.25, "attempt": 1, "runId": RUN}
    failed = payload(correct=7)["metadata"]
    assert isinstance(failed, dict)
    assert (failed["masteredUnits"], failed["xp"], failed["multiplier"]) == (0, 0, 0)


def test_a_result_reads_back_as_what_was_written() -> None:
    seen = results.parse_result(payload(correct=9, attempt=2))
    assert seen is not None
    assert (seen.run_id, seen.attempt, seen.mastered, seen.accuracy, seen.student_id) == (
        RUN, 2, True, Fraction(9, 10), "stu-1")
    assert results.parse_result({"sourcedId": "x"}) is None
    assert results.parse_result({**payload(), "status": "tobedeleted"}) is None


def test_line_item_change_detects_only_owned_fields() -> None:
    lesson = CATALOGUE.get(LESSON_1)
    desired = results.line_item_payload(APP_ID, lesson, "course-x", "Course")
    assert desired["metadata"]["xp"] == 8 and desired["resultValueMax"] == 100.0
    assert results.line_item_change(desired, None) == "create"
    served = {**desired, "resultValueMax": 100, "dateLastModified": "2026-01-01T00:00:00Z"}
    assert results.line_item_change(desired, served) == "unchanged"
    assert results.line_item_change(desired, {**served, "title": "Old"}) == "update"


def seen(run: str, xp: str, attempt: int, mastered: bool = False) -> SeenResult:
    return SeenResult(sourced_id=f"r-{run}", student_id="stu-1", line_item_id="li",
                      run_id=run, attempt=attempt, xp=Decimal(xp), mastered=mastered,
                      accuracy=Fraction(9, 10) if mastered else Fraction(1, 2),
                      score_date=f"2026-01-0{attempt}T00:00:00.000Z")


def test_merge_adds_other_computers_runs_once_and_keeps_local_ones() -> None:
    local = ProgressFacts(attempts=1, total_xp=Decimal(5), best_accuracy=0.5)
    remote = [seen("a", "5", 1), seen("b", "10", 2, mastered=True)]
    merged = results.merge_progress(local, remote, {"a": Decimal(5)})
    assert merged == ProgressFacts(mastered=True, attempts=2, best_accuracy=0.9,
                                   total_xp=Decimal(15), mastered_at="2026-01-02T00:00:00.000Z")
    again = results.merge_progress(merged, remote, {"a": Decimal(5)})
    assert again == merged


runs_st = st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 40), st.integers(1, 5),
                             st.booleans()), max_size=8)


@given(runs_st, st.integers(0, 6), st.integers(0, 100), st.booleans())
def test_merge_never_lowers_progress(
    remote: list[tuple[str, int, int, bool]], attempts: int, xp: int, mastered: bool
) -> None:
    local = ProgressFacts(mastered=mastered, attempts=attempts, total_xp=Decimal(xp),
                          best_accuracy=0.7, mastered_at="t" if mastered else None)
    merged = results.merge_progress(local, [seen(r, str(x), a, m) for r, x, a, m in remote])
    assert merged.total_xp >= local.total_xp and merged.attempts >= local.attempts
    assert merged.mastered >= local.mastered
    assert merged.best_accuracy is not None and merged.best_accuracy >= 0.7
    if mastered:
        assert merged.mastered_at == "t"
    assert results.merge_progress(merged, [seen(r, str(x), a, m) for r, x, a, m in remote]) \
        == merged


def test_a_result_of_a_run_that_was_not_an_attempt_does_not_raise_attempts() -> None:
    # A result written by an older version for a run with no answer that did not complete.
    raw = payload(attempt=3)
    meta = dict(raw["metadata"])  # type: ignore[call-overload]
    meta.update(totalQuestions=0, completed=False)
    parsed = results.parse_result({**raw, "metadata": meta})
    assert parsed is not None and parsed.is_attempt is False
    merged = results.merge_progress(ProgressFacts(attempts=1), [parsed])
    assert merged.attempts == 1
    counted = results.parse_result(payload(attempt=3))
    assert counted is not None and counted.is_attempt
    assert results.merge_progress(ProgressFacts(attempts=1), [counted]).attempts == 3


def test_an_attempt_is_a_run_with_an_answer_or_completed() -> None:
    from companion.core.rules import counts_as_attempt

    assert [counts_as_attempt(q, c) for q, c in ((0, False), (0, True), (1, False), (3, True))] \
        == [False, True, True, True]
