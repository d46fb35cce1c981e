"""The guide's view on a real database: period and class, drill-down to a lesson's attempts,
turned-off students with why, PINs with a confirmation, lockouts, the chart, exports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractItemView

from companion.core import periods
from companion.core.clock import FakeClock
from companion.core.report_rows import STUDENT_COLUMNS
from companion.session.report import WHERE_TO_CHANGE, build_report
from companion.session.signin import SignInService
from companion.session.student_care import StudentCare
from companion.store import outbox, pins
from companion.store.db import Database
from companion.ui.guide import TURNED_OFF_HELP, GuideWidget
from companion.ui.guide_report import totals_text
from tests.session.report_seed import (
    CATALOGUE,
    TEACHER,
    Study,
    record,
    seed_roster,
    student_id,
)

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # Wednesday
GUIDE_PIN = "4812"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as database:
        seed_roster(database, 3, disabled=(2,))
        clock = FakeClock(NOW)
        assert SignInService(database, clock).set_guide_pin(TEACHER, GUIDE_PIN).ok
        record(database, Study(student_id(0), "add-1", datetime(2026, 3, 2, 9, tzinfo=UTC), 10,
                               (True,) * 5))
        record(database, Study(student_id(0), "add-2", datetime(2026, 3, 3, 9, tzinfo=UTC), 6,
                               (True, False, True, True)))
        record(database, Study(student_id(1), "add-1", datetime(2026, 3, 3, 10, tzinfo=UTC), 8,
                               (True, True, False, True, True)))
        yield database


@pytest.fixture
def view(qtbot: Any, db: Database) -> GuideWidget:
    clock = FakeClock(NOW)

    def build(period: periods.Period, class_id: str | None) -> Any:
        return build_report(db, period, tz=UTC, class_id=class_id, catalogue=CATALOGUE)

    services = SimpleNamespace(signin=SignInService(db, clock), report=build, report_tz=UTC,
                               clock=clock, student_data=StudentCare(db))
    widget = GuideWidget(services)
    qtbot.addWidget(widget)
    widget.resize(1366, 768)
    with qtbot.waitSignal(widget.panel.report_shown):
        widget.show_guide(SimpleNamespace(name="Grace", user_id=TEACHER))
    return widget


def pick_period(qtbot: Any, view: GuideWidget, index: int) -> None:
    """Choose a period and wait for its report (built off the UI thread)."""
    with qtbot.waitSignal(view.panel.report_shown):
        view.panel.period_combo.setCurrentIndex(index)


def row_of(view: GuideWidget, sid: str) -> int:
    for r in range(view.report.rowCount()):
        item = view.report.item(r, 0)
        if item is not None and item.data(256) == sid:
            return r
    raise AssertionError(f"{sid} not in the table")


def test_the_week_of_the_class_with_every_student(qtbot: Any, view: GuideWidget) -> None:
    panel = view.panel
    assert panel.period_combo.currentData() == "today"
    pick_period(qtbot, view, 1)  # this week
    assert (panel.from_edit.date().toPython(), panel.to_edit.date().toPython()) == (
        date(2026, 3, 2), date(2026, 3, 8))
    assert view.report.columnCount() == len(STUDENT_COLUMNS)
    assert view.report.rowCount() == 3
    assert view.report.editTriggers() == QAbstractItemView.EditTrigger.NoEditTriggers
    first = [view.report.item(row_of(view, student_id(0)), c).text() for c in range(4)]
    assert first[1:3] == ["2", "1"]  # two lessons, one mastered
    assert panel.current is not None
    assert view.panel.totals_label.text() == totals_text(panel.current)
    assert view.panel.totals_label.text().startswith("2 students studied")
    assert "Adding 1: q3 (1 of 2)" in panel.missed_label.text()
    assert "7 days" in panel.chart.accessibleDescription()


def test_a_student_then_a_lesson_then_its_attempts(qtbot: Any, view: GuideWidget) -> None:
    panel = view.panel
    pick_period(qtbot, view, 1)
    view.report.selectRow(row_of(view, student_id(0)))
    assert panel.lessons.rowCount() == 2
    assert panel.detail_title.text() == "Student000 Test: 2 lessons, 2 attempts"
    assert "Next: Math G3: Adding 2" in panel.detail_label.text()
    assert "Student000" in panel.chart.picture.title
    lesson_row = next(r for r in range(2) if panel.lessons.item(r, 0).text() == "Adding 2")
    panel.lessons.selectRow(lesson_row)
    text = panel.attempts.toPlainText()
    assert "Attempt 1" in text and "80 % gate: failed" in text
    assert "q2 ✗ wrong" in text and "q1 ✓ right" in text


def test_a_turned_off_student_says_why_and_where(qtbot: Any, view: GuideWidget) -> None:
    panel = view.panel
    pick_period(qtbot, view, 1)
    row = row_of(view, student_id(2))
    assert view.report.item(row, 0).text().endswith("(turned off)")
    assert WHERE_TO_CHANGE in view.report.item(row, 0).toolTip()
    view.report.selectRow(row)
    assert "cannot sign in: turned off in the school's roster" in panel.detail_label.text()
    # the PIN page says the same and takes no PIN for them
    index = next(i for i in range(view.student_combo.count())
                 if view.student_combo.itemData(i)[0] == student_id(2))
    view.student_combo.setCurrentIndex(index)
    assert view.account_label.text() == TURNED_OFF_HELP
    assert not view.set_pin_button.isEnabled()


def test_last_week_and_chosen_days(qtbot: Any, view: GuideWidget) -> None:
    panel = view.panel
    pick_period(qtbot, view, 2)  # last week: nothing studied
    assert panel.totals_label.text().startswith("Nobody studied")
    with qtbot.waitSignal(panel.report_shown):
        panel.set_period(periods.Period(date(2026, 3, 3), date(2026, 3, 3)))
    assert panel.from_edit.isEnabled()
    assert panel.current is not None
    assert {s.student_id for s in panel.current.students if s.attempts} == {
        student_id(0), student_id(1)}


def choose(view: GuideWidget, sid: str) -> None:
    index = next(i for i in range(view.student_combo.count())
                 if view.student_combo.itemData(i)[0] == sid)
    view.student_combo.setCurrentIndex(index)


def test_a_pin_needs_the_same_digits_twice(view: GuideWidget, db: Database) -> None:
    choose(view, student_id(1))
    view.new_pin_edit.setText("2468")
    view.confirm_pin_edit.setText("2469")
    view.guide_pin_edit.setText(GUIDE_PIN)
    view.on_set_pin()
    assert "not the same" in view.pin_message.text()
    assert pins.get(db, student_id(1)) is None
    view.confirm_pin_edit.setText("2468")
    view.on_set_pin()
    assert view.pin_message.text().startswith("New PIN set for")
    assert SignInService(db, FakeClock(NOW)).sign_in(student_id(1), "2468").ok


def test_a_guide_clears_a_lockout(view: GuideWidget, db: Database) -> None:
    service = SignInService(db, FakeClock(NOW))
    assert service.set_pin(student_id(0), "1357", TEACHER, GUIDE_PIN).ok
    for _ in range(8):
        service.sign_in(student_id(0), "0000")
    assert service.sign_in(student_id(0), "1357").status == "locked_out"
    choose(view, student_id(0))
    view.guide_pin_edit.setText("1111")
    view.on_clear_lockout()
    assert "not right" in view.pin_message.text()
    view.guide_pin_edit.setText(GUIDE_PIN)
    view.on_clear_lockout()
    assert "can try their PIN again" in view.pin_message.text()
    assert service.sign_in(student_id(0), "1357").ok


def test_exports_from_the_view(qtbot: Any, view: GuideWidget, tmp_path: Path) -> None:
    pick_period(qtbot, view, 1)
    assert view.export_to("csv", tmp_path / "r.csv")
    lines = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 1 + 3 * 7
    assert view.export_to("attempts", tmp_path / "a.csv")
    assert len((tmp_path / "a.csv").read_text(encoding="utf-8-sig").splitlines()) == 1 + 3
    assert view.export_to("pdf", tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    assert not view.export_to("csv", tmp_path / "missing" / "r.csv")
    assert "Could not save" in view.export_message.text()


def test_a_guide_exports_a_students_data(view: GuideWidget, tmp_path: Path) -> None:
    choose(view, student_id(0))
    view.guide_pin_edit.setText("1111")
    assert not view.export_student_to(tmp_path / "ada.json")
    assert "not right" in view.data_message.text() and not (tmp_path / "ada.json").exists()
    view.guide_pin_edit.setText(GUIDE_PIN)
    assert view.export_student_to(tmp_path / "ada.json")
    data = json.loads((tmp_path / "ada.json").read_text(encoding="utf-8"))
    assert data["student"]["sourced_id"] == student_id(0) and len(data["runs"]) == 2


def test_erasing_says_what_waits_and_needs_a_yes(
    qtbot: Any, view: GuideWidget, db: Database
) -> None:
    questions: list[tuple[str, str]] = []
    answers = [False, True]
    view.confirm = lambda text, action: questions.append((text, action)) or answers.pop(0)
    choose(view, student_id(0))
    view.guide_pin_edit.setText(GUIDE_PIN)
    assert not view.on_erase_student()
    text, action = questions[0]
    assert action == "Discard and erase"
    assert "Results already delivered (0) stay in Timeback" in text
    assert "• Adding 1: " in text and "• Adding 2: " in text
    assert view.data_message.text() == "Nothing was erased."
    assert StudentCare(db).kept(student_id(0)).runs == 2
    view.guide_pin_edit.setText(GUIDE_PIN)
    with qtbot.waitSignal(view.panel.report_shown):  # the report follows
        assert view.on_erase_student()
    assert StudentCare(db).kept(student_id(0)).runs == 0
    assert StudentCare(db).kept(student_id(1)).runs == 1


def test_with_nothing_waiting_the_question_says_so(
    qtbot: Any, view: GuideWidget, db: Database
) -> None:
    outbox.mark_acked(db, [r.id for r in outbox.list_items(db) if r.id is not None])
    questions: list[tuple[str, str]] = []
    view.confirm = lambda text, action: questions.append((text, action)) or True
    choose(view, student_id(1))
    view.guide_pin_edit.setText(GUIDE_PIN)
    with qtbot.waitSignal(view.panel.report_shown):
        assert view.on_erase_student()
    assert questions[0][1] == "Erase" and "Still waiting" not in questions[0][0]


def test_results_that_arrive_during_the_question_are_not_discarded(
    view: GuideWidget, db: Database
) -> None:
    outbox.mark_acked(db, [r.id for r in outbox.list_items(db) if r.id is not None])

    def yes_but_a_lesson_closes_meanwhile(text: str, action: str) -> bool:
        record(db, Study(student_id(1), "add-2", datetime(2026, 3, 4, 9, tzinfo=UTC), 5,
                         (True,) * 4))
        return action == "Erase"

    view.confirm = yes_but_a_lesson_closes_meanwhile
    choose(view, student_id(1))
    view.guide_pin_edit.setText(GUIDE_PIN)
    assert not view.on_erase_student()
    assert "Nothing was erased" in view.data_message.text()
    assert StudentCare(db).kept(student_id(1)).runs == 2


def test_the_printed_page_says_what_the_table_says(qtbot: Any, view: GuideWidget) -> None:
    from PySide6.QtGui import QTextDocument

    from companion.ui.report_print import report_html

    pick_period(qtbot, view, 1)
    report = view.panel.current
    assert report is not None
    document = QTextDocument()
    document.setHtml(report_html(report, "Report: Class 3A", ["chart.png"]))
    text = document.toPlainText()
    assert "Report: Class 3A" in text and "2026-03-02 to 2026-03-08" in text
    for line in report.students:
        assert line.name in text
    assert "Students who cannot sign in" in text and WHERE_TO_CHANGE in text
    assert "Questions most students missed" in text and "1 of 2" in text
    assert text.count("focused minutes") >= 1
