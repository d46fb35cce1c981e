"""The report as table rows, for CSV files and the printed page (columns in the README).

``student_day_rows``: one row per student and day of the period; ``attempt_rows``: one row
per attempt. Minutes have one decimal, accuracy is a whole percentage, empty when nothing
was answered. Results of the students' other computers are included and marked: the
``xp elsewhere`` part of a day's XP, an attempt's ``source``, the guide's "other computers"
column; their minutes are not known here (empty).
"""

from __future__ import annotations

from decimal import Decimal

from companion.core import elsewhere
from companion.core.elsewhere import OTHER_COMPUTER, THIS_COMPUTER
from companion.core.report import Attempt, Report, StudentLine
from companion.core.words import TIME_KINDS

MINUTE_COLUMNS = tuple(f"{kind} minutes" for kind in TIME_KINDS)

STUDENT_DAY_COLUMNS: tuple[str, ...] = (
    "date", "student id", "student", *MINUTE_COLUMNS, "daily goal minutes", "goal met",
    "xp", "xp elsewhere", "attempts", "lessons", "delivery",
)

ATTEMPT_COLUMNS: tuple[str, ...] = (
    "date", "started", "student id", "student", "course", "lesson id", "lesson", "attempt",
    "source", *MINUTE_COLUMNS, "xp", "questions", "correct", "accuracy", "completed", "mastered",
    "right", "wrong", "xp explanation", "journal",
)

STUDENT_COLUMNS: tuple[str, ...] = (
    "student", "lessons", "mastered", "focused minutes", "goal days", "idle", "away",
    "off-task", "not seen", "xp", "best", "last", "attempts", "other computers", "delivery",
)
"""The columns of the table the guide sees (and the printed page)."""


def minutes(value: float) -> str:
    """Minutes with one decimal."""
    return f"{value:.1f}"


def percent(value: float | None) -> str:
    """A ratio as a whole percentage, or "" when there is none."""
    return "" if value is None else f"{round(value * 100)} %"


def xp_text(value: Decimal) -> str:
    """XP as stored (one decimal)."""
    return str(value.quantize(Decimal("0.1")))


def yes_no(flag: bool) -> str:
    """"yes" or "no"."""
    return "yes" if flag else "no"


def elsewhere_text(line: StudentLine) -> str:
    """The part of a student's figures from other computers, e.g. "2 attempts · 12.0 XP"."""
    if not line.attempts_elsewhere and not line.xp_elsewhere:
        return ""
    n = line.attempts_elsewhere
    attempts = "1 attempt" if n == 1 else f"{n} attempts"
    return f"{attempts} · {xp_text(line.xp_elsewhere)} XP"


def source_text(attempt: Attempt) -> str:
    """"this computer" or "other computer"."""
    return OTHER_COMPUTER if attempt.elsewhere else THIS_COMPUTER


def _journal_text(a: Attempt) -> str:
    if a.elsewhere:
        return "on the other computer"
    return f"removed on {a.journal_removed_at[:10]}" if a.journal_removed_at else "kept"


def others_status(report: Report, *, fetching: bool = False) -> str:
    """Whether the report includes the other computers' results, why not, or that they are
    being read ("" when nobody asked the gradebook)."""
    if fetching:
        return elsewhere.FETCHING_TEXT
    return report.others.text() if report.others is not None else ""


def others_text(report: Report) -> str:
    """``others_status`` and the legend of the "elsewhere" mark when any figure has one."""
    parts = [others_status(report)] if others_status(report) else []
    if report.has_elsewhere:
        parts.append(elsewhere.LEGEND)
    return ". ".join(parts)


def student_cells(line: StudentLine) -> list[str]:
    """One student's row of the guide's table (STUDENT_COLUMNS)."""
    m = line.minutes
    studied = line.days_studied
    return [
        line.name,
        str(line.lessons_studied),
        str(line.lessons_mastered),
        minutes(m["focused"]),
        f"{line.days_goal_met} of {studied}" if studied else "0",
        minutes(m["idle"]),
        minutes(m["away"]),
        minutes(m["off-task"]),
        minutes(m["not seen"]),
        xp_text(line.xp),
        percent(line.best_accuracy) or "–",
        percent(line.last_accuracy) or "–",
        str(line.attempts),
        elsewhere_text(line) or "–",
        line.delivery.text(),
    ]


def student_day_rows(report: Report) -> list[list[str]]:
    """One row per student and day (STUDENT_DAY_COLUMNS), by student then day."""
    rows = []
    for line in report.students:
        for day in line.days:
            rows.append([
                day.day.isoformat(),
                line.student_id,
                line.name,
                *(minutes(day.minutes[kind]) for kind in TIME_KINDS),
                minutes(report.goal_minutes),
                yes_no(day.minutes["focused"] >= report.goal_minutes),
                xp_text(day.xp),
                xp_text(day.xp_elsewhere),
                str(day.attempts),
                str(day.lessons),
                line.delivery.text(),
            ])
    return rows


def attempt_rows(report: Report) -> list[list[str]]:
    """One row per attempt (ATTEMPT_COLUMNS), by student, then time."""
    rows = []
    for line in report.students:
        attempts = sorted(
            ((lesson, a) for lesson in line.lessons for a in lesson.attempts),
            key=lambda pair: pair[1].started,
        )
        for lesson, a in attempts:
            rows.append([
                a.day.isoformat(),
                a.started.strftime("%H:%M"),
                line.student_id,
                line.name,
                lesson.course_title,
                lesson.lesson_id,
                lesson.title,
                str(a.attempt),
                source_text(a),
                *("" if a.elsewhere else minutes(a.minutes[kind]) for kind in TIME_KINDS),
                xp_text(a.xp),
                str(a.questions),
                str(a.correct),
                percent(a.accuracy),
                yes_no(a.completed),
                yes_no(a.mastered),
                " ".join(x.item for x in a.answers if x.correct),
                " ".join(x.item for x in a.answers if not x.correct),
                " | ".join(a.explanation),
                _journal_text(a),
            ])
    return rows
