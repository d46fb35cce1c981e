"""The guide's view: today's report on this computer, set or reset a student's PIN, sync now,
add lessons (``companion.ui.add_lessons``).

The report is a read-only table (one row per student who studied today) with totals above
it; the PIN form sits beside it and the actions are buttons along the bottom.

Signals:
    sign_out_requested(): the guide is done.
    sync_requested(): "Sync now".
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from companion.core.pins import valid_pin
from companion.ui.signin import pin_change_message, pin_field
from companion.ui.styles import activate_on_enter, chain_tab_order, make_heading, set_role

REPORT_COLUMNS = ("Student", "Lessons", "Focused minutes", "XP", "Accuracy")
NUMERIC = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


def totals_text(rows: list[dict[str, Any]]) -> str:
    """One line above the report: how many studied, minutes and XP in all."""
    if not rows:
        return "Nobody has finished a lesson on this computer today yet."
    minutes = sum(float(r["focused_minutes"]) for r in rows)
    xp = sum(r["xp"] for r in rows)
    people = "1 student" if len(rows) == 1 else f"{len(rows)} students"
    return f"{people} studied today · {minutes:.1f} focused minutes · {xp} XP in all"


class GuideWidget(QWidget):
    """Guide actions for one signed-in guide.

    Signals:
        sign_out_requested(): back to sign-in.
        sync_requested(): deliver events now.
    """

    sign_out_requested = Signal()
    sync_requested = Signal()

    def __init__(self, services: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.guide: Any = None
        self.title = QLabel("Guide")
        make_heading(self.title, 1.6)
        self.totals_label = QLabel("")
        self.totals_label.setObjectName("subtitle")
        self.totals_label.setAccessibleName("Today's totals")
        self.report = QTableWidget(0, len(REPORT_COLUMNS))
        self.report.setObjectName("report")
        self.report.setHorizontalHeaderLabels(list(REPORT_COLUMNS))
        self.report.setAccessibleName("Today's report on this computer")
        self.report.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.report.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.report.setAlternatingRowColors(True)
        self.report.setShowGrid(False)
        self.report.verticalHeader().setVisible(False)
        self.report.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        header = self.report.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(len(REPORT_COLUMNS)):
            if column:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
            title = self.report.horizontalHeaderItem(column)
            if title is not None:
                title.setTextAlignment(NUMERIC if column else LEFT)
        pin_box = QGroupBox("Set or reset a student's PIN")
        self.class_combo = QComboBox()
        self.class_combo.setAccessibleName("Class")
        self.student_combo = QComboBox()
        self.student_combo.setAccessibleName("Student")
        self.new_pin_edit = pin_field("New PIN for the student")
        self.guide_pin_edit = pin_field("Your guide PIN")
        self.set_pin_button = QPushButton("Set PIN")
        self.set_pin_button.setAccessibleName("Set PIN")
        set_role(self.set_pin_button, "primary")
        self.pin_message = QLabel("")
        self.pin_message.setWordWrap(True)
        self.pin_message.setAccessibleName("PIN message")
        form = QFormLayout(pin_box)
        form.setVerticalSpacing(10)
        form.addRow("Class", self.class_combo)
        form.addRow("Student", self.student_combo)
        form.addRow("New PIN", self.new_pin_edit)
        form.addRow("Your PIN", self.guide_pin_edit)
        form.addRow(self.set_pin_button)
        form.addRow(self.pin_message)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setAccessibleName("Sync now")
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setAccessibleName("Sign out")
        self.add_lessons_button = QPushButton("Add lessons")
        self.add_lessons_button.setAccessibleName("Add lessons")
        self.add_lessons_dialog: Any = None
        activate_on_enter(self.set_pin_button, self.sync_button, self.sign_out_button,
                          self.add_lessons_button)
        self._build_layout(pin_box)
        chain_tab_order(self.report, self.class_combo, self.student_combo, self.new_pin_edit,
                        self.guide_pin_edit, self.set_pin_button, self.sync_button,
                        self.add_lessons_button, self.sign_out_button)
        self._connect_signals()

    def _build_layout(self, pin_box: QGroupBox) -> None:
        report_title = QLabel("Today on this computer")
        report_title.setObjectName("section_title")
        left = QVBoxLayout()
        left.setSpacing(8)
        left.addWidget(report_title)
        left.addWidget(self.totals_label)
        left.addWidget(self.report, 1)
        right = QVBoxLayout()
        right.addWidget(pin_box)
        right.addStretch(1)
        body = QHBoxLayout()
        body.setSpacing(20)
        body.addLayout(left, 3)
        body.addLayout(right, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(self.sync_button)
        buttons.addWidget(self.add_lessons_button)
        buttons.addStretch(1)
        buttons.addWidget(self.sign_out_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(self.title)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)

    def _connect_signals(self) -> None:
        self.class_combo.currentIndexChanged.connect(self.on_class_changed)
        self.set_pin_button.clicked.connect(self.on_set_pin)
        self.guide_pin_edit.returnPressed.connect(self.on_set_pin)
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

    def show_guide(self, guide: Any) -> None:
        """Fill the view for a signed-in guide."""
        self.guide = guide
        self.title.setText(f"Guide: {guide.name}")
        self.class_combo.clear()
        for cls in self.services.signin.classes():
            self.class_combo.addItem(cls.title, cls.id)
        self.refresh_report()
        self.report.setFocus()

    def refresh_report(self) -> None:
        """Today's rows: who studied, lessons, focused minutes, XP, accuracy."""
        rows = self.services.guide_report() if self.services.guide_report else []
        self.totals_label.setText(totals_text(rows))
        self.report.setRowCount(len(rows))
        for r, row in enumerate(rows):
            accuracy = row.get("accuracy")
            values = (
                row["name"],
                str(row["runs"]),
                f"{row['focused_minutes']:.1f}",
                str(row["xp"]),
                "–" if accuracy is None else f"{accuracy:.0%}",
            )
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if c > 0:
                    item.setTextAlignment(NUMERIC)
                self.report.setItem(r, c, item)
        self.report.resizeRowsToContents()

    def on_class_changed(self, _index: int) -> None:
        self.student_combo.clear()
        class_id = self.class_combo.currentData()
        if class_id is None:
            return
        for student in self.services.signin.students(class_id):
            if getattr(student, "can_sign_in", True):  # a turned-off account takes no PIN
                self.student_combo.addItem(student.display_name, student.id)

    def on_set_pin(self) -> None:
        student_id = self.student_combo.currentData()
        new_pin = self.new_pin_edit.text()
        if student_id is None or self.guide is None:
            self.pin_message.setText("Choose a student.")
            return
        if not valid_pin(new_pin):
            self.pin_message.setText("A PIN is 4 to 6 digits.")
            return
        result = self.services.signin.set_pin(
            student_id, new_pin, self.guide.user_id, self.guide_pin_edit.text()
        )
        self.guide_pin_edit.clear()
        self.new_pin_edit.clear()
        if result.status == "ok":
            self.pin_message.setText(f"New PIN set for {self.student_combo.currentText()}.")
        else:
            self.pin_message.setText(pin_change_message(result))
