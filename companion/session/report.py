"""The guide's report: per student, lesson and attempt, for a period and optionally a class.

Built from the stored run summaries (``store.summaries``), never by classifying journals
again. Minutes are per kind of time (``core.words``); a run counts on the day it started, in
the report's time zone. An *attempt* is a run with at least one answer, or one that
completed: a run that ended (by a crash, say) before any answer still counts its minutes
but is not an attempt. Delivery state comes from the outbox (``store.outbox.by_student``).
Results of the students' other computers, as last read from the gradebook
(``store.remote_results``), count as attempts marked ``elsewhere`` (``report_elsewhere``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Final

from companion.core.catalogue import Catalogue, lesson_state
from companion.core.elsewhere import Fetch
from companion.core.periods import Period, local_day
from companion.core.report import (
    DELIVERED,
    NOTHING,
    REFUSED,
    WAITING,
    Answer,
    Attempt,
    Day,
    Delivery,
    LessonLine,
    MissedQuestion,
    NextLesson,
    Report,
    StudentLine,
    no_minutes,
)
from companion.core.words import TIME_KINDS, TimeKind
from companion.session.closing import backfill_summaries
from companion.session.library import DEFAULT_DAILY_GOAL_XP
from companion.session.report_elsewhere import remote_attempt
from companion.session.signin import full_name
from companion.store import outbox, remote_results, roster, summaries
from companion.store.db import Database
from companion.store.tables import RosterUser

TURNED_OFF_WHY: Final = "turned off in the school's roster"
REMOVED_WHY: Final = "removed from the school's roster"
WHERE_TO_CHANGE: Final = (
    "Ask the school's Timeback administrator to turn the account on in the roster; "
    "this computer picks it up at the next roster refresh."
)
WAITING_TODO: Final = "It goes out by itself when this computer is online; Sync now tries at once."
REFUSED_TODO: Final = "Timeback refused it: `companion outbox list` shows why; ask IT."
UNBUILT_TODO: Final = "Add the student's email in the roster; the events are built then."


def minutes_of(row: summaries.Summary) -> dict[TimeKind, float]:
    """A run's minutes per kind of time."""
    return {
        "focused": row.focused_ms / 60_000,
        "idle": row.idle_ms / 60_000,
        "away": row.away_ms / 60_000,
        "off-task": row.off_task_ms / 60_000,
        "not seen": row.not_seen_ms / 60_000,
    }


def _add(total: dict[TimeKind, float], more: dict[TimeKind, float]) -> None:
    for kind in TIME_KINDS:
        total[kind] += more[kind]


def is_attempt(row: summaries.Summary) -> bool:
    """A run counts as an attempt when it has an answer or completed."""
    return row.questions > 0 or row.completed


# ---------------------------------------------------------------- building


def build_report(
    db: Database,
    period: Period,
    *,
    tz: tzinfo | None,
    class_id: str | None = None,
    catalogue: Catalogue | None = None,
    goal_minutes: float = float(DEFAULT_DAILY_GOAL_XP),
    student_ids: Sequence[str] | None = None,
    others: Fetch | None = None,
) -> Report:
    """The report of ``period`` (days in ``tz``; None: this computer's zone).

    With ``class_id`` every student of the class is listed (those who did not study too);
    without, the students who studied in the period, here or on another computer (or
    ``student_ids``). ``others`` says whether the other computers' results were just read.
    """
    backfill_summaries(db)
    start, end = period.utc_bounds(tz)
    users: dict[str, RosterUser] = {}
    wanted: list[str] | None = None
    if class_id is not None:
        for user in roster.users_in_class(db, class_id, role="student"):
            users[user.sourced_id] = user
        wanted = list(users)
    elif student_ids is not None:
        wanted = list(student_ids)
    rows = summaries.in_range(db, start.isoformat(), end.isoformat(), wanted)
    remote = remote_results.in_range(db, start.isoformat(), end.isoformat(), wanted)
    ids = wanted if wanted is not None else sorted(
        {r.student_id for r in rows} | {r.student_id for r in remote})
    for student_id in ids:
        if student_id not in users:
            found = roster.get_user(db, student_id)
            if found is not None:
                users[student_id] = found
    answers = summaries.answers_in_range(db, start.isoformat(), end.isoformat(), wanted)
    titles = _lesson_titles(db, catalogue)
    deliveries = outbox.by_student(db)
    mastered = summaries.mastered_by_student(db, ids) if catalogue is not None else {}
    per_student: dict[str, list[summaries.Summary]] = defaultdict(list)
    for row in rows:
        per_student[row.student_id].append(row)
    elsewhere: dict[str, list[Attempt]] = defaultdict(list)
    for result in remote:
        attempt = remote_attempt(result, tz)
        if attempt is not None:
            elsewhere[result.student_id].append(attempt)
    lines = [
        _student_line(
            student_id, users.get(student_id), per_student.get(student_id, []), answers,
            titles, deliveries.get(student_id), period, tz, catalogue, goal_minutes,
            mastered.get(student_id, set()), elsewhere.get(student_id, []),
        )
        for student_id in ids
    ]
    lines.sort(key=lambda s: (s.name.casefold(), s.student_id))
    return Report(
        period=period,
        class_id=class_id,
        students=tuple(lines),
        missed=tuple(_most_missed(lines, titles)),
        days=tuple(_class_days(lines, period)),
        goal_minutes=goal_minutes,
        time_zone=str(tz) if tz is not None else "this computer's time zone",
        others=others,
    )


def _lesson_titles(db: Database, catalogue: Catalogue | None) -> dict[str, tuple[str, str]]:
    """lesson id -> (title, course title), from the catalogue or the lessons table."""
    out: dict[str, tuple[str, str]] = {}
    for row in summaries.stored_lessons(db):
        out[row.id] = (row.title or row.id, row.course_title or row.course_id)
    if catalogue is not None:
        for lesson in catalogue.lessons:
            out[lesson.id] = (lesson.title, catalogue.course(lesson.course_id).title)
    return out


def _attempt(
    row: summaries.Summary, answers: dict[str, list[Answer]], tz: tzinfo | None
) -> Attempt:
    started = datetime.fromisoformat(row.started_at).astimezone(tz)
    return Attempt(
        run_id=row.run_id,
        student_id=row.student_id,
        lesson_id=row.lesson_id,
        attempt=row.attempt,
        started=started,
        day=started.date(),
        minutes=minutes_of(row),
        xp=Decimal(row.xp),
        questions=row.questions,
        correct=row.correct,
        completed=row.completed,
        mastered=row.mastered,
        explanation_json=row.explanation,
        answers=tuple(answers.get(row.run_id, ())),
        journal_removed_at=row.journal_removed_at,
    )


def _student_line(
    student_id: str,
    user: RosterUser | None,
    rows: list[summaries.Summary],
    answers: dict[str, list[Answer]],
    titles: dict[str, tuple[str, str]],
    deliveries: outbox.StudentDeliveries | None,
    period: Period,
    tz: tzinfo | None,
    catalogue: Catalogue | None,
    goal_minutes: float,
    mastered: set[str],
    elsewhere: Sequence[Attempt] = (),
) -> StudentLine:
    minutes = no_minutes()
    by_day: dict[date, list[summaries.Summary]] = defaultdict(list)
    by_lesson: dict[str, list[Attempt]] = defaultdict(list)
    attempts: list[Attempt] = []
    for row in rows:
        _add(minutes, minutes_of(row))
        by_day[local_day(datetime.fromisoformat(row.started_at), tz)].append(row)
        if is_attempt(row):
            attempt = _attempt(row, answers, tz)
            attempts.append(attempt)
            by_lesson[row.lesson_id].append(attempt)
    elsewhere_by_day: dict[date, list[Attempt]] = defaultdict(list)
    for attempt in elsewhere:
        elsewhere_by_day[attempt.day].append(attempt)
        attempts.append(attempt)
        by_lesson[attempt.lesson_id].append(attempt)
    if elsewhere:  # in time order, this computer's and the others' together
        attempts.sort(key=lambda a: a.started)
        for items in by_lesson.values():
            items.sort(key=lambda a: a.started)
    xp_elsewhere = sum((a.xp for a in elsewhere), Decimal(0))
    lessons = tuple(
        LessonLine(lesson_id, *titles.get(lesson_id, (lesson_id, "")), tuple(items))
        for lesson_id, items in sorted(
            by_lesson.items(), key=lambda kv: (titles.get(kv[0], (kv[0], ""))[1], kv[0])
        )
    )
    scored = [a.accuracy for a in attempts if a.accuracy is not None]
    can_sign_in = user is not None and roster.user_can_sign_in(user)
    why = None if can_sign_in else (
        "not in this computer's roster" if user is None
        else REMOVED_WHY if user.status == roster.TO_BE_DELETED else TURNED_OFF_WHY
    )
    return StudentLine(
        student_id=student_id,
        name=full_name(user) if user is not None else student_id,
        can_sign_in=can_sign_in,
        disabled_why=why,
        where_to_change=None if can_sign_in else WHERE_TO_CHANGE,
        minutes=minutes,
        xp=sum((Decimal(r.xp) for r in rows), Decimal(0)) + xp_elsewhere,
        attempts=len(attempts),
        best_accuracy=max(scored) if scored else None,
        last_accuracy=scored[-1] if scored else None,
        lessons=lessons,
        days=tuple(_day(d, by_day.get(d, []), elsewhere_by_day.get(d, []))
                   for d in period.days()),
        next_lessons=tuple(_next_lessons(mastered, catalogue)),
        delivery=delivery_of(deliveries),
        goal_minutes=goal_minutes,
        xp_elsewhere=xp_elsewhere,
        attempts_elsewhere=len(elsewhere),
    )


def _day(day: date, rows: Iterable[summaries.Summary], elsewhere: Sequence[Attempt] = ()) -> Day:
    minutes = no_minutes()
    xp = Decimal(0)
    attempts = 0
    lessons: set[str] = set()
    for row in rows:
        _add(minutes, minutes_of(row))
        xp += Decimal(row.xp)
        if is_attempt(row):
            attempts += 1
            lessons.add(row.lesson_id)
    xp_elsewhere = sum((a.xp for a in elsewhere), Decimal(0))
    lessons.update(a.lesson_id for a in elsewhere)
    return Day(day, minutes, xp + xp_elsewhere, attempts + len(elsewhere), len(lessons),
               xp_elsewhere, len(elsewhere))


def _class_days(lines: list[StudentLine], period: Period) -> list[Day]:
    out = []
    for i, day in enumerate(period.days()):
        minutes = no_minutes()
        xp = xp_elsewhere = Decimal(0)
        attempts = lessons = attempts_elsewhere = 0
        for line in lines:
            d = line.days[i]
            _add(minutes, d.minutes)
            xp += d.xp
            attempts += d.attempts
            lessons += d.lessons
            xp_elsewhere += d.xp_elsewhere
            attempts_elsewhere += d.attempts_elsewhere
        out.append(Day(day, minutes, xp, attempts, lessons, xp_elsewhere, attempts_elsewhere))
    return out


def _next_lessons(mastered: set[str], catalogue: Catalogue | None) -> list[NextLesson]:
    if catalogue is None:
        return []
    out = []
    for course in catalogue.courses:
        nxt = next(
            (lesson.title for lesson in catalogue.lessons_in_course(course.id)
             if lesson_state(catalogue, lesson.id, mastered) == "open"),
            None,
        )
        out.append(NextLesson(course.title, nxt))
    return out


def delivery_of(d: outbox.StudentDeliveries | None) -> Delivery:
    """A student's outbox rows as one of delivered, waiting or refused (refused wins)."""
    if d is None:
        return Delivery(NOTHING)
    delivered = d.states.get(outbox.OutboxState.DELIVERED.value, 0)
    refused = d.states.get(outbox.OutboxState.REFUSED.value, 0)
    done = (outbox.OutboxState.DELIVERED.value, outbox.OutboxState.REFUSED.value)
    waiting = sum(n for state, n in d.states.items() if state not in done)
    error = d.errors[0] if d.errors else ""
    if refused:
        return Delivery(REFUSED, error, REFUSED_TODO, waiting + d.unbuilt, refused, delivered)
    if d.unbuilt:
        return Delivery(WAITING, d.unbuilt_reason or "", UNBUILT_TODO, waiting + d.unbuilt, 0,
                        delivered)
    if waiting:
        return Delivery(WAITING, error or "not sent yet", WAITING_TODO, waiting, 0, delivered)
    if delivered:
        return Delivery(DELIVERED, delivered=delivered)
    return Delivery(NOTHING)


def _most_missed(
    lines: list[StudentLine], titles: dict[str, tuple[str, str]]
) -> list[MissedQuestion]:
    """Per lesson, questions by how many students' first answer was wrong, most first."""
    answered: dict[tuple[str, str], set[str]] = defaultdict(set)
    missed: dict[tuple[str, str], set[str]] = defaultdict(set)
    for line in lines:
        for lesson in line.lessons:
            for attempt in lesson.attempts:
                for answer in attempt.answers:
                    key = (lesson.lesson_id, answer.item)
                    answered[key].add(line.student_id)
                    if not answer.correct:
                        missed[key].add(line.student_id)
    out = [
        MissedQuestion(lesson_id, titles.get(lesson_id, (lesson_id, ""))[0], item,
                       len(missed[(lesson_id, item)]), len(who))
        for (lesson_id, item), who in answered.items()
        if missed.get((lesson_id, item))
    ]
    out.sort(key=lambda m: (m.lesson_title, -m.missed_by, m.item))
    return out
