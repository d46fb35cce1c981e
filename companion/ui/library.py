"""The lesson library: the student's courses and lessons with their state, today's focused
minutes and XP against the daily goal.

Signals:
    lesson_chosen(str): the student asked to open this lesson id (open or mastered only).
    sign_out_requested(): the student pressed "Sign out".
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from companion.ui.styles import make_heading

STATE_WORDS = {"locked": "Locked", "open": "Open", "mastered": "Mastered ✓"}


def today_text(stats: Any) -> str:
    """One line: focused minutes and XP against the goal."""
    return (
        f"Today: {stats.focused_minutes:.0f} focused minutes · "
        f"{stats.xp} of {stats.goal_xp} XP"
    )


class LibraryWidget(QWidget):
    """The student's courses as a tree: course → lessons with state and unlock hints.

    Signals:
        lesson_chosen(str): a lesson to open.
        sign_out_requested(): sign the student out.
    """

    lesson_chosen = Signal(str)
    sign_out_requested = Signal()

    def __init__(self, view: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.student: Any = None
        self.greeting = QLabel("")
        make_heading(self.greeting)
        self.today_label = QLabel("")
        self.today_label.setAccessibleName("Today's progress")
        self.goal_bar = QProgressBar()
        self.goal_bar.setAccessibleName("Daily XP goal")
        self.goal_bar.setTextVisible(True)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Lesson", "State"])
        self.tree.setAccessibleName("Lessons")
        self.tree.setRootIsDecorated(False)
        self.hint_label = QLabel("")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("Lesson message")
        self.open_button = QPushButton("Start lesson")
        self.open_button.setAccessibleName("Start lesson")
        self.open_button.setDefault(True)
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setAccessibleName("Sign out")
        top = QHBoxLayout()
        top.addWidget(self.greeting, 1)
        top.addWidget(self.sign_out_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.hint_label, 1)
        buttons.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.today_label)
        layout.addWidget(self.goal_bar)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        QWidget.setTabOrder(self.tree, self.open_button)
        QWidget.setTabOrder(self.open_button, self.sign_out_button)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.tree.itemActivated.connect(self.on_item_activated)
        self.tree.currentItemChanged.connect(self.on_current_changed)
        self.open_button.clicked.connect(self.on_open_clicked)
        self.sign_out_button.clicked.connect(self.sign_out_requested)

    def show_student(self, student: Any) -> None:
        """Fill the screen for ``student`` (a ``SignedIn``)."""
        self.student = student
        self.greeting.setText(f"Hi, {student.name}")
        self.refresh()

    def refresh(self) -> None:
        """Read lessons and today's figures again (after a run ended)."""
        if self.student is None:
            return
        stats = self.view.today(self.student.user_id)
        self.today_label.setText(today_text(stats))
        goal = max(int(stats.goal_xp * 10), 1)
        self.goal_bar.setRange(0, goal)
        self.goal_bar.setValue(min(int(stats.xp * 10), goal))
        self.goal_bar.setFormat(f"{stats.xp} / {stats.goal_xp} XP")
        self.tree.clear()
        first_open: QTreeWidgetItem | None = None
        for course_row in self.view.lessons_for(self.student.user_id):
            course_item = QTreeWidgetItem([course_row.course.title, ""])
            course_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.tree.addTopLevelItem(course_item)
            for row in course_row.lessons:
                item = QTreeWidgetItem([row.lesson.title, STATE_WORDS.get(row.state, row.state)])
                item.setData(0, Qt.ItemDataRole.UserRole, row.lesson.id)
                item.setData(1, Qt.ItemDataRole.UserRole, row.state)
                item.setData(0, Qt.ItemDataRole.AccessibleTextRole,
                             f"{row.lesson.title}, {STATE_WORDS.get(row.state, row.state)}")
                if row.unlock_hint:
                    item.setToolTip(0, row.unlock_hint)
                    item.setData(0, Qt.ItemDataRole.StatusTipRole, row.unlock_hint)
                course_item.addChild(item)
                if first_open is None and row.state == "open":
                    first_open = item
            course_item.setExpanded(True)
        self.tree.resizeColumnToContents(0)
        if first_open is not None:
            self.tree.setCurrentItem(first_open)
        self.tree.setFocus()

    def lesson_item(self, lesson_id: str) -> QTreeWidgetItem | None:
        """The tree item of a lesson (for tests and keyboard navigation)."""
        for i in range(self.tree.topLevelItemCount()):
            course = self.tree.topLevelItem(i)
            if course is None:
                continue
            for j in range(course.childCount()):
                item = course.child(j)
                if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == lesson_id:
                    return item
        return None

    def state_of(self, lesson_id: str) -> str | None:
        """The state shown for a lesson."""
        item = self.lesson_item(lesson_id)
        return None if item is None else str(item.data(1, Qt.ItemDataRole.UserRole))

    def request(self, lesson_id: str) -> bool:
        """Ask to open a lesson; a locked one says what unlocks it and is refused."""
        item = self.lesson_item(lesson_id)
        if item is None:
            return False
        if item.data(1, Qt.ItemDataRole.UserRole) == "locked":
            hint = item.data(0, Qt.ItemDataRole.StatusTipRole) or "This lesson is locked."
            self.hint_label.setText(str(hint))
            return False
        self.hint_label.setText("")
        self.lesson_chosen.emit(lesson_id)
        return True

    def show_message(self, text: str) -> None:
        """Say something under the list (e.g. why a lesson did not open)."""
        self.hint_label.setText(text)

    def on_item_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        lesson_id = item.data(0, Qt.ItemDataRole.UserRole)
        if lesson_id:
            self.request(str(lesson_id))

    def on_current_changed(self, item: QTreeWidgetItem | None, _prev: Any = None) -> None:
        if item is None:
            return
        hint = item.data(0, Qt.ItemDataRole.StatusTipRole)
        self.hint_label.setText(str(hint) if hint else "")

    def on_open_clicked(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self.on_item_activated(item)
