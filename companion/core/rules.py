"""Time classification, XP and mastery (learning-rules.md sections 2-4, 6).

Everything here is a pure function of a journal (a list of `Line`) and its lesson settings.
Times are integer milliseconds; accuracy is a Fraction and XP a Decimal, so that every
comparison the rules make is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from companion.core.journal import JournalError, LessonSettings, Line, validate_run

Category = Literal["active", "inactive", "waste", "unknown"]
CATEGORIES: tuple[Category, ...] = ("active", "inactive", "waste", "unknown")

XP_GATE = Fraction(4, 5)

# A time state that is not attended: (category, subType).
_Mode = tuple[Category, str | None]


@dataclass(frozen=True, slots=True)
class Segment:
    """A half-open stretch [start, end) of run time in one category (and subType)."""

    start: int
    end: int
    category: Category
    sub_type: str | None = None  # idle | locked | suspended | focus-lost[:<app>] | None

    @property
    def length(self) -> int:
        """Milliseconds in the segment."""
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Classification:
    """A run's time, classified.

    ``segments`` are contiguous, ordered, non-empty and cover [start, end) exactly.
    ``end`` is the `end` line's t, the abandonment instant, or ``now`` for an open run.
    ``settled_until`` is the instant up to which no category can change any more
    (== end for a closed run). ``journal_end`` is the `end` line's t (or ``now`` for an
    open run), so that ``journal_end - end`` is the time cut off by abandonment.
    """

    start: int
    end: int
    segments: tuple[Segment, ...]
    abandoned_at: int | None
    settled_until: int
    journal_end: int | None = None
    closed: bool = True  # the journal has its `end` line

    @property
    def cut_ms(self) -> int:
        """Milliseconds after the abandonment instant that count as nothing."""
        return 0 if self.journal_end is None else self.journal_end - self.end

    def total(self, category: Category, start: int | None = None, end: int | None = None) -> int:
        """Milliseconds in ``category``, optionally only within [start, end)."""
        lo = self.start if start is None else start
        hi = self.end if end is None else end
        out = 0
        for seg in self.segments:
            if seg.category != category:
                continue
            a = seg.start if seg.start > lo else lo
            b = seg.end if seg.end < hi else hi
            if b > a:
                out += b - a
        return out

    def totals(self, start: int | None = None, end: int | None = None) -> dict[Category, int]:
        """Milliseconds per category (all four keys), optionally within [start, end)."""
        return {c: self.total(c, start, end) for c in CATEGORIES}

    def clip(self, start: int, end: int) -> tuple[Segment, ...]:
        """The segments cut to [start, end), dropping empty ones."""
        out: list[Segment] = []
        for seg in self.segments:
            a = max(seg.start, start)
            b = min(seg.end, end)
            if b > a:
                out.append(Segment(a, b, seg.category, seg.sub_type))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Score:
    """XP and mastery of a run, with everything needed to explain them."""

    questions: int
    correct: int
    accuracy: Fraction | None
    completed: bool
    abandoned: bool
    active_ms: int
    gate_passed: bool  # accuracy >= 0.80 with n > 0
    multiplier: Fraction
    capped: bool  # expectedXp cut the minutes
    xp: Decimal  # one decimal, rounded down
    mastered: bool
    attempt: int = 1
    minutes: Fraction = Fraction(0)  # active minutes after the expectedXp cap
    expected_xp: Decimal | None = None
    mastery_threshold: Fraction = Fraction(9, 10)
    min_questions: int = 1
    closed: bool = True  # False: an open run, scored as if it completed now
    app_scored: int = 0  # of the ``questions`` first answers: scored by the app (a key)
    content_scored: int = 0  # ... and by the content (the page said right or wrong)


def settings_of(lines: list[Line]) -> LessonSettings:
    """The lesson settings carried by the journal's `start` line."""
    return lines[0].settings or LessonSettings()


class _Builder:
    """Collects segments in order, merging neighbours of equal category and subType."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[list[Any]] = []

    def add(self, start: int, end: int, category: Category, sub_type: str | None) -> None:
        if end <= start:
            return
        items = self.items
        if items:
            last = items[-1]
            if last[2] == category and last[3] == sub_type:
                last[1] = end
                return
        items.append([start, end, category, sub_type])


def _mode(
    focused: bool, app: str | None, sensing: bool, locked: bool, suspended: bool
) -> _Mode | None:
    """The unattended state, or None when the window is attended."""
    if suspended:
        return ("inactive", "suspended")
    if locked:
        return ("inactive", "locked")
    if not focused:
        return ("waste", "focus-lost" if app is None else f"focus-lost:{app}")
    if not sensing:
        return ("unknown", None)
    return None


def classify(lines: list[Line], now: int | None = None) -> Classification:
    """Classify a journal's time (section 2).

    A closed journal (last line `end`) is classified over [start, end); an open one over
    [start, now), where ``now`` defaults to the last line's t and must not be before it.
    Abandonment is detected in both; the result then ends at the abandonment instant.
    """
    validate_run(lines)
    first = lines[0]
    last = lines[-1]
    idle = settings_of(lines).idle_timeout_ms
    closed = last.kind == "end"
    if closed:
        stop = last.t
    else:
        stop = last.t if now is None else now
        if stop < last.t:
            raise ValueError(f"now ({stop}) is before the last line ({last.t})")

    out = _Builder()
    add = out.add
    focused = True
    app: str | None = None
    sensing = True
    locked = False
    suspended = False
    playing = False
    mode: _Mode | None = None  # None: attended
    mode_start = first.t
    last_signal = first.t

    for line in lines[1:]:
        kind = line.kind
        t = line.t
        if kind == "input" or kind == "media":
            if mode is None:
                if t > last_signal:
                    if playing or t - last_signal <= idle:
                        add(last_signal, t, "active", None)
                    else:
                        add(last_signal, t, "inactive", "idle")
                last_signal = t
            if kind == "media":
                playing = bool(line.playing)
            continue
        if kind == "focus":
            focused = bool(line.focused)
            if not focused:
                app = line.app
        elif kind == "sensing":
            sensing = bool(line.available)
        elif kind == "lock":
            locked = True
        elif kind == "unlock":
            locked = False
        elif kind == "suspend":
            suspended = True
        elif kind == "resume":
            suspended = False
        else:  # answer, heartbeat, end: never signals, change nothing
            continue
        new = _mode(focused, app, sensing, locked, suspended)
        if new == mode:
            continue
        if mode is None:  # an attended stretch ends at t
            if t > last_signal:
                if playing or t - last_signal <= idle:
                    add(last_signal, t, "active", None)
                else:
                    add(last_signal, t, "inactive", "idle")
        else:
            add(mode_start, t, mode[0], mode[1])
        mode = new
        mode_start = t
        last_signal = t  # a new stretch begins here (used only when attended)

    settled = stop
    if mode is None:
        gap = stop - last_signal
        if playing or gap <= idle:
            add(last_signal, stop, "active", None)
            if not closed and not playing:
                settled = last_signal
        else:
            add(last_signal, stop, "inactive", "idle")
    else:
        add(mode_start, stop, mode[0], mode[1])

    items = out.items
    abandoned_at = _abandonment(items, settings_of(lines).abandon_after_ms)
    end = stop
    if abandoned_at is not None:
        end = abandoned_at
        settled = abandoned_at
        kept: list[list[Any]] = []
        for item in items:
            if item[0] >= abandoned_at:
                break
            if item[1] > abandoned_at:
                item[1] = abandoned_at
            kept.append(item)
        items = kept
    segments = tuple(Segment(a, b, c, s) for a, b, c, s in items)
    return Classification(
        start=first.t,
        end=end,
        segments=segments,
        abandoned_at=abandoned_at,
        settled_until=settled,
        journal_end=stop,
        closed=closed,
    )


def _abandonment(items: list[list[Any]], abandon_after: int) -> int | None:
    """The first instant a stretch without active or unknown time reaches abandonAfter."""
    run_start: int | None = None
    for start, end, category, _ in items:
        if category == "active" or category == "unknown":
            run_start = None
            continue
        if run_start is None:
            run_start = start
        if end - run_start >= abandon_after:
            return int(run_start + abandon_after)
    return None


def counts_as_attempt(questions: int, completed: bool) -> bool:
    """Whether a closed run used up an attempt: it got at least one answer or completed.

    A run that ended by a crash, a kill or "End lesson" before any answer is not an
    attempt: it does not raise the attempt number of the next run (so the first real
    attempt keeps the first-attempt multiplier), yields no gradebook result and is not
    counted as an attempt anywhere; its time is still reported. The one rule for
    numbering attempts, used by the store, the library, the guide's report and the
    progress merge.
    """
    return questions > 0 or completed


def multiplier_for(attempt: int, accuracy: Fraction) -> Fraction:
    """The XP multiplier of section 3 for a run that passed the 80 % gate."""
    perfect = accuracy == 1
    if attempt <= 1:
        return Fraction(5, 4) if perfect else Fraction(1)
    return Fraction(1) if perfect else Fraction(1, 2)


def score(lines: list[Line], classification: Classification) -> Score:
    """XP and mastery of a run (sections 3 and 4).

    Only the first answer to each item counts, and only answers before the abandonment
    instant. An open journal is scored as if it completed now (``closed`` is False).
    """
    first = lines[0]
    settings = settings_of(lines)
    attempt = first.attempt or 1
    last = lines[-1]
    closed = last.kind == "end"
    abandoned = classification.abandoned_at is not None
    cutoff = classification.abandoned_at
    seen: set[str] = set()
    n = 0
    c = 0
    by_app = 0
    for line in lines:
        if line.kind != "answer":
            continue
        if cutoff is not None and line.t >= cutoff:
            break
        item = line.item or ""
        if item in seen:
            continue
        seen.add(item)
        n += 1
        if line.scored_by == "app":
            by_app += 1
        if line.correct:
            c += 1
    completed = not abandoned and (last.completed is not False if closed else True)
    accuracy = Fraction(c, n) if n else None
    gate = accuracy is not None and accuracy >= XP_GATE
    multiplier = multiplier_for(attempt, accuracy) if accuracy is not None else Fraction(0)
    active_ms = classification.total("active")
    minutes = Fraction(active_ms, 60_000)
    capped = False
    if settings.expected_xp is not None:
        cap = Fraction(settings.expected_xp)
        if minutes > cap:
            minutes = cap
            capped = True
    xp = Decimal("0.0")
    if completed and gate:
        tenths = (minutes * multiplier * 10).__floor__()
        xp = Decimal(tenths).scaleb(-1)
    mastered = (
        completed
        and accuracy is not None
        and n >= settings.min_questions
        and accuracy >= settings.mastery_threshold
    )
    return Score(
        questions=n,
        correct=c,
        accuracy=accuracy,
        completed=completed,
        abandoned=abandoned,
        active_ms=active_ms,
        gate_passed=gate,
        multiplier=multiplier,
        capped=capped,
        xp=xp,
        mastered=mastered,
        attempt=attempt,
        minutes=minutes,
        expected_xp=settings.expected_xp,
        mastery_threshold=settings.mastery_threshold,
        min_questions=settings.min_questions,
        closed=closed,
        app_scored=by_app,
        content_scored=n - by_app,
    )


def _seconds(ms: int) -> float:
    return round(ms / 1000, 3)


def summarize(lines: list[Line]) -> dict[str, Any]:
    """The `replay --json` object of section 5 for a closed journal.

    Raises JournalError when the journal's shape is wrong or it has no `end` line.
    """
    validate_run(lines)
    if lines[-1].kind != "end":
        raise JournalError(len(lines), "the journal has no 'end' line")
    classification = classify(lines)
    result = score(lines, classification)
    totals = classification.totals()
    return {
        "lesson": lines[0].lesson,
        "activeSeconds": _seconds(totals["active"]),
        "inactiveSeconds": _seconds(totals["inactive"]),
        "wasteSeconds": _seconds(totals["waste"]),
        "unknownSeconds": _seconds(totals["unknown"]),
        "questions": result.questions,
        "correct": result.correct,
        "accuracy": None if result.accuracy is None else float(result.accuracy),
        "xp": float(result.xp),
        "mastered": result.mastered,
        "completed": result.completed,
        "abandoned": result.abandoned,
        "appScored": result.app_scored,
        "contentScored": result.content_scored,
    }


def _percent(value: Fraction) -> str:
    pct = value * 100
    if pct.denominator == 1:
        return f"{pct.numerator} %"
    return f"{float(pct):.1f} %"


def _number(value: Fraction | Decimal) -> str:
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    return text or "0"


def explain(result: Score) -> list[str]:
    """Human lines that say how the run's XP and mastery came about."""
    lines: list[str] = []
    active_min = Fraction(result.active_ms, 60_000)
    lines.append(f"Active time: {_number(active_min)} min ({result.active_ms / 1000:g} s)")
    if result.accuracy is None:
        lines.append("Accuracy: no questions answered")
    else:
        lines.append(
            f"Accuracy: {result.correct} of {result.questions} correct "
            f"({_percent(result.accuracy)})"
        )
    if result.abandoned:
        lines.append("Run abandoned: no XP, not mastered")
    elif not result.completed:
        lines.append("Run not completed: no XP, not mastered")
    if result.accuracy is None:
        lines.append("80 % gate: not reached (nothing verified the learning), XP 0")
    elif not result.gate_passed:
        lines.append(f"80 % gate: failed ({_percent(result.accuracy)} < 80 %), XP 0")
    else:
        lines.append(f"80 % gate: passed ({_percent(result.accuracy)} >= 80 %)")
        lines.append(f"Multiplier: ×{_number(result.multiplier)} (attempt {result.attempt})")
    if result.capped and result.expected_xp is not None:
        lines.append(f"Cap: minutes limited to expectedXp {_number(result.expected_xp)}")
    if result.completed and result.gate_passed:
        lines.append(
            f"XP: floor({_number(result.minutes)} × {_number(result.multiplier)} × 10) / 10"
            f" = {result.xp}"
        )
    else:
        lines.append(f"XP: {result.xp}")
    if result.mastered:
        lines.append(
            f"Mastered: yes (accuracy >= {_percent(result.mastery_threshold)}, "
            f"{result.questions} >= {result.min_questions} questions)"
        )
    else:
        lines.append(f"Mastered: no ({_mastery_reason(result)})")
    if not result.closed:
        lines.append("The run is still open: figures so far, as if it completed now")
    return lines


def _mastery_reason(result: Score) -> str:
    if not result.completed:
        return "the run did not complete"
    if result.accuracy is None:
        return "no questions answered"
    if result.questions < result.min_questions:
        return f"{result.questions} of {result.min_questions} required questions"
    return f"accuracy below {_percent(result.mastery_threshold)}"
