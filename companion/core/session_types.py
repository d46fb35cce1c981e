"""What a lesson run shows the windows: the run's handle, live figures, the summary, and the
errors a start can meet. Plain values, shared by the run use case and the windows (which
never import ``session`` or ``store``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

from companion.core import rules
from companion.core.catalogue import Lesson
from companion.core.journal import Line
from companion.core.words import kind_of


class RunAlreadyOpen(Exception):
    """This computer already has an open run (one run at a time per computer)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} is still open; close it first")
        self.run_id = run_id


LiveState = Literal["active", "idle", "away", "off-task", "unknown"]


class LessonLocked(Exception):
    """The lesson cannot be opened yet: ``required`` must be mastered first."""

    def __init__(self, lesson: Lesson, required: Lesson) -> None:
        super().__init__(f"Master '{required.title}' to unlock '{lesson.title}'")
        self.lesson = lesson
        self.required = required


class NoOpenRun(RuntimeError):
    """The controller has no run (start one first, or it has already ended)."""


@dataclass(frozen=True, slots=True)
class RunHandle:
    """The run the controller has open."""

    run_id: str
    student_id: str
    lesson: Lesson
    attempt: int
    started_at: datetime  # UTC


@dataclass(frozen=True, slots=True)
class LiveStats:
    """Figures for the session window's status line, as the rules see the run right now."""

    focused_s: int  # active seconds that count whatever happens next (never decreases)
    state: LiveState
    answered: int
    correct: int
    accuracy: float | None  # None before the first answer
    elapsed_s: int = 0
    # seconds since the last input that count only if the student carries on before the
    # idle timeout (idle is retroactive: the whole gap then becomes idle)
    pending_s: int = 0
    idle_in_s: int | None = None  # seconds until the quiet gap turns idle; None if not quiet


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """What the end-of-lesson screen shows, with lines that explain the XP."""

    run_id: str
    lesson: Lesson
    completed: bool
    abandoned: bool
    active_ms: int
    focused_minutes: float  # active minutes (before the expectedXp cap)
    questions: int
    correct: int
    accuracy: float | None
    gate_passed: bool
    multiplier: float
    capped: bool
    xp: Decimal
    mastered: bool
    next_unlocked: Lesson | None  # the lesson this mastery opens, if any
    explain: tuple[str, ...]
    reason: str | None = None  # why the run ended early (abandonment), if it did
    # time that did not count, in ms by kind (core.words): "off-task", "idle", "away",
    # "not seen"
    not_counted_ms: tuple[tuple[str, int], ...] = ()


def not_counted(classification: rules.Classification) -> tuple[tuple[str, int], ...]:
    """The run's time that earned nothing, by kind in the student's words, largest first."""
    kinds: dict[str, int] = {}
    for seg in classification.segments:
        kind = kind_of(seg)  # the one word list (core.words)
        if kind == "focused":
            continue
        kinds[kind] = kinds.get(kind, 0) + seg.end - seg.start
    return tuple(sorted(((k, v) for k, v in kinds.items() if v > 0), key=lambda kv: -kv[1]))


@dataclass(frozen=True, slots=True)
class TickResult:
    """The outcome of one tick.

    When ``abandoned`` is True the run has been closed (``summary`` says how), ``reason``
    says why in words for the student, and the UI must sign the student out.
    """

    lines: tuple[Line, ...]
    live: LiveStats
    abandoned: bool = False
    reason: str | None = None
    summary: SessionSummary | None = None
    reported: int = 0  # TimeSpentEvents written this tick

    @property
    def sign_out(self) -> bool:
        """Whether the UI must sign the student out now."""
        return self.abandoned
