"""The guide's report includes a student's results from other computers, marked as such.

Real parts: the embedded sandbox on loopback, this computer's SQLite file, results written
to the sandbox's gradebook by this computer (through its outbox) and "by another computer"
(a PUT of the AssessmentResult another computer would write).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date
from decimal import Decimal
from pathlib import Path

import pytest

from companion.core import elsewhere, periods, results
from companion.core.report_rows import (
    ATTEMPT_COLUMNS,
    STUDENT_COLUMNS,
    STUDENT_DAY_COLUMNS,
    attempt_rows,
    others_text,
    student_cells,
    student_day_rows,
)
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.session.report import build_report
from companion.store import remote_results
from companion.store.db import Database
from companion.sync.other_computers import fetch_other_computers
from companion.sync.progress_sync import sync_progress
from companion.timeback import GradebookClient
from tests.results.helpers import (
    APP_ID,
    CATALOGUE,
    LESSON_1,
    LESSON_2,
    PERFECT,
    STUDENT,
    client_for,
    deliver_all,
    open_computer,
    study,
)

DAY = periods.Period(date(2026, 1, 5), date(2026, 1, 5))
OTHER_RUN = "7f1d7c1e-0000-4000-8000-00000000b001"
OTHER_COMPUTER = "Room 12 / PC 3"


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


@pytest.fixture
def here(tmp_path: Path) -> Iterator[Database]:
    db = open_computer(tmp_path / "here" / "companion-sandbox.sqlite3")
    yield db
    db.close()


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[GradebookClient]:
    with client_for(sandbox.base_url) as gradebook:
        for lesson in CATALOGUE.lessons:
            gradebook.put_line_item(results.line_item_payload(APP_ID, lesson, "demo-course-1"))
        yield gradebook


def post_from_another_computer(client: GradebookClient, xp: str = "12.5") -> dict[str, object]:
    """The result another computer writes for a mastered attempt at lesson 2 at 11:00."""
    run = results.RunResult(APP_ID, STUDENT, LESSON_2, OTHER_RUN, "2026-01-05T11:00:00.000Z")
    payload = results.result_payload(run, PERFECT)
    payload["metadata"] = {**payload["metadata"], "xp": float(xp), "computer": OTHER_COMPUTER}
    return client.put_result(payload)


def rows_as_dicts(columns: tuple[str, ...], rows: list[list[str]]) -> list[dict[str, str]]:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(columns)
    writer.writerows(rows)
    return list(csv.DictReader(io.StringIO(text.getvalue())))


def test_another_computers_result_is_in_the_report_marked_and_ours_counts_once(
    here: Database, client: GradebookClient
) -> None:
    mine = study(here, LESSON_1, correct=5)  # this computer: mastered, 10 XP, delivered
    assert sum(p.sent for p in deliver_all(here, client)) == 1
    post_from_another_computer(client)
    assert len(client.results_for_student(STUDENT)) == 2  # the gradebook has both

    fetched = fetch_other_computers(here, client, [STUDENT])
    assert fetched == elsewhere.Fetch(True, students=1)
    kept = remote_results.for_student(here, STUDENT)
    assert [(r.lesson_id, r.xp, r.source, r.mastered) for r in kept] == [
        (LESSON_2, Decimal("12.5"), OTHER_COMPUTER, True)
    ]  # this computer's own result, read back, is not kept as another computer's

    report = build_report(here, DAY, tz=UTC, catalogue=CATALOGUE, others=fetched)
    line = report.student(STUDENT)
    assert line is not None
    assert (line.lessons_studied, line.lessons_mastered, line.attempts) == (2, 2, 2)
    assert line.xp == mine.xp + Decimal("12.5") and mine.xp == Decimal(10)
    assert (line.attempts_elsewhere, line.xp_elsewhere, line.lessons_elsewhere) == (
        1, Decimal("12.5"), 1)
    other = next(lesson for lesson in line.lessons if lesson.lesson_id == LESSON_2)
    (attempt,) = other.attempts
    assert attempt.elsewhere and attempt.source == OTHER_COMPUTER and attempt.mastered
    assert attempt.accuracy == 1.0 and attempt.minutes["focused"] == 0
    assert any(OTHER_COMPUTER in text for text in attempt.explanation)
    own = next(lesson for lesson in line.lessons if lesson.lesson_id == LESSON_1)
    assert [a.elsewhere for a in own.attempts] == [False]
    assert report.others is not None
    assert report.others.text() == "Including results from other computers"
    assert others_text(report) == f"{elsewhere.INCLUDED_TEXT}. {elsewhere.LEGEND}"
    cells = dict(zip(STUDENT_COLUMNS, student_cells(line), strict=True))
    assert cells["other computers"] == "1 attempt · 12.5 XP"
    assert cells["xp"] == "22.5" and cells["attempts"] == "2"

    attempts = rows_as_dicts(ATTEMPT_COLUMNS, attempt_rows(report))
    assert [(r["lesson id"], r["source"], r["xp"]) for r in attempts] == [
        (LESSON_1, "this computer", "10.0"), (LESSON_2, "other computer", "12.5")
    ]
    assert attempts[1]["focused minutes"] == "" and attempts[1]["mastered"] == "yes"
    (day,) = rows_as_dicts(STUDENT_DAY_COLUMNS, student_day_rows(report))
    assert (day["xp"], day["xp elsewhere"], day["attempts"]) == ("22.5", "12.5", "2")

    # Reading again (the next time a guide opens the report) changes nothing.
    assert fetch_other_computers(here, client, [STUDENT]).fetched
    again = build_report(here, DAY, tz=UTC, catalogue=CATALOGUE).student(STUDENT)
    assert again is not None and (again.xp, again.attempts) == (line.xp, line.attempts)


def test_sign_in_keeps_other_computers_results_and_never_this_computers(
    here: Database, client: GradebookClient
) -> None:
    study(here, LESSON_1, correct=5)  # queued here, not delivered yet
    post_from_another_computer(client)
    assert sync_progress(here, client, STUDENT).online
    assert [r.run_id for r in remote_results.for_student(here, STUDENT)] == [OTHER_RUN]
    deliver_all(here, client)  # now the gradebook holds this computer's result as well
    assert sync_progress(here, client, STUDENT).online
    assert [r.run_id for r in remote_results.for_student(here, STUDENT)] == [OTHER_RUN]
    line = build_report(here, DAY, tz=UTC).student(STUDENT)
    assert line is not None and (line.attempts, line.attempts_elsewhere) == (2, 1)


def test_offline_the_report_builds_and_says_why_other_results_are_missing(
    here: Database, client: GradebookClient
) -> None:
    study(here, LESSON_1, correct=5)
    post_from_another_computer(client)
    assert fetch_other_computers(here, client, [STUDENT]).fetched  # read once while online

    with client_for("http://127.0.0.1:9", timeout_s=2.0) as offline:
        missing = fetch_other_computers(here, offline, [STUDENT])
    assert not missing.fetched and missing.reason
    report = build_report(here, DAY, tz=UTC, others=missing)
    assert report.others is not None
    assert report.others.text() == (
        f"Other computers' results could not be fetched: {missing.reason}")
    line = report.student(STUDENT)
    assert line is not None  # what was read before is still there, and this computer's
    assert (line.attempts, line.attempts_elsewhere) == (2, 1)
