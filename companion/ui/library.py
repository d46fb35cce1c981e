"""The lesson library: the student's courses and lessons with their state, today's focused
minutes and XP against the daily goal.

Each lesson is a card in a one-column tree (so arrow keys, Tab and Enter work as in any
list): a state icon, the title, subject and grade, the state in words (Open, Mastered ✓,
Locked) and one more line: attempts and best accuracy, or for a locked lesson what unlocks
it. A panel beside the list shows today's XP against the goal.

Signals:
    lesson_chosen(str): the student asked to open this lesson id (open or mastered only).
    sign_out_requested(): the student pressed "Sign out".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from companion.core.library_types import CourseRow, LessonRow, TodayStats
from companion.core.signin_types import SignedIn
from companion.ui import styles
from companion.ui.notice import DismissableNotice
from companion.ui.ports import LessonLibrary
from companion.ui.styles import (
    activate_on_enter,
    chain_tab_order,
    make_heading,
    repolish,
    scaled_font,
    set_role,
)

STATE_WORDS = {"locked": "Locked", "open": "Open", "mastered": "Mastered ✓"}

STATE_ROLE = Qt.ItemDataRole.UserRole + 1  # "open" | "mastered" | "locked"
LINES_ROLE = Qt.ItemDataRole.UserRole + 2  # the card's text lines (title first)
KIND_ROLE = Qt.ItemDataRole.UserRole + 3  # "course" | "lesson"
HINT_ROLE = Qt.ItemDataRole.StatusTipRole  # what unlocks a locked lesson

Index = QModelIndex | QPersistentModelIndex


def minutes_text(minutes: float) -> str:
    """1.7 → "1.7", 3.0 → "3"."""
    return f"{minutes:.1f}".removesuffix(".0")


def today_text(stats: TodayStats) -> str:
    """One line: focused minutes and XP against the goal."""
    return (
        f"Today: {minutes_text(stats.focused_minutes)} focused minutes · "
        f"{stats.xp} of {stats.goal_xp} XP"
    )


def goal_text(stats: TodayStats) -> str:
    """A friendly line about the daily goal."""
    left = Decimal(stats.goal_xp) - Decimal(stats.xp)
    if left <= 0:
        return "You reached today's goal. Great work!"
    if stats.xp == 0:
        return f"Every focused minute earns 1 XP. {left} XP to today's goal."
    return f"{left} XP to go to reach today's goal."


def grade_text(grade: str) -> str:
    """ "05" → "Grade 5"; other grade codes as they are."""
    grade = (grade or "").strip()
    if grade.isdigit():
        return f"Grade {int(grade)}"
    return f"Grade {grade}" if grade else ""


def lesson_lines(row: LessonRow) -> tuple[str, str, str]:
    """A lesson card's three lines: title; subject and grade; attempts or what unlocks it."""
    lesson = row.lesson
    about = [p for p in (lesson.subject, grade_text(lesson.grade)) if p and p != "None"]
    second = " · ".join(about) or "Lesson"
    if row.state == "locked":
        third = row.unlock_hint or "Locked: finish the lessons before it first"
    elif row.attempts:
        times = "1 time" if row.attempts == 1 else f"{row.attempts} times"
        third = f"Tried {times}"
        if row.best_accuracy is not None:
            third += f" · best {row.best_accuracy:.0%} correct"
    else:
        third = "Not tried yet. Ready when you are!"
    return lesson.title, second, third


def course_lines(course_row: CourseRow) -> tuple[str, str]:
    """A course heading: title, and how many lessons are mastered."""
    total = len(course_row.lessons)
    done = sum(1 for row in course_row.lessons if row.state == "mastered")
    return course_row.course.title, f"{done} of {total} lessons mastered"


class LessonCardDelegate(QStyledItemDelegate):
    """Paints course headings and lesson cards from the items' ``LINES_ROLE``."""

    PAD = 12

    def _fonts(self, base: QFont) -> tuple[QFont, QFont, QFont]:
        return scaled_font(base, 1.2, bold=True), base, scaled_font(base, 0.95)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        title, body, _small = self._fonts(option.font)
        line = QFontMetrics(body).height()
        if index.data(KIND_ROLE) == "course":
            return QSize(200, int(QFontMetrics(title).height() * 1.3 + line + self.PAD))
        height = QFontMetrics(title).height() + 2 * line + 4 * self.PAD + 8
        return QSize(200, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        rect = QRectF(option.rect)
        lines = list(index.data(LINES_ROLE) or [index.data(Qt.ItemDataRole.DisplayRole)])
        title_font, body_font, small_font = self._fonts(option.font)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if index.data(KIND_ROLE) == "course":
            self._paint_course(painter, rect, lines, title_font, body_font)
        else:
            state_flags = option.state
            selected = bool(state_flags & QStyle.StateFlag.State_Selected)
            focused = selected and bool(state_flags & QStyle.StateFlag.State_HasFocus)
            self._paint_card(painter, rect.adjusted(4, 4, -4, -4), index, lines,
                             (title_font, body_font, small_font), selected, focused)
        painter.restore()

    def _paint_course(self, painter: QPainter, rect: QRectF, lines: list[str],
                      title_font: QFont, body_font: QFont) -> None:
        painter.setPen(QColor(styles.INK))
        painter.setFont(scaled_font(title_font, 1.1, bold=True))
        top = rect.adjusted(6, 0, -6, 0)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        title_h = QFontMetrics(painter.font()).height() * 1.3
        painter.drawText(QRectF(top.x(), top.y(), top.width(), title_h), flags, lines[0])
        if len(lines) > 1:
            painter.setFont(body_font)
            painter.setPen(QColor(styles.MUTED))
            painter.drawText(
                QRectF(top.x(), top.y() + title_h, top.width(), rect.height() - title_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, lines[1],
            )

    def _paint_card(self, painter: QPainter, rect: QRectF, index: Index, lines: list[str],
                    fonts: tuple[QFont, QFont, QFont], selected: bool, focused: bool) -> None:
        title_font, body_font, small_font = fonts
        state = str(index.data(STATE_ROLE) or "open")
        fg, bg, border = styles.STATE_COLOURS.get(state, styles.STATE_COLOURS["open"])
        fill = QColor(styles.PRIMARY_SOFT if selected else styles.CARD)
        if state == "locked" and not selected:
            fill = QColor("#f8f9fb")
        if focused:
            painter.setPen(QPen(QColor(styles.FOCUS), 3))
        elif selected:
            painter.setPen(QPen(QColor(styles.PRIMARY), 2))
        else:
            painter.setPen(QPen(QColor(styles.LINE), 1))
        painter.setBrush(fill)
        painter.drawRoundedRect(rect.adjusted(1.5, 1.5, -1.5, -1.5), 14, 14)
        pad = self.PAD
        line_h = QFontMetrics(body_font).height()
        title_h = QFontMetrics(title_font).height()
        icon = min(rect.height() - 2 * pad, 2.4 * line_h)
        icon_rect = QRectF(rect.x() + pad + 4, rect.center().y() - icon / 2, icon, icon)
        styles.draw_state_icon(painter, icon_rect, state)
        # the state in words, in a badge on the right
        word = STATE_WORDS.get(state, state)
        painter.setFont(body_font)
        metrics = QFontMetrics(body_font)
        badge_w = metrics.horizontalAdvance(word) + 2 * pad
        badge = QRectF(rect.right() - pad - badge_w, rect.center().y() - line_h * 0.8,
                       badge_w, line_h * 1.6)
        painter.setPen(QPen(QColor(border), 1))
        painter.setBrush(QColor(bg))
        painter.drawRoundedRect(badge, badge.height() / 2, badge.height() / 2)
        bold_body = QFont(body_font)
        bold_body.setBold(True)
        painter.setFont(bold_body)
        painter.setPen(QColor(fg))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, word)
        # the three lines
        left = icon_rect.right() + pad + 4
        width = badge.left() - pad - left
        y = rect.y() + pad
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.setFont(title_font)
        painter.setPen(QColor(styles.INK))
        painter.drawText(QRectF(left, y, width, title_h), flags, lines[0])
        y += title_h + pad / 2
        painter.setFont(body_font)
        painter.setPen(QColor(styles.MUTED))
        if len(lines) > 1:
            painter.drawText(QRectF(left, y, width, line_h), flags, lines[1])
        y += line_h + pad / 2
        if len(lines) > 2:
            if state == "locked":
                painter.setFont(bold_body)
                painter.setPen(QColor(fg))
            else:
                painter.setFont(small_font if state == "open" else body_font)
            painter.drawText(QRectF(left, y, width, line_h), flags, lines[2])


class LibraryWidget(QWidget):
    """The student's courses as cards: course → lessons with state and unlock hints.

    Signals:
        lesson_chosen(str): a lesson to open.
        sign_out_requested(): sign the student out.
    """

    lesson_chosen = Signal(str)
    sign_out_requested = Signal()

    def __init__(self, view: LessonLibrary | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.student: SignedIn | None = None
        self.greeting = QLabel("")
        make_heading(self.greeting, 1.7)
        self.greeting.setAccessibleDescription("Greeting")
        intro = QLabel("Choose a lesson with the arrow keys or the mouse, then press Start.")
        intro.setObjectName("subtitle")
        intro.setWordWrap(True)
        self.today_label = QLabel("")
        self.today_label.setObjectName("today_big")
        self.today_label.setAccessibleDescription("Today's progress")
        self.minutes_label = QLabel("")
        self.minutes_label.setAccessibleDescription("Focused minutes today")
        self.goal_bar = QProgressBar()
        self.goal_bar.setObjectName("goal_bar")
        self.goal_bar.setAccessibleName("Daily XP goal")
        self.goal_bar.setTextVisible(True)
        self.goal_label = QLabel("")
        self.goal_label.setObjectName("muted")
        self.goal_label.setWordWrap(True)
        self.goal_label.setAccessibleDescription("Daily goal")
        self.tree = QTreeWidget()
        self.tree.setObjectName("lesson_list")
        self.tree.setColumnCount(1)
        self.tree.setHeaderHidden(True)
        self.tree.setAccessibleName("Lessons")
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(0)
        self.tree.setItemsExpandable(False)
        self.tree.setUniformRowHeights(False)
        self.tree.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.tree.setItemDelegate(LessonCardDelegate(self.tree))
        self.hint_label = QLabel("")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleDescription("Lesson message")
        set_role(self.hint_label, "notice")
        self.open_button = QPushButton("Start lesson")
        self.open_button.setAccessibleName("Start lesson")
        self.open_button.setDefault(True)
        set_role(self.open_button, "primary")
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setAccessibleName("Sign out")
        self.notice = DismissableNotice()  # what happened to a lesson a crash stopped
        self._build_layout(intro)
        activate_on_enter(self.open_button, self.sign_out_button)
        chain_tab_order(self.tree, self.open_button, self.sign_out_button)
        self._set_hint("")
        self._connect_signals()

    def _build_layout(self, intro: QLabel) -> None:
        heading = QVBoxLayout()
        heading.setSpacing(2)
        heading.addWidget(self.greeting)
        heading.addWidget(intro)
        top = QHBoxLayout()
        top.addLayout(heading, 1)
        top.addWidget(self.sign_out_button, 0, Qt.AlignmentFlag.AlignTop)
        today = QFrame()
        today.setObjectName("card")
        today_title = QLabel("Today")
        today_title.setObjectName("section_title")
        card = QVBoxLayout(today)
        card.setContentsMargins(18, 14, 18, 16)
        card.setSpacing(10)
        card.addWidget(today_title)
        card.addWidget(self.today_label)
        card.addWidget(self.goal_bar)
        card.addWidget(self.minutes_label)
        card.addWidget(self.goal_label)
        side = QVBoxLayout()
        side.setSpacing(14)
        side.addWidget(today)
        side.addWidget(self.hint_label)
        side.addStretch(1)
        side.addWidget(self.open_button)
        body = QHBoxLayout()
        body.setSpacing(20)
        body.addWidget(self.tree, 3)
        body.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 20)
        layout.setSpacing(14)
        layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addLayout(body, 1)

    def _connect_signals(self) -> None:
        self.tree.itemActivated.connect(self.on_item_activated)
        self.tree.currentItemChanged.connect(self.on_current_changed)
        self.open_button.clicked.connect(self.on_open_clicked)
        self.sign_out_button.clicked.connect(self.sign_out_requested)

    def show_student(self, student: SignedIn) -> None:
        """Fill the screen for ``student`` (a ``SignedIn``)."""
        self.student = student
        self.greeting.setText(f"Hi, {student.name}!")
        self.refresh()
        if self.view is not None:
            self.notice.show_texts(self.view.take_notices(student.user_id))

    def refresh(self) -> None:
        """Read lessons and today's figures again (after a run ended)."""
        if self.student is None or self.view is None:
            return
        self._show_today(self.view.today(self.student.user_id))
        self.tree.clear()
        first_open: QTreeWidgetItem | None = None
        for course_row in self.view.lessons_for(self.student.user_id):
            course_item = self._course_item(course_row)
            self.tree.addTopLevelItem(course_item)
            for row in course_row.lessons:
                item = self._lesson_item(row)
                course_item.addChild(item)
                if first_open is None and row.state == "open":
                    first_open = item
            course_item.setExpanded(True)
        if first_open is not None:
            self.tree.setCurrentItem(first_open)
        self.tree.setFocus()

    def _show_today(self, stats: TodayStats) -> None:
        self.today_label.setText(f"{stats.xp} of {stats.goal_xp} XP")
        self.today_label.setAccessibleDescription(today_text(stats))
        minutes = minutes_text(stats.focused_minutes)
        unit = "minute" if minutes == "1" else "minutes"
        self.minutes_label.setText(f"{minutes} focused {unit} today")
        self.goal_label.setText(goal_text(stats))
        goal = max(int(stats.goal_xp * 10), 1)
        self.goal_bar.setRange(0, goal)
        self.goal_bar.setValue(min(int(stats.xp * 10), goal))
        self.goal_bar.setFormat(f"{stats.xp} / {stats.goal_xp} XP")

    def _course_item(self, course_row: CourseRow) -> QTreeWidgetItem:
        lines = course_lines(course_row)
        item = QTreeWidgetItem([lines[0]])
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        item.setData(0, KIND_ROLE, "course")
        item.setData(0, LINES_ROLE, lines)
        item.setData(0, Qt.ItemDataRole.AccessibleTextRole, ", ".join(lines))
        return item

    def _lesson_item(self, row: LessonRow) -> QTreeWidgetItem:
        lines = lesson_lines(row)
        word = STATE_WORDS.get(row.state, row.state)
        item = QTreeWidgetItem([row.lesson.title])
        item.setData(0, Qt.ItemDataRole.UserRole, row.lesson.id)
        item.setData(0, STATE_ROLE, row.state)
        item.setData(0, KIND_ROLE, "lesson")
        item.setData(0, LINES_ROLE, lines)
        item.setData(0, Qt.ItemDataRole.AccessibleTextRole,
                     f"{lines[0]}, {word}. {lines[1]}. {lines[2]}.")
        if row.unlock_hint:
            item.setToolTip(0, row.unlock_hint)
            item.setData(0, HINT_ROLE, row.unlock_hint)
        return item

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
        return None if item is None else str(item.data(0, STATE_ROLE))

    def card_lines(self, lesson_id: str) -> list[str]:
        """The lines written on a lesson's card, state word included (for tests)."""
        item = self.lesson_item(lesson_id)
        if item is None:
            return []
        state = str(item.data(0, STATE_ROLE))
        return [*item.data(0, LINES_ROLE), STATE_WORDS.get(state, state)]

    def request(self, lesson_id: str) -> bool:
        """Ask to open a lesson; a locked one says what unlocks it and is refused."""
        item = self.lesson_item(lesson_id)
        if item is None:
            return False
        if item.data(0, STATE_ROLE) == "locked":
            hint = item.data(0, HINT_ROLE) or "This lesson is locked."
            self._set_hint(f"{hint}. This lesson is locked for now.")
            return False
        self._set_hint("")
        self.lesson_chosen.emit(lesson_id)
        return True

    def show_message(self, text: str) -> None:
        """Say something beside the list (e.g. why a lesson did not open)."""
        self._set_hint(text)

    def _set_hint(self, text: str, role: str = "notice") -> None:
        """Show ``text`` in the panel: a ``notice`` (a lesson is locked, a problem) or
        ``info`` (the lesson under the cursor is ready)."""
        self.hint_label.setText(text)
        empty = not text
        if self.hint_label.property("empty") != empty or self.hint_label.property("role") != role:
            self.hint_label.setProperty("empty", empty)
            set_role(self.hint_label, role)
            repolish(self.hint_label)

    def on_item_activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        lesson_id = item.data(0, Qt.ItemDataRole.UserRole)
        if lesson_id:
            self.request(str(lesson_id))

    def on_current_changed(self, item: QTreeWidgetItem | None, _prev: Any = None) -> None:
        if item is None:
            self.open_button.setEnabled(False)
            return
        hint = item.data(0, HINT_ROLE)
        # Start only for a lesson that can start (not a locked one, not a course heading)
        self.open_button.setEnabled(not hint and bool(item.data(0, Qt.ItemDataRole.UserRole)))
        if hint:
            self._set_hint(f"{hint}. This lesson is locked for now.")
        else:
            self._set_hint(self._ready_text(item), "info")

    @staticmethod
    def _ready_text(item: QTreeWidgetItem) -> str:
        """What the panel says about an open or mastered lesson under the cursor."""
        state = item.data(0, STATE_ROLE)
        title = item.text(0)
        if state == "open":
            return f"'{title}' is ready. Press Start lesson or Enter to begin."
        if state == "mastered":
            return f"You mastered '{title}'. You can do it again to practise."
        return ""

    def on_open_clicked(self) -> None:
        item = self.tree.currentItem()
        if item is not None:
            self.on_item_activated(item)
