"""The guide's report with the students' results from their other computers: read in the
background after the report shows, marked "elsewhere", or a line that says why not."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from companion.core import elsewhere, periods, results
from companion.core.caliper import format_timestamp
from companion.core.clock import FakeClock
from companion.core.report_rows import STUDENT_COLUMNS
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.session.report import build_report
from companion.session.signin import SignInService
from companion.store.db import Database
from companion.sync.other_computers import fetch_other_computers
from companion.timeback import GradebookClient
from companion.ui.guide import GuideWidget
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
from tests.ui.conftest import Harness, show_guides
from tests.ui.test_ui_lesson import DRILL

OTHER_COMPUTER = "Room 12 / PC 3"
OTHERS_COLUMN = STUDENT_COLUMNS.index("other computers")


def put_from_another_computer(
    client: GradebookClient, lesson_id: str, when: datetime, run_id: str = "run-on-pc-3"
) -> None:
    """The result another computer writes for a perfect attempt (12.5 XP), named by it."""
    info = results.RunResult(APP_ID, STUDENT, lesson_id, run_id, format_timestamp(when, 0))
    payload = results.result_payload(info, PERFECT)
    payload["metadata"] = {**payload["metadata"], "xp": 12.5, "computer": OTHER_COMPUTER}
    client.put_result(payload)


def student_row(table: Any, student_id: str) -> int:
    for r in range(table.rowCount()):
        item = table.item(r, 0)
        if item is not None and item.data(256) == student_id:
            return r
    raise AssertionError(f"{student_id} not in the table")


def test_the_guide_sees_another_computers_result_marked(qtbot: Any, harness: Harness) -> None:
    rt = harness.shell.runtime
    with client_for(rt.sandbox.base_url) as client:
        for lesson in rt.library.catalogue.lessons:
            client.put_line_item(results.line_item_payload(APP_ID, lesson, lesson.course_id))
        put_from_another_computer(client, DRILL, harness.clock.utc_now())
    w = harness.window
    show_guides(qtbot, w.signin)
    w.signin.name_buttons()[0].click()
    w.signin.pin_edit.setText("9999")
    panel = w.guide_view.panel
    with qtbot.waitSignal(panel.others_shown, timeout=20_000):
        w.signin.on_pin_submitted()
    assert panel.totals_label.text().endswith(f" · {elsewhere.INCLUDED_TEXT}")
    row = student_row(panel.report, STUDENT)
    assert panel.report.item(row, OTHERS_COLUMN).text() == "1 attempt · 12.5 XP"
    panel.report.selectRow(row)
    lesson_row = next(r for r in range(panel.lessons.rowCount())
                      if panel.lessons.item(r, 0).data(256) == DRILL)
    assert panel.lessons.item(lesson_row, 1).text() == "1 (1 elsewhere)"
    panel.lessons.selectRow(lesson_row)
    text = panel.attempts.toPlainText()
    assert f"Attempt 1 · elsewhere ({OTHER_COMPUTER})" in text
    assert "Recorded on another computer" in text
    assert elsewhere.LEGEND in text  # what "elsewhere" means, under the attempts


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


@pytest.fixture
def here(tmp_path: Path) -> Iterator[Database]:
    db = open_computer(tmp_path / "here" / "companion-sandbox.sqlite3")
    yield db
    db.close()


def guide_view(qtbot: Any, db: Database, fetch: Any) -> GuideWidget:
    clock = FakeClock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC))

    def build(period: periods.Period, class_id: str | None) -> Any:
        return build_report(db, period, tz=UTC, class_id=class_id, catalogue=CATALOGUE)

    services = SimpleNamespace(signin=SignInService(db, clock), report=build, report_tz=UTC,
                               clock=clock, student_data=None, report_others=fetch)
    widget = GuideWidget(services)
    qtbot.addWidget(widget)
    return widget


def test_offline_the_report_shows_and_says_why(qtbot: Any, here: Database) -> None:
    study(here, LESSON_1, correct=5)

    def fetch(ids: Sequence[str]) -> elsewhere.Fetch:
        with client_for("http://127.0.0.1:9", timeout_s=2.0) as offline:
            return fetch_other_computers(here, offline, ids)

    view = guide_view(qtbot, here, fetch)
    panel = view.panel
    with qtbot.waitSignal(panel.report_shown):
        view.show_guide(SimpleNamespace(name="Grace", user_id="tch-1"))
    assert panel.report.rowCount() == 1  # this computer's attempt, at once
    assert panel.totals_label.text().endswith(f" · {elsewhere.FETCHING_TEXT}")
    with qtbot.waitSignal(panel.others_shown, timeout=20_000):
        pass
    said = panel.totals_label.text().split(" · ")[-1]
    assert said.startswith("Other computers' results could not be fetched: ")
    assert len(said) > len("Other computers' results could not be fetched: ")
    assert panel.report.rowCount() == 1
    assert panel.report.item(0, OTHERS_COLUMN).text() == "–"


def test_the_chosen_student_and_lesson_stay_when_the_results_arrive(
    qtbot: Any, here: Database, sandbox: SandboxHandle
) -> None:
    with client_for(sandbox.base_url) as client:
        for lesson in CATALOGUE.lessons:
            client.put_line_item(results.line_item_payload(APP_ID, lesson, "demo-course-1"))
        study(here, LESSON_1, correct=5)
        deliver_all(here, client)
        put_from_another_computer(client, LESSON_2, datetime(2026, 1, 5, 11, tzinfo=UTC))
    go = threading.Event()

    def fetch(ids: Sequence[str]) -> elsewhere.Fetch:
        assert go.wait(20)
        with client_for(sandbox.base_url) as gradebook:
            return fetch_other_computers(here, gradebook, ids)

    view = guide_view(qtbot, here, fetch)
    panel = view.panel
    with qtbot.waitSignal(panel.report_shown):
        view.show_guide(SimpleNamespace(name="Grace", user_id="tch-1"))
    panel.report.selectRow(0)
    assert panel.lessons.rowCount() == 1  # only this computer's lesson so far
    panel.lessons.selectRow(0)
    assert "Fractions 1" in panel.attempts.toPlainText()
    with qtbot.waitSignal(panel.others_shown, timeout=20_000):
        go.set()
    assert panel.totals_label.text().endswith(f" · {elsewhere.INCLUDED_TEXT}")
    assert panel.student is not None and panel.student.student_id == STUDENT
    assert panel.lessons.rowCount() == 2
    assert "Fractions 1" in panel.attempts.toPlainText()  # the chosen lesson is still shown
    assert panel.detail_title.text().endswith("2 lessons, 2 attempts")
