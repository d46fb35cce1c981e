"""Results from a student's other computers, as the gradebook holds them.

Every computer running the app writes one AssessmentResult per run to the gradebook
(``companion.core.results.result_payload``). A result for one of this app's line items that
this computer did not write was recorded elsewhere: on the student's other computers. The
guide's report includes those results and marks them; their minutes are not known here
(only the result's score, XP, mastery and date are).

Pure values: ``parse_remote`` reads a gradebook record, ``Fetch`` says whether the
gradebook was reached when the report was built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from companion.core import results

THIS_COMPUTER: Final = "this computer"
OTHER_COMPUTER: Final = "other computer"
ELSEWHERE: Final = "elsewhere"
INCLUDED_TEXT: Final = "Including results from other computers"
NOT_FETCHED_TEXT: Final = "Other computers' results could not be fetched: {reason}"
FETCHING_TEXT: Final = "Fetching results from other computers…"
LEGEND: Final = (
    "“elsewhere”: recorded on the student's other computers (read from Timeback's "
    "gradebook); their minutes are not known on this computer."
)
OFFLINE_REASON: Final = "this computer is offline"

# Metadata keys that may name the computer (or program) that wrote a result, first wins.
SOURCE_KEYS: Final = ("computer", "computerName", "device", "deviceName", "source", "host")


@dataclass(frozen=True, slots=True)
class RemoteResult:
    """One result of another computer, as kept on this one."""

    sourced_id: str
    student_id: str
    lesson_id: str
    run_id: str | None
    attempt: int
    score: float | None  # accuracy in percent, 0..100
    questions: int | None
    correct: int | None
    xp: Decimal | None  # None when the result does not carry XP
    mastered: bool
    completed: bool
    is_attempt: bool
    score_date: str | None  # UTC ISO text, as run summaries keep their times
    source: str | None  # the computer (or program) the metadata names


@dataclass(frozen=True, slots=True)
class Fetch:
    """Whether the other computers' results were read from the gradebook just now."""

    fetched: bool
    reason: str = ""  # why not
    students: int = 0  # students whose results were read

    def text(self) -> str:
        """The line the guide reads above the report."""
        if self.fetched:
            return INCLUDED_TEXT
        return NOT_FETCHED_TEXT.format(reason=self.reason or "unknown reason")


def utc_text(value: Any) -> str | None:
    """An ISO date-time (``Z`` or an offset) as UTC ISO text; None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat()


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if value >= 0 else None


def source_of(metadata: Mapping[str, Any]) -> str | None:
    """The computer (or program) a result's metadata names, if it names one."""
    for key in SOURCE_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def parse_remote(raw: Mapping[str, Any], lessons: Mapping[str, str]) -> RemoteResult | None:
    """A gradebook record of one of this app's line items (``lessons``: line item sourcedId
    to lesson id) as a RemoteResult; None for other line items, deleted or unreadable ones.
    """
    seen = results.parse_result(raw)
    if seen is None or seen.line_item_id not in lessons:
        return None
    meta = raw.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    xp = meta.get("xp")
    has_xp = isinstance(xp, int | float) and not isinstance(xp, bool)
    return RemoteResult(
        sourced_id=seen.sourced_id,
        student_id=seen.student_id,
        lesson_id=lessons[seen.line_item_id],
        run_id=seen.run_id,
        attempt=seen.attempt,
        score=None if seen.accuracy is None else float(seen.accuracy * 100),
        questions=_int(meta.get("totalQuestions")),
        correct=_int(meta.get("correctQuestions")),
        xp=seen.xp if has_xp else None,
        mastered=seen.mastered,
        completed=meta.get("completed") is True,
        is_attempt=seen.is_attempt,
        score_date=utc_text(seen.score_date),
        source=source_of(meta),
    )


def explanation(result: RemoteResult) -> list[str]:
    """The lines the guide reads for another computer's attempt."""
    where = f"another computer ({result.source})" if result.source else "another computer"
    lines = [f"Recorded on {where}; read from Timeback's gradebook."]
    if result.xp is None:
        lines.append("The result does not say how much XP it earned.")
    else:
        lines.append(f"XP: {result.xp} (its minutes are not known on this computer).")
    if result.score is not None:
        lines.append(f"Accuracy: {round(result.score)} %.")
    lines.append("Mastered." if result.mastered else "Not mastered.")
    return lines
