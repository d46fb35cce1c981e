"""OneRoster gradebook records for the app's results, and merging them into progress.

Pure functions over plain values: the AssessmentLineItem of a lesson (one per lesson,
shared by every class of the course), the AssessmentResult of a run (XP, accuracy and
mastery in ``metadata``, as in the integration guide's "XP, Accuracy and Mastery"), their
deterministic sourcedIds, reading results back, and merging what other computers recorded
into a student's progress without ever lowering it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from companion.core import rules
from companion.core.caliper import format_timestamp
from companion.core.catalogue import Lesson
from companion.core.rules import Score

# Fixed namespace of the app's gradebook sourcedIds; changing it would orphan every record.
GRADEBOOK_NAMESPACE = uuid.UUID("0b7c3f7e-51d4-5a7b-8c31-2f9d6e4a1c20")
SCORE_STATUS = "fully graded"
RESULT_VALUE_MIN = 0.0
RESULT_VALUE_MAX = 100.0
RESULT_TYPE = "AssessmentResult"  # the ``type`` of the app's outbox envelope for a result

# Fields of a line item that content push owns; others (set by Timeback) are left alone.
LINE_ITEM_FIELDS = ("title", "status", "description", "resultValueMin", "resultValueMax",
                    "metadata")


def line_item_id(app_id: str, lesson_id: str) -> str:
    """The sourcedId of a lesson's AssessmentLineItem (the same on every computer)."""
    return str(uuid.uuid5(GRADEBOOK_NAMESPACE, f"{app_id}|line-item|{lesson_id}"))


def result_id(app_id: str, student_id: str, lesson_id: str, run_id: str) -> str:
    """The sourcedId of a run's AssessmentResult: one run, one result, whatever the retries."""
    return str(uuid.uuid5(GRADEBOOK_NAMESPACE,
                          f"{app_id}|result|{student_id}|{lesson_id}|{run_id}"))


def _number(value: Decimal | Fraction) -> float | int:
    """A JSON number: an int when whole, else a float."""
    if value == int(value):
        return int(value)
    return float(value)


def line_item_payload(
    app_id: str, lesson: Lesson, course_sourced_id: str, course_title: str | None = None
) -> dict[str, Any]:
    """The AssessmentLineItem of ``lesson`` (result range 0-100, expected XP in metadata)."""
    expected = lesson.settings.expected_xp
    metadata: dict[str, Any] = {
        "app": app_id,
        "lessonId": lesson.id,
        "courseSourcedId": course_sourced_id,
        "xp": None if expected is None else _number(expected),
        "subject": lesson.subject,
        "grade": lesson.grade,
        "order": lesson.order,
    }
    description = f"{course_title}: {lesson.title}" if course_title else lesson.title
    return {
        "sourcedId": line_item_id(app_id, lesson.id),
        "status": "active",
        "title": lesson.title,
        "description": description,
        "resultValueMin": RESULT_VALUE_MIN,
        "resultValueMax": RESULT_VALUE_MAX,
        "metadata": metadata,
    }


def line_item_change(desired: Mapping[str, Any], existing: Mapping[str, Any] | None) -> str:
    """``create`` (none yet), ``update`` (a field we own differs) or ``unchanged``."""
    if existing is None:
        return "create"
    for name in LINE_ITEM_FIELDS:
        if name not in desired:
            continue
        if _normal(desired[name]) != _normal(existing.get(name)):
            return "update"
    return "unchanged"


def _normal(value: Any) -> Any:
    """Compare numbers by value (the server may answer 100 for 100.0)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class RunResult:
    """Who, what and when of a closed run, besides its score."""

    app_id: str
    student_id: str
    lesson_id: str
    run_id: str
    score_date: str  # UTC, e.g. 2026-01-05T09:10:00.000Z


def result_payload(run: RunResult, score: Score) -> dict[str, Any]:
    """The AssessmentResult of a run: accuracy in percent as ``score``, the rest in metadata.

    With no answered questions ``score`` and ``metadata.accuracy`` are null.
    """
    accuracy = None if score.accuracy is None else float(score.accuracy * 100)
    earned = score.completed and score.gate_passed
    metadata: dict[str, Any] = {
        "masteredUnits": 1 if score.mastered else 0,
        "totalQuestions": score.questions,
        "correctQuestions": score.correct,
        "accuracy": accuracy,
        "xp": _number(score.xp),
        "multiplier": _number(score.multiplier) if earned else 0,
        "attempt": score.attempt,
        "runId": run.run_id,
        "lessonId": run.lesson_id,
        "completed": score.completed,
        "app": run.app_id,
    }
    return {
        "sourcedId": result_id(run.app_id, run.student_id, run.lesson_id, run.run_id),
        "status": "active",
        "assessmentLineItem": {"sourcedId": line_item_id(run.app_id, run.lesson_id)},
        "student": {"sourcedId": run.student_id},
        "score": accuracy,
        "scoreDate": run.score_date,
        "scoreStatus": SCORE_STATUS,
        "metadata": metadata,
    }


def result_envelope(payload: Mapping[str, Any]) -> dict[str, Any]:
    """How a result waits in the outbox: typed, with the PUT body under its key."""
    return {"type": RESULT_TYPE, "sourcedId": payload["sourcedId"],
            "assessmentResult": dict(payload)}


def run_result_envelope(
    app_id: str,
    student_id: str,
    lesson_id: str,
    run_id: str,
    anchor: datetime,
    score: Score,
    end_ms: int,
) -> dict[str, Any] | None:
    """The outbox envelope of the result of a run that closed at run time ``end_ms``
    (``anchor`` is its wall-clock start); None for a run in which no question was answered,
    which yields no result."""
    if score.questions == 0:
        return None
    info = RunResult(
        app_id=app_id,
        student_id=student_id,
        lesson_id=lesson_id,
        run_id=run_id,
        score_date=format_timestamp(anchor, end_ms),
    )
    return result_envelope(result_payload(info, score))


# ---------------------------------------------------------------- reading results back


@dataclass(frozen=True, slots=True)
class SeenResult:
    """A result of this app, read from the gradebook or from this computer's outbox."""

    sourced_id: str
    student_id: str
    line_item_id: str
    run_id: str | None
    attempt: int
    xp: Decimal
    mastered: bool
    accuracy: Fraction | None  # 0..1
    score_date: str | None
    is_attempt: bool = True  # rules.counts_as_attempt of its metadata (True when unknown)


def _ref_id(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if isinstance(value, Mapping) and isinstance(value.get("sourcedId"), str):
        return str(value["sourcedId"])
    return None


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_result(raw: Mapping[str, Any]) -> SeenResult | None:
    """A gradebook AssessmentResult as a SeenResult; None if deleted or not readable."""
    sourced_id = raw.get("sourcedId")
    student = _ref_id(raw, "student")
    item = _ref_id(raw, "assessmentLineItem")
    if not isinstance(sourced_id, str) or student is None or item is None:
        return None
    if raw.get("status") == "tobedeleted":
        return None
    meta = raw.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    attempt = meta.get("attempt")
    attempt = attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 0
    xp = _decimal(meta.get("xp"))
    mastered_units = _decimal(meta.get("masteredUnits"))
    percent = _decimal(meta.get("accuracy"))
    if percent is None:
        percent = _decimal(raw.get("score"))
    accuracy = None
    if percent is not None and 0 <= percent <= 100:
        accuracy = Fraction(percent) / 100
    run_id = meta.get("runId")
    score_date = raw.get("scoreDate")
    questions = meta.get("totalQuestions")
    if not isinstance(questions, int) or isinstance(questions, bool):
        questions = 1  # a result that does not say is taken as an attempt
    completed = meta.get("completed") is True
    return SeenResult(
        sourced_id=sourced_id,
        student_id=student,
        line_item_id=item,
        run_id=run_id if isinstance(run_id, str) and run_id else None,
        attempt=max(0, attempt),
        xp=xp if xp is not None and xp > 0 else Decimal(0),
        mastered=mastered_units is not None and mastered_units >= 1,
        accuracy=accuracy,
        score_date=score_date if isinstance(score_date, str) else None,
        is_attempt=rules.counts_as_attempt(questions, completed),
    )


# ---------------------------------------------------------------- merging into progress


@dataclass(frozen=True, slots=True)
class ProgressFacts:
    """A student's progress in one lesson, as the store keeps it."""

    mastered: bool = False
    attempts: int = 0
    best_accuracy: float | None = None
    total_xp: Decimal = Decimal(0)
    mastered_at: str | None = None


def merge_progress(
    local: ProgressFacts,
    seen: Iterable[SeenResult],
    local_run_xp: Mapping[str, Decimal] | None = None,
) -> ProgressFacts:
    """Local progress with the results seen anywhere merged in; never lower than ``local``.

    Mastered anywhere is mastered; attempts are the highest attempt seen among results that
    were attempts (``rules.counts_as_attempt``); the best accuracy
    is the best seen. Total XP counts every run once: this computer's runs
    (``local_run_xp`` by run id) and the seen results of other runs (by run id, or by
    sourcedId when a result names no run); it only ever grows. Merging the same results
    again changes nothing.
    """
    xp_by_run: dict[str, Decimal] = dict(local_run_xp or {})
    remote: dict[str, Decimal] = {}
    merged = local
    for result in seen:
        key = result.run_id or f"result:{result.sourced_id}"
        if key not in xp_by_run:
            remote[key] = max(remote.get(key, Decimal(0)), result.xp)
        if result.is_attempt:
            merged = replace(merged, attempts=max(merged.attempts, result.attempt))
        if result.accuracy is not None:
            value = float(result.accuracy)
            if merged.best_accuracy is None or value > merged.best_accuracy:
                merged = replace(merged, best_accuracy=value)
        if result.mastered:
            when = merged.mastered_at
            earlier = result.score_date is not None and (
                when is None or result.score_date < when
            )
            if not merged.mastered or (not local.mastered and earlier):
                when = result.score_date
            merged = replace(merged, mastered=True, mastered_at=when)
    union_total = sum(xp_by_run.values(), Decimal(0)) + sum(remote.values(), Decimal(0))
    return replace(merged, total_xp=max(local.total_xp, union_total))
