"""The guide's view: the report (any period and class, drill-down, chart, export) on one
tab; students' PINs and accounts on the other; Sync now, Add lessons
(``companion.ui.add_lessons``) and Sign out below both.

The report comes from ``services.report`` (a ``build(period, class_id) -> Report`` the
composition root makes); the PIN actions go through ``services.signin``.

Signals:
    sign_out_requested(): the guide is done.
    sync_requested(): "Sync now".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from companion.core.library_types import Kept
from companion.core.pins import valid_pin
from companion.core.report_rows import (
    ATTEMPT_COLUMNS,
    STUDENT_DAY_COLUMNS,
    attempt_rows,
    student_day_rows,
)
from companion.core.signin_types import SignedIn
from companion.ui.guide_report import ReportPanel
from companion.ui.pin_text import pin_change_message, pin_field
from companion.ui.ports import SignIn, StudentCare
from companion.ui.report_print import write_csv, write_pdf
from companion.ui.services import Services
from companion.ui.styles import activate_on_enter, chain_tab_order, make_heading, set_role

EXPORTS = {
    "csv": ("Save the report (one row per student and day)", "report.csv", "CSV files (*.csv)"),
    "attempts": ("Save the attempts (one row per attempt)", "attempts.csv", "CSV files (*.csv)"),
    "pdf": ("Save the printable report", "report.pdf", "PDF files (*.pdf)"),
}
TURNED_OFF_HELP = (
    "This account is turned off in the school's roster, so it cannot sign in and takes no "
    "PIN. Ask the school's Timeback administrator to turn it on; this computer picks it up "
    "at the next roster refresh."
)


def erase_question(name: str, kept: Kept) -> str:
    """What erasing removes, that delivered results stay, and what still waits, by lesson."""
    text = (
        f"Erase {name} from this computer?\n\n"
        f"This removes {kept.runs} runs with their journals ({kept.journal_lines} lines), "
        "summaries and answers, the student's progress"
        f"{' and PIN' if kept.has_pin else ''} on this computer. "
        f"Results already delivered ({kept.delivered}) stay in Timeback."
    )
    if kept.waiting:
        by_lesson: dict[str, int] = {}
        for item in kept.waiting:
            by_lesson[item.lesson_title] = by_lesson.get(item.lesson_title, 0) + 1
        listed = "\n".join(f"• {title}: {n} not delivered" for title, n in by_lesson.items())
        text += (
            "\n\nStill waiting to be delivered; erasing now discards it:\n"
            f"{listed}\n\nTo keep it, choose Cancel, then Sync now, and erase once it "
            "is delivered."
        )
    return text


class GuideWidget(QWidget):
    """Guide actions for one signed-in guide.

    Signals:
        sign_out_requested(): back to sign-in.
        sync_requested(): deliver events now.
    """

    sign_out_requested = Signal()
    sync_requested = Signal()

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.guide: SignedIn | None = None
        self.title = QLabel("Guide")
        make_heading(self.title, 1.6)
        self.panel = ReportPanel()
        self.report = self.panel.report
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Guide pages")
        self.tabs.tabBar().setAccessibleName("Guide pages")
        self.tabs.addTab(self.panel, "Report")
        self.pin_page = QWidget()
        self.tabs.addTab(self.pin_page, "PINs and accounts")
        self.class_combo = QComboBox()
        self.class_combo.setAccessibleName("Class")
        self.student_combo = QComboBox()
        self.student_combo.setAccessibleName("Student")
        self.account_label = QLabel("")
        self.account_label.setWordWrap(True)
        self.account_label.setAccessibleName("Account")
        self.new_pin_edit = pin_field("New PIN for the student")
        self.confirm_pin_edit = pin_field("The new PIN again")
        self.guide_pin_edit = pin_field("Your guide PIN")
        self.set_pin_button = QPushButton("Set PIN")
        self.set_pin_button.setAccessibleName("Set PIN")
        set_role(self.set_pin_button, "primary")
        self.clear_lockout_button = QPushButton("Clear lockout")
        self.clear_lockout_button.setAccessibleName("Clear the student's PIN lockout")
        self.pin_message = QLabel("")
        self.pin_message.setWordWrap(True)
        self.pin_message.setAccessibleDescription("PIN message")
        self.export_student_button = QPushButton("Save the student's data…")
        self.export_student_button.setAccessibleName("Save the student's data as JSON")
        self.erase_button = QPushButton("Erase from this computer…")
        self.erase_button.setAccessibleName("Erase the student's data from this computer")
        self.data_message = QLabel("")
        self.data_message.setWordWrap(True)
        self.data_message.setAccessibleDescription("Data message")
        self.confirm: Callable[[str, str], bool] = self._ask
        self.export_message = QLabel("")
        self.export_message.setAccessibleDescription("Export message")
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setAccessibleName("Sync now")
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setAccessibleName("Sign out")
        self.add_lessons_button = QPushButton("Add lessons")
        self.add_lessons_button.setAccessibleName("Add lessons")
        self.add_lessons_dialog: Any = None
        activate_on_enter(self.set_pin_button, self.clear_lockout_button,
                          self.export_student_button, self.erase_button, self.sync_button,
                          self.add_lessons_button, self.sign_out_button)
        self._build_layout()
        p = self.panel
        chain_tab_order(self.tabs.tabBar(), self.report, p.period_combo, p.from_edit,
                        p.to_edit, p.class_combo, p.csv_button, p.attempts_button,
                        p.pdf_button, p.lessons, p.attempts, self.class_combo,
                        self.student_combo, self.new_pin_edit,
                        self.confirm_pin_edit, self.guide_pin_edit, self.set_pin_button,
                        self.clear_lockout_button, self.export_student_button,
                        self.erase_button, self.sync_button, self.add_lessons_button,
                        self.sign_out_button)
        self._connect_signals()

    def _build_layout(self) -> None:
        pin_box = QGroupBox("A student's PIN, lockout and data on this computer")
        who = QFormLayout()
        who.setVerticalSpacing(10)
        who.addRow("Class", self.class_combo)
        who.addRow("Student", self.student_combo)
        who.addRow("New PIN", self.new_pin_edit)
        who.addRow("New PIN again", self.confirm_pin_edit)
        check = QFormLayout()
        check.setVerticalSpacing(10)
        check.addRow("Your PIN", self.guide_pin_edit)
        actions = QHBoxLayout()
        actions.addWidget(self.set_pin_button)
        actions.addWidget(self.clear_lockout_button)
        actions.addStretch(1)
        check.addRow(actions)
        data = QHBoxLayout()
        data.addWidget(self.export_student_button)
        data.addWidget(self.erase_button)
        data.addStretch(1)
        check.addRow(data)
        check.addRow(self.pin_message)
        check.addRow(self.data_message)
        columns = QHBoxLayout()
        columns.setSpacing(24)
        columns.addLayout(who, 1)
        columns.addLayout(check, 1)
        form = QVBoxLayout(pin_box)
        form.addLayout(columns)
        form.addWidget(self.account_label)
        form.addStretch(1)
        self.account_label.setVisible(False)
        page = QVBoxLayout(self.pin_page)
        page.addWidget(pin_box)
        page.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.sync_button)
        buttons.addWidget(self.add_lessons_button)
        buttons.addWidget(self.export_message, 1)
        buttons.addWidget(self.sign_out_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(self.title)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)

    @property
    def _signin(self) -> SignIn:
        signin = self.services.signin
        assert signin is not None  # a guide signed in: the store is open
        return signin

    @property
    def _care(self) -> StudentCare:
        care = self.services.student_data
        assert care is not None  # checked by ``_student`` first
        return care

    @property
    def _guide_id(self) -> str:
        assert self.guide is not None
        return self.guide.user_id

    def _connect_signals(self) -> None:
        self.class_combo.currentIndexChanged.connect(self.on_class_changed)
        self.student_combo.currentIndexChanged.connect(self.on_student_changed)
        self.set_pin_button.clicked.connect(self.on_set_pin)
        self.guide_pin_edit.returnPressed.connect(self.on_set_pin)
        self.clear_lockout_button.clicked.connect(self.on_clear_lockout)
        self.export_student_button.clicked.connect(self.on_export_student)
        self.erase_button.clicked.connect(self.on_erase_student)
        self.panel.export_requested.connect(self.on_export_requested)
        self.sync_button.clicked.connect(self.sync_requested)
        self.sign_out_button.clicked.connect(self.sign_out_requested)
        self.add_lessons_button.clicked.connect(self.on_add_lessons)

    def on_add_lessons(self) -> None:
        """Open the "Add lessons" dialog (``companion.ui.add_lessons``)."""
        add = getattr(self.services, "add_lessons", None)
        if add is None:
            return
        from companion.ui.add_lessons import AddLessonsDialog

        if self.add_lessons_dialog is None:
            self.add_lessons_dialog = AddLessonsDialog(add, self)
            added = getattr(self.services, "on_lessons_added", None)
            if added is not None:
                self.add_lessons_dialog.imported.connect(lambda _imported: added())
        self.add_lessons_dialog.show()
        self.add_lessons_dialog.raise_()

    def show_guide(self, guide: SignedIn) -> None:
        """Fill the view for a signed-in guide."""
        self.guide = guide
        self.title.setText(f"Guide: {guide.name}")
        classes = self._signin.classes()
        self.class_combo.clear()
        for cls in classes:
            self.class_combo.addItem(cls.title, cls.id)
        self.panel.build = getattr(self.services, "report", None)
        self.panel.fetch_others = getattr(self.services, "report_others", None)
        self.panel.tz = getattr(self.services, "report_tz", None)
        self.panel.now = self.services.clock.utc_now
        self.panel.set_classes([(cls.id, cls.title) for cls in classes])
        self.tabs.setCurrentWidget(self.panel)
        self.refresh_report()
        self.report.setFocus()

    def refresh_report(self) -> None:
        """Build and show the report for the chosen period and class."""
        self.panel.refresh()

    # ------------------------------------------------------------ export

    def on_export_requested(self, kind: str) -> None:
        caption, name, pattern = EXPORTS[kind]
        chosen, _ = QFileDialog.getSaveFileName(self, caption, str(Path.home() / name), pattern)
        if chosen:
            self.export_to(kind, Path(chosen))

    def export_to(self, kind: str, path: Path) -> bool:
        """Write the report shown as ``kind`` ("csv", "attempts", "pdf") to ``path``."""
        report = self.panel.current
        if report is None:
            self.export_message.setText("There is no report to save yet.")
            return False
        try:
            if kind == "csv":
                write_csv(path, STUDENT_DAY_COLUMNS, student_day_rows(report))
            elif kind == "attempts":
                write_csv(path, ATTEMPT_COLUMNS, attempt_rows(report))
            else:
                title = f"Report: {self.panel.class_combo.currentText()}"
                write_pdf(report, path, title, [("chart.png", self.panel.chart.picture.image())])
        except OSError as exc:
            self.export_message.setText(f"Could not save {path.name}: {exc.strerror or exc}")
            return False
        self.export_message.setText(f"Saved {path}.")
        return True

    # ------------------------------------------------------------ PINs and accounts

    def on_class_changed(self, _index: int) -> None:
        self.student_combo.clear()
        class_id = self.class_combo.currentData()
        if class_id is None:
            return
        for student in self._signin.students(class_id):
            can = getattr(student, "can_sign_in", True)
            name = student.display_name if can else f"{student.display_name} (turned off)"
            self.student_combo.addItem(name, (student.id, can))

    def on_student_changed(self, _index: int) -> None:
        data = self.student_combo.currentData()
        can = data is None or bool(data[1])
        self.account_label.setText("" if can else TURNED_OFF_HELP)
        self.account_label.setVisible(not can)
        for widget in (self.new_pin_edit, self.confirm_pin_edit, self.set_pin_button,
                       self.clear_lockout_button):
            widget.setEnabled(can)

    def _student(self) -> str | None:
        """The chosen student (turned off or not), after checking the guide's PIN."""
        data = self.student_combo.currentData()
        if data is None or self.guide is None or self.services.student_data is None:
            self.data_message.setText("Choose a student.")
            return None
        checked = self._signin.sign_in_guide(self._guide_id,
                                                     self.guide_pin_edit.text())
        self.guide_pin_edit.clear()
        if not checked.ok:
            self.data_message.setText(pin_change_message(checked).replace(
                "The PIN was not set.", "Nothing was done."))
            return None
        return str(data[0])

    def on_export_student(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Save the student's data", str(Path.home() / "student-data.json"),
            "JSON files (*.json)")
        if chosen:
            self.export_student_to(Path(chosen))

    def export_student_to(self, path: Path) -> bool:
        """Write the chosen student's data on this computer to ``path`` as JSON."""
        student_id = self._student()
        if student_id is None:
            return False
        data = self._care.export(student_id)
        try:
            path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        except OSError as exc:
            self.data_message.setText(f"Could not save {path.name}: {exc.strerror or exc}")
            return False
        self.data_message.setText(f"Saved {self.student_combo.currentText()}'s data to {path}.")
        return True

    def on_erase_student(self) -> bool:
        """Erase the chosen student's data once the guide confirms what that removes."""
        student_id = self._student()
        if student_id is None:
            return False
        name = self.student_combo.currentText()
        kept = self._care.kept(student_id)
        action = "Discard and erase" if kept.waiting else "Erase"
        if not self.confirm(erase_question(name, kept), action):
            self.data_message.setText("Nothing was erased.")
            return False
        erased = self._care.erase(student_id, discard_waiting=bool(kept.waiting))
        if erased.still_waiting:  # something new waits since the question was asked
            self.data_message.setText("Nothing was erased: more results wait to be delivered "
                                      "since you were asked. Try again.")
            return False
        self.data_message.setText(f"Erased {name} from this computer ({erased.removed} runs).")
        self.refresh_report()
        return True

    def _ask(self, question: str, action: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, "Erase the student's data", question,
                          QMessageBox.StandardButton.Cancel, self)
        go = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is go

    def _chosen(self) -> str | None:
        data = self.student_combo.currentData()
        if data is None or self.guide is None:
            self.pin_message.setText("Choose a student.")
            return None
        if not data[1]:
            self.pin_message.setText(TURNED_OFF_HELP)
            return None
        return str(data[0])

    def on_set_pin(self) -> None:
        student_id = self._chosen()
        if student_id is None:
            return
        new_pin = self.new_pin_edit.text()
        if not valid_pin(new_pin):
            self.pin_message.setText("A PIN is 4 to 6 digits.")
            return
        if self.confirm_pin_edit.text() != new_pin:
            self.pin_message.setText("The two new PINs are not the same. Type them again.")
            self.confirm_pin_edit.clear()
            self.confirm_pin_edit.setFocus()
            return
        result = self._signin.set_pin(
            student_id, new_pin, self._guide_id, self.guide_pin_edit.text()
        )
        self.guide_pin_edit.clear()
        self.new_pin_edit.clear()
        self.confirm_pin_edit.clear()
        if result.status == "ok":
            self.pin_message.setText(f"New PIN set for {self.student_combo.currentText()}.")
        else:
            self.pin_message.setText(pin_change_message(result))

    def on_clear_lockout(self) -> None:
        student_id = self._chosen()
        if student_id is None:
            return
        result = self._signin.clear_lockout(
            student_id, self._guide_id, self.guide_pin_edit.text()
        )
        self.guide_pin_edit.clear()
        if result.status == "ok":
            self.pin_message.setText(
                f"{self.student_combo.currentText()} can try their PIN again now."
            )
        else:
            self.pin_message.setText(pin_change_message(result))
