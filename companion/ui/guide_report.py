"""The guide's report panel: period and class pickers, the students' table, a student's
lessons, a lesson's attempts, the day chart and the export buttons.

The panel is given a ``build(period, class_id) -> Report`` callable by the composition root
(it never reads the store itself). Clicking a student shows their lessons and chart;
clicking a lesson shows its attempts, each with the explanation of its XP and, per
question, right or wrong.

The report is built off the UI thread (``BackgroundTask``); only the newest request is
shown when several overlap. When the panel is given ``fetch_others(student_ids) -> Fetch``,
the report is shown first with what this computer knows, then the students' results from
their other computers are read (another background task) and the report is built and shown
again, keeping the chosen student and lesson; a line says whether they are included or why
they could not be fetched.

Signals:
    export_requested(str): "csv", "attempts" or "pdf" (the view asks where to save).
    report_shown(): a newly built report is on screen.
    others_shown(): the report with the other computers' results (or why they are missing)
        is on screen.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, tzinfo

from PySide6.QtCore import QDate, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from companion.core import elsewhere, periods
from companion.core.elsewhere import Fetch
from companion.core.report import LessonLine, Report, StudentLine
from companion.core.report_rows import (
    STUDENT_COLUMNS,
    others_status,
    percent,
    student_cells,
    xp_text,
)
from companion.ui.charts import DayChart
from companion.ui.styles import set_role
from companion.ui.tasks import BackgroundTask

NUMERIC = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
RANGE = "chosen days"
PERIOD_CHOICES = (*periods.PERIOD_NAMES, RANGE)
LESSON_COLUMNS = ("Lesson", "Attempts", "Best", "Mastered", "XP")
TURNED_OFF_MARK = " (turned off)"

Build = Callable[[periods.Period, "str | None"], Report]
FetchOthers = Callable[[Sequence[str]], Fetch]


def _table(columns: Sequence[str], name: str, stretch_first: bool = True) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setAccessibleName(name)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.verticalHeader().setVisible(False)
    table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
    header = table.horizontalHeader()
    if stretch_first:
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    else:  # every column as wide as its text; the table scrolls sideways when it must
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
    for column in range(1, len(columns)):
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        title = table.horizontalHeaderItem(column)
        if title is not None:
            title.setTextAlignment(NUMERIC)
    return table


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]], keys: Sequence[str],
          tips: Sequence[str] = ()) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(value)
            item.setTextAlignment(NUMERIC if c else LEFT)
            item.setData(Qt.ItemDataRole.UserRole, keys[r])
            if r < len(tips) and tips[r]:
                item.setToolTip(tips[r])
            table.setItem(r, c, item)
    table.resizeRowsToContents()


def disabled_text(line: StudentLine) -> str:
    """Why a student cannot sign in and where that is changed (the tile says "turned off")."""
    return f"{line.name} cannot sign in: {line.disabled_why}. {line.where_to_change}"


def lesson_cells(lesson: LessonLine) -> list[str]:
    """One lesson's row in the student's lessons table (attempts elsewhere marked)."""
    attempts = str(len(lesson.attempts))
    if lesson.attempts_elsewhere:
        attempts += f" ({lesson.attempts_elsewhere} {elsewhere.ELSEWHERE})"
    return [lesson.title, attempts,
            percent(lesson.best_accuracy) or "–", "yes" if lesson.mastered else "no",
            xp_text(lesson.xp)]


def attempts_html(lesson: LessonLine) -> str:
    """A lesson's attempts: when, minutes, XP and why, and each question right or wrong."""
    parts = [f"<h3>{html.escape(lesson.title)}</h3>"]
    for a in lesson.attempts:
        when = a.started.strftime("%a %d %b %H:%M")
        if a.elsewhere:
            where = f" ({html.escape(a.source)})" if a.source else ""
            parts.append(
                f"<p><b>Attempt {a.attempt}</b> · <i>{elsewhere.ELSEWHERE}</i>{where} · "
                f"{html.escape(when)} · {xp_text(a.xp)} XP"
                f"{' · mastered' if a.mastered else ''}</p>"
            )
        else:
            parts.append(
                f"<p><b>Attempt {a.attempt}</b> · {html.escape(when)} · "
                f"{a.minutes['focused']:.1f} focused minutes · {xp_text(a.xp)} XP"
                f"{' · mastered' if a.mastered else ''}</p>"
            )
        parts.append("<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in a.explanation)
                     + "</ul>")
        if a.answers:
            marks = " ".join(
                f"{html.escape(x.item)} {'✓ right' if x.correct else '✗ wrong'}"
                for x in a.answers
            )
            parts.append(f"<p>Questions: {marks}</p>")
        if a.journal_removed_at:
            parts.append(f"<p><i>Journal removed on {html.escape(a.journal_removed_at[:10])}; "
                         "this is its stored summary.</i></p>")
    if lesson.attempts_elsewhere:
        parts.append(f"<p><i>{html.escape(elsewhere.LEGEND)}</i></p>")
    return "".join(parts)


class ReportPanel(QWidget):
    """The report for a period and class, with drill-down and the chart.

    Signals:
        export_requested(str): "csv", "attempts" or "pdf".
        report_shown(): a newly built report is on screen.
        others_shown(): the other computers' results (or why they are missing) are shown.
    """

    export_requested = Signal(str)
    report_shown = Signal()
    others_shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.build: Build | None = None
        self.fetch_others: FetchOthers | None = None
        self.tz: tzinfo | None = None
        self.now: Callable[[], datetime] = datetime.now
        self.current: Report | None = None
        self.student: StudentLine | None = None
        self._tasks: set[BackgroundTask] = set()
        self._latest: BackgroundTask | None = None
        self.period_combo = QComboBox()
        self.period_combo.setAccessibleName("Period")
        for name in PERIOD_CHOICES:
            self.period_combo.addItem(name.capitalize(), name)
        self.from_edit = QDateEdit()
        self.from_edit.setAccessibleName("From day")
        self.to_edit = QDateEdit()
        self.to_edit.setAccessibleName("To day")
        for edit in (self.from_edit, self.to_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            inner = edit.findChild(QLineEdit)
            if inner is not None:
                inner.setAccessibleName(edit.accessibleName())
        self.class_combo = QComboBox()
        self.class_combo.setAccessibleName("Class in the report")
        self.totals_label = QLabel("")
        self.totals_label.setObjectName("subtitle")
        self.totals_label.setWordWrap(True)
        self.totals_label.setAccessibleDescription("Totals")  # its name is its text
        self.report = _table(STUDENT_COLUMNS, "Students in the report", stretch_first=False)
        self.report.setObjectName("report")
        others_header = self.report.horizontalHeaderItem(STUDENT_COLUMNS.index("other computers"))
        if others_header is not None:
            others_header.setToolTip(elsewhere.LEGEND)
        self.lessons = _table(LESSON_COLUMNS, "The student's lessons")
        self.attempts = QTextBrowser()
        self.attempts.setAccessibleName("The lesson's attempts")
        self.attempts.setTabChangesFocus(True)
        self.detail_title = QLabel("Click a student for their lessons and chart.")
        self.detail_title.setObjectName("section_title")
        self.detail_title.setWordWrap(True)
        self.detail_label = QLabel("")
        self.detail_label.setWordWrap(True)
        self.detail_label.setAccessibleName("About the student")
        self.missed_label = QLabel("")
        self.missed_label.setWordWrap(True)
        self.missed_label.setAccessibleName("Questions most students missed")
        self.chart = DayChart()
        self.csv_button = QPushButton("Save CSV…")
        self.attempts_button = QPushButton("Save attempts CSV…")
        self.pdf_button = QPushButton("Save PDF…")
        for button in (self.csv_button, self.attempts_button, self.pdf_button):
            button.setAccessibleName(button.text().rstrip("…"))
        set_role(self.pdf_button, "primary")
        self._build_layout()
        self._connect_signals()

    def _build_layout(self) -> None:
        pickers = QHBoxLayout()
        pickers.setSpacing(8)
        for text, widget in (("Period", self.period_combo), ("From", self.from_edit),
                             ("To", self.to_edit), ("Class", self.class_combo)):
            label = QLabel(text)
            label.setBuddy(widget)
            pickers.addWidget(label)
            pickers.addWidget(widget)
        pickers.addStretch(1)
        exports = QHBoxLayout()
        exports.addStretch(1)
        exports.addWidget(self.csv_button)
        exports.addWidget(self.attempts_button)
        exports.addWidget(self.pdf_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.totals_label)
        left_layout.addWidget(self.report, 3)
        left_layout.addWidget(self.chart, 2)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.detail_title)
        right_layout.addWidget(self.detail_label)
        right_layout.addWidget(self.lessons, 2)
        right_layout.addWidget(self.attempts, 3)
        right_layout.addWidget(self.missed_label)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([760, 540])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(pickers)
        layout.addWidget(splitter, 1)
        layout.addLayout(exports)

    def _connect_signals(self) -> None:
        self.period_combo.currentIndexChanged.connect(self.on_period_changed)
        self.from_edit.dateChanged.connect(self.on_range_changed)
        self.to_edit.dateChanged.connect(self.on_range_changed)
        self.class_combo.currentIndexChanged.connect(self.on_class_changed)
        self.report.itemSelectionChanged.connect(self.on_student_selected)
        self.lessons.itemSelectionChanged.connect(self.on_lesson_selected)
        self.csv_button.clicked.connect(lambda: self.export_requested.emit("csv"))
        self.attempts_button.clicked.connect(lambda: self.export_requested.emit("attempts"))
        self.pdf_button.clicked.connect(lambda: self.export_requested.emit("pdf"))

    # ------------------------------------------------------------ set-up

    def set_classes(self, classes: Sequence[tuple[str, str]]) -> None:
        """The class picker: (id, title) pairs, after "Everyone on this computer"."""
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItem("Everyone on this computer", None)
        for class_id, title in classes:
            self.class_combo.addItem(title, class_id)
        self.class_combo.setCurrentIndex(1 if classes else 0)
        self.class_combo.blockSignals(False)

    def period(self) -> periods.Period:
        """The period the pickers say."""
        name = self.period_combo.currentData()
        if name == RANGE:
            first = self.from_edit.date().toPython()
            last = self.to_edit.date().toPython()
            assert isinstance(first, date) and isinstance(last, date)
            return periods.Period(min(first, last), max(first, last))
        return periods.named(str(name), self.now().astimezone(), self.tz)

    def set_period(self, period: periods.Period) -> None:
        """Show a chosen range of days (and the report for it)."""
        self.period_combo.blockSignals(True)
        self.period_combo.setCurrentIndex(PERIOD_CHOICES.index(RANGE))
        self.period_combo.blockSignals(False)
        self._set_dates(period)
        self.refresh()

    def _set_dates(self, period: periods.Period) -> None:
        for edit, day in ((self.from_edit, period.first), (self.to_edit, period.last)):
            edit.blockSignals(True)
            edit.setDate(QDate(day.year, day.month, day.day))
            edit.setEnabled(self.period_combo.currentData() == RANGE)
            edit.blockSignals(False)

    # ------------------------------------------------------------ showing

    def refresh(self) -> None:
        """Build the report for the pickers' period and class in the background; it is
        shown (and ``report_shown`` emitted) when it is ready."""
        build = self.build
        if build is None:
            return
        period = self.period()
        class_id = self.class_combo.currentData()
        if self.period_combo.currentData() != RANGE:
            self._set_dates(period)
        task = BackgroundTask(lambda: build(period, class_id), "guide-report")
        self._latest = task
        self._tasks.add(task)
        task.succeeded.connect(self.on_report_built)
        task.failed.connect(self.on_report_failed)
        task.finished.connect(self.on_task_finished)
        self.totals_label.setText(f"Building the report for {period.label()}…")
        task.start()

    @Slot(object)
    def on_report_built(self, report: Report) -> None:
        if self.sender() is self._latest:
            self.show_report(report)
            self.report_shown.emit()
            self._fetch_others(report)

    def _fetch_others(self, report: Report) -> None:
        """Read the report's students' results from other computers, then show it again."""
        fetch, build = self.fetch_others, self.build
        if fetch is None or build is None or not report.students:
            return
        ids = [s.student_id for s in report.students]
        period, class_id = report.period, report.class_id

        def work() -> Report:
            status = fetch(ids)
            return replace(build(period, class_id), others=status)

        task = BackgroundTask(work, "guide-report-others")
        self._latest = task
        self._tasks.add(task)
        task.succeeded.connect(self.on_others_built)
        task.failed.connect(self.on_others_failed)
        task.finished.connect(self.on_task_finished)
        self._show_totals(report, others_status(report, fetching=True))
        task.start()

    @Slot(object)
    def on_others_built(self, report: Report) -> None:
        if self.sender() is not self._latest:
            return
        student = self.student.student_id if self.student is not None else None
        lessons = self.lessons.selectedItems()
        lesson = str(lessons[0].data(Qt.ItemDataRole.UserRole)) if lessons else None
        self.show_report(report)
        if student is not None:
            _select(self.report, student)
            if lesson is not None:
                _select(self.lessons, lesson)
        self.others_shown.emit()

    @Slot(object)
    def on_others_failed(self, error: object) -> None:
        if self.sender() is self._latest:
            if self.current is not None:
                self._show_totals(self.current, elsewhere.NOT_FETCHED_TEXT.format(reason=error))
            self.others_shown.emit()

    @Slot(object)
    def on_report_failed(self, error: object) -> None:
        if self.sender() is self._latest:
            self.totals_label.setText(f"The report could not be built: {error}")

    @Slot()
    def on_task_finished(self) -> None:
        sender = self.sender()
        self._tasks = {t for t in self._tasks if t is not sender}

    def show_report(self, report: Report) -> None:
        """Fill the table, totals, class chart and most-missed questions."""
        self.current = report
        self.student = None
        self._show_totals(report, others_status(report))
        tips = [disabled_text(s) if not s.can_sign_in else s.delivery.todo
                for s in report.students]
        rows = []
        for line in report.students:
            cells = student_cells(line)
            if not line.can_sign_in:
                cells[0] += TURNED_OFF_MARK
            rows.append(cells)
        self.report.blockSignals(True)
        _fill(self.report, rows, [s.student_id for s in report.students], tips)
        self.report.blockSignals(False)
        self.lessons.setRowCount(0)
        self.attempts.clear()
        self.detail_title.setText("Click a student for their lessons and chart.")
        self.detail_label.setText("")
        self.chart.set_days(report.days, report.goal_minutes, "Everyone: minutes and XP per day")
        self.missed_label.setText(missed_text(report))

    def _show_totals(self, report: Report, others: str) -> None:
        """The totals line, with whether other computers' results are in (when asked)."""
        self.totals_label.setText(f"{totals_text(report)} · {others}" if others
                                  else totals_text(report))

    def show_student(self, student_id: str) -> None:
        """A student's lessons, chart and (when turned off) why and where to change it."""
        line = self.current.student(student_id) if self.current else None
        self.student = line
        if line is None:
            return
        lessons = "1 lesson" if line.lessons_studied == 1 else f"{line.lessons_studied} lessons"
        attempts = "1 attempt" if line.attempts == 1 else f"{line.attempts} attempts"
        self.detail_title.setText(f"{line.name}: {lessons}, {attempts}")
        about = []
        if not line.can_sign_in:
            about.append(disabled_text(line))
        if line.next_lessons:
            about.append("Next: " + "; ".join(
                f"{n.course_title}: {n.lesson_title or 'all mastered'}" for n in line.next_lessons
            ))
        if line.delivery.todo:
            about.append(f"Delivery: {line.delivery.text()}. {line.delivery.todo}")
        self.detail_label.setText("\n".join(about))
        self.lessons.blockSignals(True)
        _fill(self.lessons, [lesson_cells(x) for x in line.lessons],
              [x.lesson_id for x in line.lessons])
        self.lessons.blockSignals(False)
        self.attempts.clear()
        self.chart.set_days(line.days, line.goal_minutes, f"{line.name}: minutes and XP per day")

    def show_lesson(self, lesson_id: str) -> None:
        """The chosen student's attempts at one lesson."""
        if self.student is None:
            return
        lesson = next((x for x in self.student.lessons if x.lesson_id == lesson_id), None)
        if lesson is not None:
            self.attempts.setHtml(attempts_html(lesson))

    # ------------------------------------------------------------ slots

    def on_period_changed(self, _index: int) -> None:
        ranged = self.period_combo.currentData() == RANGE
        self.from_edit.setEnabled(ranged)
        self.to_edit.setEnabled(ranged)
        self.refresh()

    def on_range_changed(self, _day: QDate) -> None:
        if self.period_combo.currentData() == RANGE:
            self.refresh()

    def on_class_changed(self, _index: int) -> None:
        self.refresh()

    def on_student_selected(self) -> None:
        items = self.report.selectedItems()
        if items:
            self.show_student(str(items[0].data(Qt.ItemDataRole.UserRole)))

    def on_lesson_selected(self) -> None:
        items = self.lessons.selectedItems()
        if items:
            self.show_lesson(str(items[0].data(Qt.ItemDataRole.UserRole)))


def _select(table: QTableWidget, key: str) -> None:
    """Select the row whose key is ``key`` (its selection slot then shows it)."""
    table.clearSelection()
    for row in range(table.rowCount()):
        item = table.item(row, 0)
        if item is not None and item.data(Qt.ItemDataRole.UserRole) == key:
            table.selectRow(row)
            return


def totals_text(report: Report) -> str:
    """One line above the table: who studied, minutes and XP, the period and zone."""
    studied = [s for s in report.students if s.attempts or s.minutes["focused"]]
    if not studied:
        return f"Nobody studied on this computer in {report.period.label()}."
    minutes = sum(s.minutes["focused"] for s in studied)
    xp = sum((s.xp for s in studied), start=studied[0].xp * 0)
    people = "1 student" if len(studied) == 1 else f"{len(studied)} students"
    return (f"{people} studied · {minutes:.1f} focused minutes · {xp_text(xp)} XP · "
            f"{report.period.label()} ({report.time_zone})")


def missed_text(report: Report, per_lesson: int = 3) -> str:
    """The questions most students missed, a few per lesson."""
    if not report.missed:
        return ""
    shown: dict[str, list[str]] = {}
    for m in report.missed:
        items = shown.setdefault(m.lesson_title, [])
        if len(items) < per_lesson:
            items.append(f"{m.item} ({m.missed_by} of {m.answered_by})")
    return "Most missed: " + "; ".join(f"{title}: {', '.join(items)}"
                                       for title, items in shown.items())
