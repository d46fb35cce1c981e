"""A SCORM package's run-time calls, as the journal sees them (standard library only).

The data model and its validation are scorm-again's, in the session window's player page;
the page forwards each call the package made and, for ``SetValue``, only values scorm-again
accepted. ``ScormRun`` turns them into what the app records:

- ``cmi.interactions.n.result`` of ``correct``, or ``incorrect`` / ``wrong``, is an answer
  scored by the content to the interaction's ``id``: every such result is written (the
  first for an id is its answer; a later one is a second answer, which the rules count as
  they count any). ``neutral``, ``unanticipated`` and numeric results are not answers.
- the score (2004 ``cmi.score.scaled``; 1.2 ``cmi.core.score.raw`` ÷ ``score.max``) is a
  ``score`` line when it changes: shown, never XP.
- completion: 1.2 ``lesson_status`` of completed, passed or failed; 2004
  ``completion_status`` of completed. The run completes when the package finishes
  (``LMSFinish`` / ``Terminate``) having reported completion.
- ``suspend_data`` and the location are kept for the next attempt; ``session_time`` is kept
  with the run and never used for time.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

MAX_SUSPEND_DATA = 64 * 1024  # SCORM 2004 4th edition allows 64,000 characters
MAX_LOCATION = 1000

Api = Literal["1.2", "2004"]
MAX_ITEM = 200
_INTERACTION = re.compile(r"^cmi\.interactions\.(\d+)\.(id|result)$")
_CORRECT = {"correct": True, "incorrect": False, "wrong": False}
_COMPLETED_12 = {"completed", "passed", "failed"}
_CALLS = frozenset({
    "LMSInitialize", "LMSFinish", "LMSGetValue", "LMSSetValue", "LMSCommit",
    "LMSGetLastError", "LMSGetErrorString", "LMSGetDiagnostic",
    "Initialize", "Terminate", "GetValue", "SetValue", "Commit",
    "GetLastError", "GetErrorString", "GetDiagnostic",
})


@dataclass(frozen=True, slots=True)
class Place:
    """Where a student left a package: its suspend_data and location."""

    suspend_data: str
    location: str


@dataclass(frozen=True, slots=True)
class Answer:
    item: str
    correct: bool


@dataclass(frozen=True, slots=True)
class Score:
    scaled: Decimal


Effect = Answer | Score


@dataclass
class ScormRun:
    """One attempt at one SCO: what it set, and what that means for the journal."""

    api: Api
    initialized: bool = False
    finished: bool = False
    calls: int = 0
    completion: str | None = None
    success: str | None = None
    score: Decimal | None = None
    suspend_data: str | None = None
    location: str | None = None
    session_time: str | None = None
    answers: list[Answer] = field(default_factory=list)
    _ids: dict[int, str] = field(default_factory=dict)
    _results: dict[int, str] = field(default_factory=dict)
    _written: dict[int, tuple[str, str]] = field(default_factory=dict)
    _raw: Decimal | None = None
    _max: Decimal | None = None

    @property
    def completed(self) -> bool:
        """True once the package reported the SCO completed (or, in 1.2, passed/failed)."""
        return self.completion == "completed"

    def place(self) -> Place | None:
        """What to keep for the next attempt (None when the package set neither)."""
        if self.suspend_data is None and self.location is None:
            return None
        return Place((self.suspend_data or "")[:MAX_SUSPEND_DATA],
                      (self.location or "")[:MAX_LOCATION])

    def call(self, name: str) -> bool:
        """Count one API call; False for a name that is not a SCORM API function."""
        if name not in _CALLS:
            return False
        self.calls += 1
        if name in ("LMSInitialize", "Initialize"):
            self.initialized = True
        elif name in ("LMSFinish", "Terminate"):
            self.finished = True
        return True

    def set_value(self, element: str, value: str) -> list[Effect]:
        """A value scorm-again accepted; the effects to journal."""
        match = _INTERACTION.match(element)
        if match:
            index = int(match.group(1))
            (self._ids if match.group(2) == "id" else self._results)[index] = value
            return self._interaction(index)
        if element in ("cmi.core.lesson_status", "cmi.completion_status",
                       "cmi.success_status"):
            self._status(element, value.strip().lower())
        elif element == "cmi.suspend_data":
            self.suspend_data = value
        elif element in ("cmi.core.lesson_location", "cmi.location"):
            self.location = value
        elif element in ("cmi.core.session_time", "cmi.session_time"):
            self.session_time = value
        elif element == "cmi.score.scaled":
            return self._score(_number(value))
        elif element == "cmi.core.score.raw":
            self._raw = _number(value)
            return self._score_12()
        elif element == "cmi.core.score.max":
            self._max = _number(value)
            return self._score_12()
        return []

    def _status(self, element: str, value: str) -> None:
        if element == "cmi.core.lesson_status":
            self.completion = "completed" if value in _COMPLETED_12 else value
            if value in ("passed", "failed"):
                self.success = value
        elif element == "cmi.completion_status":
            self.completion = value
        else:
            self.success = value

    def _interaction(self, index: int) -> list[Effect]:
        identifier, result = self._ids.get(index), self._results.get(index)
        if identifier is None or result is None:
            return []
        correct = _CORRECT.get(result.strip().lower())
        if correct is None or self._written.get(index) == (identifier, result):
            return []  # not an answer, or the same result set again on the same record
        self._written[index] = (identifier, result)
        answer = Answer(item_id(identifier), correct)
        self.answers.append(answer)
        return [answer]

    def _score_12(self) -> list[Effect]:
        if self._raw is None or self._max is None or self._max <= 0:
            return []
        return self._score(self._raw / self._max)

    def _score(self, scaled: Decimal | None) -> list[Effect]:
        if scaled is None or not -1 <= scaled <= 1 or scaled == self.score:
            return []
        self.score = scaled
        return [Score(scaled)]

    def summary(self) -> dict[str, Any]:
        """The run-time part of ``companion preview``'s JSON."""
        return {
            "initialized": self.initialized,
            "api": self.api,
            "calls": self.calls,
            "completion": self.completion,
            "success": self.success,
            "score": None if self.score is None else float(self.score),
            "answers": [{"item": a.item, "correct": a.correct} for a in self.answers],
        }


def item_id(identifier: str) -> str:
    """An interaction id as a journal item: printable, at most 200 characters (a long or
    odd id keeps its start and gets a digest of the whole, so distinct ids stay distinct)."""
    clean = "".join(c if c.isprintable() else "?" for c in identifier).strip() or "?"
    if clean == identifier and len(clean) <= MAX_ITEM:
        return clean
    digest = hashlib.sha256(identifier.encode()).hexdigest()[:12]
    return clean[: MAX_ITEM - 13] + "~" + digest


def _number(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def initial_cmi(api: Api, student_id: str, resume: Place | None,
                mastery_score: Decimal | None, *, launch_data: str = "",
                completion_threshold: Decimal | None = None) -> dict[str, Any]:
    """The data model the player loads before the package starts (the object scorm-again's
    ``loadFromJSON`` takes, under ``cmi``): the learner, the saved place, the mastery score."""
    entry = "resume" if resume is not None else "ab-initio"
    if api == "1.2":
        core: dict[str, Any] = {"student_id": student_id, "student_name": student_id,
                                "entry": entry}
        cmi: dict[str, Any] = {"core": core}
        if resume is not None:
            cmi["suspend_data"] = resume.suspend_data
            core["lesson_location"] = resume.location
        if mastery_score is not None:
            cmi["student_data"] = {"mastery_score": _plain(mastery_score * 100)}
        if launch_data:
            cmi["launch_data"] = launch_data
        return cmi
    cmi = {"learner_id": student_id, "learner_name": student_id, "entry": entry}
    if resume is not None:
        cmi["suspend_data"] = resume.suspend_data
        cmi["location"] = resume.location
    if mastery_score is not None:
        cmi["scaled_passing_score"] = _plain(mastery_score)
    if completion_threshold is not None:
        cmi["completion_threshold"] = _plain(completion_threshold)
    if launch_data:
        cmi["launch_data"] = launch_data
    return cmi


def _plain(number: Decimal) -> str:
    """A decimal as SCORM writes numbers: 60, 0.8 (no exponent, no trailing zeros)."""
    return format(number.normalize(), "f")
