"""What a lesson run produces, as pure values: its events, result, progress and summary.

The run use case (``companion.session``) classifies a journal once and hands the lines,
the classification and the facts it read (the run, its lesson, the roster user) to these
functions; the store then writes what they return, in one transaction. Nothing here reads
a clock or a database: the wall clock appears only as the run's anchor.

Who the events are about (``actor_of``): a roster user with an email, as a Caliper actor
whose role is one of the profile's roles. Without an email, or with the user missing from
the roster, no event can name them: the run closes, keeps the reason, and its events are
built later (``final_delivery`` again) once the roster has the email.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from companion.core import caliper, rules, timespent
from companion.core.caliper import ActivityInfo, Actor, AppInfo, MissingEmail, RunInfo
from companion.core.journal import Line
from companion.core.report import Answer
from companion.core.results import ProgressFacts, run_result_envelope
from companion.core.words import kind_of

DEFAULT_WINDOW_MS = 300_000
NO_EMAIL = "no email in roster"
NOT_IN_ROSTER = "student not in roster"


@dataclass(frozen=True, slots=True)
class EventContext:
    """What events need besides the run: this app and the OneRoster base URL."""

    oneroster_base: str
    app: AppInfo = field(default=caliper.DEFAULT_APP)
    window_ms: int = DEFAULT_WINDOW_MS


@dataclass(frozen=True, slots=True)
class RosterPerson:
    """A roster user as events need them: id, email, name and OneRoster role."""

    sourced_id: str
    email: str | None
    given_name: str | None = None
    family_name: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class LessonFacts:
    """The stored lesson a run belongs to (ids, titles and subject)."""

    id: str
    title: str
    course_id: str
    course_title: str
    subject: str


@dataclass(frozen=True, slots=True)
class RunFacts:
    """Who, what and when of a run: what its events and result carry besides numbers."""

    run_id: str
    student_id: str
    lesson_id: str
    attempt: int
    anchor: datetime  # the run's wall-clock start, timezone-aware


# ---------------------------------------------------------------- who and what


def caliper_role(raw: str | None) -> str:
    """A OneRoster role as one of the Caliper profile's roles (student when unsure)."""
    role = (raw or "student").strip()
    if role == "administrator":
        return "admin"
    return role if role in caliper.ROLES else "student"


def actor_of(person: RosterPerson | None, oneroster_base: str) -> tuple[Actor | None, str | None]:
    """The roster user as an event actor, or (None, why not) when events cannot name them."""
    if person is None:
        return None, NOT_IN_ROSTER
    if not person.email or not person.email.strip():
        return None, NO_EMAIL
    name = " ".join(p for p in (person.given_name, person.family_name) if p) or None
    actor = Actor(
        user_url=caliper.user_url(oneroster_base, person.sourced_id),
        email=person.email.strip(),
        role=caliper_role(person.role),
        name=name,
    )
    return actor, None


def activity_of(lesson: LessonFacts, oneroster_base: str) -> ActivityInfo:
    """The lesson and its course as events name them (an unknown subject is "None")."""
    subject = lesson.subject if lesson.subject in caliper.SUBJECTS else "None"
    return ActivityInfo(
        subject=subject,
        course_id_url=caliper.course_url(oneroster_base, lesson.course_id or lesson.id),
        course_name=lesson.course_title or lesson.course_id,
        activity_id_url=caliper.component_url(oneroster_base, lesson.id),
        activity_name=lesson.title or lesson.id,
    )


def run_info(run: RunFacts, actor: Actor, lesson: LessonFacts, ctx: EventContext) -> RunInfo:
    """Everything the run's events carry besides the measured numbers."""
    return RunInfo(
        run_id=run.run_id,
        anchor=run.anchor,
        attempt=run.attempt,
        actor=actor,
        activity=activity_of(lesson, ctx.oneroster_base),
        app=ctx.app,
    )


# ---------------------------------------------------------------- time spent


@dataclass(frozen=True, slots=True)
class TimeReport:
    """TimeSpentEvents due now, and how far the run is reported once they are stored."""

    events: tuple[dict[str, Any], ...]
    reported_until_ms: int


def time_spent_report(
    info: RunInfo,
    classification: rules.Classification,
    reported_until_ms: int,
    window_ms: int,
    final: bool,
) -> TimeReport:
    """The TimeSpentEvents of the windows due now (``timespent.due_windows``); nothing due
    leaves ``reported_until_ms`` as it was. Raises MissingEmail when the actor has none."""
    windows = timespent.due_windows(classification, reported_until_ms, window_ms, final)
    events = tuple(
        caliper.time_spent_event(info, s, e, timespent.window_totals(classification, s, e))
        for s, e in windows
    )
    return TimeReport(events, windows[-1][1] if windows else reported_until_ms)


# ---------------------------------------------------------------- the final events


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a closed run sends: events, the gradebook result, or why not yet."""

    events: tuple[dict[str, Any], ...] = ()
    result: dict[str, Any] | None = None  # the AssessmentResult's outbox envelope
    reported_until_ms: int = 0
    pending_reason: str | None = None


def final_delivery(
    run: RunFacts,
    classification: rules.Classification,
    score: rules.Score,
    person: RosterPerson | None,
    lesson: LessonFacts,
    ctx: EventContext,
    reported_until_ms: int,
) -> Delivery:
    """The closed run's remaining TimeSpentEvents, its ActivityEvent and its gradebook
    result (none for a run without answers); or nothing, with the reason, when the roster
    cannot name the student yet."""
    actor, reason = actor_of(person, ctx.oneroster_base)
    if actor is None:
        return Delivery(reported_until_ms=reported_until_ms, pending_reason=reason)
    info = run_info(run, actor, lesson, ctx)
    try:
        report = time_spent_report(
            info, classification, reported_until_ms, ctx.window_ms, final=True
        )
        activity = caliper.activity_completed_event(
            info,
            classification.end,
            score.questions,
            score.correct,
            score.xp,
            score.mastered,
            score.app_scored,
            score.content_scored,
        )
    except MissingEmail:
        return Delivery(reported_until_ms=reported_until_ms, pending_reason=NO_EMAIL)
    result = run_result_envelope(
        ctx.app.app_id,
        run.student_id,
        run.lesson_id,
        run.run_id,
        run.anchor,
        score,
        classification.end,
    )
    return Delivery((*report.events, activity), result, report.reported_until_ms, None)


# ---------------------------------------------------------------- progress and summary


@dataclass(frozen=True, slots=True)
class RunProgress:
    """What a closed run adds to its student's progress in the lesson."""

    attempt: int
    counts_as_attempt: bool
    xp: Decimal
    accuracy: float | None
    mastered: bool
    when: str  # UTC ISO text of the run's end


def run_progress(run: RunFacts, score: rules.Score, when: str) -> RunProgress:
    """The progress a closed run brings (``rules.counts_as_attempt`` decides the attempt)."""
    return RunProgress(
        attempt=run.attempt,
        counts_as_attempt=rules.counts_as_attempt(score.questions, score.completed),
        xp=score.xp,
        accuracy=None if score.accuracy is None else float(score.accuracy),
        mastered=score.mastered,
        when=when,
    )


def progress_after(before: ProgressFacts, run: RunProgress) -> ProgressFacts:
    """Progress with a closed run added: attempts only for an attempt, XP summed, the best
    accuracy kept, mastered once and for good (dated by the first mastering run)."""
    attempts = max(before.attempts, run.attempt) if run.counts_as_attempt else before.attempts
    best = before.best_accuracy
    if run.accuracy is not None and (best is None or run.accuracy > best):
        best = run.accuracy
    mastered, mastered_at = before.mastered, before.mastered_at
    if run.mastered and not before.mastered:
        mastered, mastered_at = True, run.when
    return ProgressFacts(
        mastered=mastered,
        attempts=attempts,
        best_accuracy=best,
        total_xp=before.total_xp + run.xp,
        mastered_at=mastered_at,
    )


def first_answers(lines: Sequence[Line], classification: rules.Classification) -> list[Answer]:
    """The answers that count, in order: the first per item, before any abandonment
    (the same ones ``rules.score`` counts)."""
    cutoff = classification.abandoned_at
    seen: set[str] = set()
    out: list[Answer] = []
    for line in lines:
        if line.kind != "answer":
            continue
        if cutoff is not None and line.t >= cutoff:
            break
        item = line.item or ""
        if item in seen:
            continue
        seen.add(item)
        out.append(Answer(item, bool(line.correct)))
    return out


@dataclass(frozen=True, slots=True)
class RunSummary:
    """What reports read of a closed run: minutes by kind, answers, XP, the explanation."""

    focused_ms: int
    idle_ms: int
    away_ms: int
    off_task_ms: int
    not_seen_ms: int
    questions: int
    correct: int
    xp: Decimal
    completed: bool
    abandoned: bool
    mastered: bool
    explanation: tuple[str, ...]
    answers: tuple[Answer, ...]


def summary_of(
    lines: Sequence[Line], classification: rules.Classification, score: rules.Score
) -> RunSummary:
    """The stored summary of a closed run (per-question results: item and right or wrong)."""
    ms = {"focused": 0, "idle": 0, "away": 0, "off-task": 0, "not seen": 0}
    for segment in classification.segments:
        ms[kind_of(segment)] += segment.length
    return RunSummary(
        focused_ms=ms["focused"],
        idle_ms=ms["idle"],
        away_ms=ms["away"],
        off_task_ms=ms["off-task"],
        not_seen_ms=ms["not seen"],
        questions=score.questions,
        correct=score.correct,
        xp=score.xp,
        completed=score.completed,
        abandoned=score.abandoned,
        mastered=score.mastered,
        explanation=tuple(rules.explain(score)),
        answers=tuple(first_answers(lines, classification)),
    )


def closed_at(anchor: datetime, classification: rules.Classification) -> str:
    """When a closed run ended on the wall clock (UTC ISO text): anchor + its end."""
    return (anchor + timedelta(milliseconds=classification.end)).isoformat()


# ---------------------------------------------------------------- closing


@dataclass(frozen=True, slots=True)
class CloseOutcome:
    """Everything closing a run produces, computed once, for the store to write at once."""

    run: RunFacts
    end: Line  # the `end` line to append
    lines: int  # journal lines before the `end` line (the store checks it has them all)
    classification: rules.Classification
    score: rules.Score
    delivery: Delivery
    closed_at: str
    progress: RunProgress
    summary: RunSummary


def close_outcome(
    run: RunFacts,
    lines: Sequence[Line],
    end: Line,
    person: RosterPerson | None,
    lesson: LessonFacts,
    ctx: EventContext,
    reported_until_ms: int,
) -> CloseOutcome:
    """Close the journal ``lines`` with ``end`` and compute what the run produces: the
    journal is classified and scored once, here.

    Raises ValueError for an ``end`` that is not an `end` line or goes back in time.
    """
    if end.kind != "end":
        raise ValueError(f"a run closes with an 'end' line, not {end.kind!r}")
    if not lines:
        raise ValueError("a journal has at least its 'start' line")
    if end.t < lines[-1].t:
        raise ValueError(f"cannot close at {end.t} ms, before the last line ({lines[-1].t} ms)")
    journal = [*lines, end]
    classification = rules.classify(journal)
    score = rules.score(journal, classification)
    when = closed_at(run.anchor, classification)
    return CloseOutcome(
        run=run,
        end=end,
        lines=len(lines),
        classification=classification,
        score=score,
        delivery=final_delivery(run, classification, score, person, lesson, ctx, reported_until_ms),
        closed_at=when,
        progress=run_progress(run, score, when),
        summary=summary_of(journal, classification, score),
    )
