"""The activity journal (learning-rules.md section 1): its lines, parsing and export.

Times are integer milliseconds from the start of the run, so that every comparison the
rules make is exact (journal ``t`` values carry at most three decimals).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal, get_args

# Who said an answer was right (spec section 1, ``scoredBy``): the app, against a key it holds,
# or the content (the lesson page or package).
APP = "app"
CONTENT = "content"
SCORERS = frozenset({APP, CONTENT})

Kind = Literal[
    "start",
    "input",
    "focus",
    "sensing",
    "lock",
    "unlock",
    "suspend",
    "resume",
    "media",
    "answer",
    "score",
    "heartbeat",
    "end",
]
KINDS: frozenset[str] = frozenset(get_args(Kind))

DEFAULT_IDLE_TIMEOUT_MS = 120_000
DEFAULT_ABANDON_AFTER_MS = 600_000
DEFAULT_MASTERY_THRESHOLD = Fraction(9, 10)
DEFAULT_MIN_QUESTIONS = 1


class JournalNotSaved(Exception):
    """A journal line could not be saved (the disk is full): everything before it is kept.
    ``str()`` is a message for the student or guide."""


class JournalError(ValueError):
    """A journal line that cannot be read. ``line_no`` is 1-based, 0 when not known."""

    def __init__(self, line_no: int, reason: str) -> None:
        super().__init__(f"line {line_no}: {reason}" if line_no else reason)
        self.line_no = line_no
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LessonSettings:
    """The per-lesson settings of the spec; every field has the spec's default."""

    idle_timeout_ms: int = DEFAULT_IDLE_TIMEOUT_MS
    abandon_after_ms: int = DEFAULT_ABANDON_AFTER_MS
    expected_xp: Decimal | None = None
    mastery_threshold: Fraction = DEFAULT_MASTERY_THRESHOLD
    min_questions: int = DEFAULT_MIN_QUESTIONS

    def to_json(self) -> dict[str, Any]:
        """The settings as journal/lesson.json fields (camelCase, seconds)."""
        out: dict[str, Any] = {
            "idleTimeout": ms_to_seconds(self.idle_timeout_ms),
            "abandonAfter": ms_to_seconds(self.abandon_after_ms),
            "masteryThreshold": float(self.mastery_threshold),
            "minQuestions": self.min_questions,
        }
        if self.expected_xp is not None:
            out["expectedXp"] = _plain_number(self.expected_xp)
        return out

    @staticmethod
    def from_json(obj: dict[str, Any], line_no: int = 0) -> LessonSettings:
        """Read the camelCase settings fields of a `start` line or a lesson.json."""
        s = LessonSettings()
        if "idleTimeout" in obj:
            s = replace(s, idle_timeout_ms=_positive_ms(obj["idleTimeout"], "idleTimeout", line_no))
        if "abandonAfter" in obj:
            s = replace(
                s, abandon_after_ms=_positive_ms(obj["abandonAfter"], "abandonAfter", line_no)
            )
        if obj.get("expectedXp") is not None:
            xp = _decimal(obj["expectedXp"], "expectedXp", line_no)
            if xp < 0:
                raise JournalError(line_no, "expectedXp must not be negative")
            s = replace(s, expected_xp=xp)
        if "masteryThreshold" in obj:
            th = Fraction(_decimal(obj["masteryThreshold"], "masteryThreshold", line_no))
            if not 0 <= th <= 1:
                raise JournalError(line_no, "masteryThreshold must be between 0 and 1")
            s = replace(s, mastery_threshold=th)
        if "minQuestions" in obj:
            mq = obj["minQuestions"]
            if isinstance(mq, bool) or not isinstance(mq, int) or mq < 0:
                raise JournalError(line_no, "minQuestions must be a whole number >= 0")
            s = replace(s, min_questions=mq)
        return s


@dataclass(frozen=True, slots=True)
class Line:
    """One journal observation. Only the fields of its kind are set."""

    t: int  # milliseconds since the run started
    kind: Kind
    lesson: str | None = None  # start
    settings: LessonSettings | None = None  # start
    attempt: int | None = None  # start
    focused: bool | None = None  # focus
    app: str | None = None  # focus
    available: bool | None = None  # sensing
    playing: bool | None = None  # media
    item: str | None = None  # answer
    correct: bool | None = None  # answer
    scored_by: str | None = None  # answer: "app", or None for the content (the default)
    completed: bool | None = None  # end
    scaled: Decimal | None = None  # score: shown, never used for XP or mastery

    def to_json(self) -> dict[str, Any]:
        """The line in the export format of spec section 1."""
        out: dict[str, Any] = {"t": ms_to_seconds(self.t), "kind": self.kind}
        if self.kind == "start":
            out["lesson"] = self.lesson
            if self.settings is not None:
                out.update(self.settings.to_json())
            if self.attempt is not None:
                out["attempt"] = self.attempt
        elif self.kind == "focus":
            out["focused"] = self.focused
            if self.app is not None:
                out["app"] = self.app
        elif self.kind == "sensing":
            out["available"] = self.available
        elif self.kind == "media":
            out["playing"] = self.playing
        elif self.kind == "answer":
            out["item"] = self.item
            out["correct"] = self.correct
            out["scoredBy"] = self.scored_by or CONTENT
        elif self.kind == "score":
            out["scaled"] = _plain_number(self.scaled if self.scaled is not None else Decimal(0))
        elif self.kind == "end" and self.completed is not None:
            out["completed"] = self.completed
        return out


def ms_to_seconds(ms: int) -> float | int:
    """Milliseconds as seconds for JSON: an int when whole, else a float with <= 3 decimals."""
    if ms % 1000 == 0:
        return ms // 1000
    return float(Decimal(ms) / 1000)


def seconds_to_ms(value: Any, what: str = "t", line_no: int = 0) -> int:
    """Seconds (int, float or numeric string with at most three decimals) as exact ms."""
    d = _decimal(value, what, line_no)
    ms = d * 1000
    if ms != ms.to_integral_value():
        raise JournalError(line_no, f"{what} has more than three decimals: {value!r}")
    return int(ms)


def parse_line(obj: Any, line_no: int = 0) -> Line:
    """Validate one decoded JSON object as a journal line."""
    if not isinstance(obj, dict):
        raise JournalError(line_no, "a journal line must be a JSON object")
    kind = obj.get("kind")
    if not isinstance(kind, str):
        raise JournalError(line_no, "missing 'kind'")
    if kind not in KINDS:
        raise JournalError(line_no, f"unknown kind {kind!r}")
    if "t" not in obj:
        raise JournalError(line_no, "missing 't'")
    t = seconds_to_ms(obj["t"], "t", line_no)
    if t < 0:
        raise JournalError(line_no, "'t' must not be negative")
    if kind == "start":
        lesson = obj.get("lesson")
        if not isinstance(lesson, str) or not lesson:
            raise JournalError(line_no, "start needs a 'lesson' string")
        attempt = obj.get("attempt", 1)
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
            raise JournalError(line_no, "'attempt' must be a whole number >= 1")
        settings = LessonSettings.from_json(obj, line_no)
        return Line(t, "start", lesson=lesson, settings=settings, attempt=attempt)
    if kind == "focus":
        app = obj.get("app")
        if app is not None and not isinstance(app, str):
            raise JournalError(line_no, "'app' must be a string")
        return Line(t, "focus", focused=_bool(obj, "focused", line_no), app=app)
    if kind == "sensing":
        return Line(t, "sensing", available=_bool(obj, "available", line_no))
    if kind == "media":
        return Line(t, "media", playing=_bool(obj, "playing", line_no))
    if kind == "answer":
        item = obj.get("item")
        if not isinstance(item, str) or not item:
            raise JournalError(line_no, "answer needs an 'item' string")
        scored_by = obj.get("scoredBy", CONTENT)
        if scored_by not in SCORERS:
            raise JournalError(line_no, "'scoredBy' must be \"app\" or \"content\"")
        return Line(t, "answer", item=item, correct=_bool(obj, "correct", line_no),
                    scored_by=APP if scored_by == APP else None)
    if kind == "score":
        if "scaled" not in obj:
            raise JournalError(line_no, "score needs 'scaled'")
        scaled = _decimal(obj["scaled"], "scaled", line_no)
        if not -1 <= scaled <= 1:
            raise JournalError(line_no, "'scaled' must be from -1 to 1")
        return Line(t, "score", scaled=scaled)
    if kind == "end":
        completed = obj.get("completed", True)
        if not isinstance(completed, bool):
            raise JournalError(line_no, "'completed' must be true or false")
        return Line(t, "end", completed=completed)
    return Line(t, kind)  # type: ignore[arg-type]  # kind is one of KINDS


def parse_jsonl(text_lines: Iterable[str]) -> Iterator[Line]:
    """Parse JSON Lines; blank lines are skipped. Raises JournalError naming the line."""
    last_t = -1
    for no, raw in enumerate(text_lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise JournalError(no, f"not valid JSON ({exc.msg})") from None
        line = parse_line(obj, no)
        if line.t < last_t:
            raise JournalError(no, "'t' goes backwards")
        last_t = line.t
        yield line


def validate_run(lines: list[Line]) -> None:
    """Check the shape of a whole journal: one `start` first, at most one `end`, last."""
    if not lines or lines[0].kind != "start":
        raise JournalError(1, "a journal must begin with a 'start' line")
    for i, line in enumerate(lines[1:], start=2):
        if line.kind == "start":
            raise JournalError(i, "a second 'start' line")
        if line.kind == "end" and i != len(lines):
            raise JournalError(i, "lines after 'end'")


def dumps_jsonl(lines: Iterable[Line]) -> str:
    """The journal in the replay format: one JSON object a line."""
    return "".join(json.dumps(line.to_json(), ensure_ascii=False) + "\n" for line in lines)


def _bool(obj: dict[str, Any], key: str, line_no: int) -> bool:
    value = obj.get(key)
    if not isinstance(value, bool):
        raise JournalError(line_no, f"'{key}' must be true or false")
    return value


def _decimal(value: Any, what: str, line_no: int) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise JournalError(line_no, f"{what} must be a number")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise JournalError(line_no, f"{what} must be a number") from None
    if not d.is_finite():
        raise JournalError(line_no, f"{what} must be a finite number")
    return d


def _positive_ms(value: Any, what: str, line_no: int) -> int:
    ms = seconds_to_ms(value, what, line_no)
    if ms <= 0:
        raise JournalError(line_no, f"{what} must be positive")
    return ms


def _plain_number(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)
