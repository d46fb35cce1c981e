"""The end-of-lesson summary: the XP and every step that explains it.

A big XP figure and a warm sentence, then one row per step in plain words: focused minutes,
accuracy, the 80 % check, the bonus (multiplier), the cap and mastery with what it unlocks.
The exact sums from the rules follow under "The sums, step by step".

Signals:
    done(): the student pressed "Back to lessons".
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from companion.core.words import EXPLAINED
from companion.ui.styles import activate_on_enter, make_heading, repolish, set_role

VERDICTS = ("gate", "mastery")  # rows whose value is a yes/no badge
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
# (key, name shown) of the fact rows, in order
FACTS = (
    ("minutes", "Focused time"),
    ("accuracy", "Accuracy"),
    ("gate", "80 % check"),
    ("bonus", "Multiplier"),
    ("cap", "XP limit"),
    ("mastery", "Mastery"),
)


def headline(summary: Any) -> str:
    """The big line: XP earned and whether the lesson was mastered."""
    if summary.abandoned:
        return f"{summary.lesson.title}: closed early, 0 XP"
    if not summary.completed:
        return f"{summary.lesson.title}: not finished, 0 XP"
    mastered = " · Mastered!" if summary.mastered else ""
    return f"{summary.lesson.title}: {summary.xp} XP{mastered}"


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def _minutes(summary: Any) -> str:
    minutes = summary.focused_minutes
    text = f"{minutes:.1f}".removesuffix(".0")
    return f"{text} minute" if text == "1" else f"{text} minutes"


NOT_COUNTED_WORDS = {kind: f"{kind} ({meaning})" for kind, meaning in EXPLAINED.items()}
"""e.g. "3 minutes off-task (with another window in front)": the one word list (core.words)."""


def not_counted_text(summary: Any) -> str:
    """What did not count, e.g. " Not counted: 3 minutes in other windows."; "" if none."""
    parts = []
    for kind, ms in getattr(summary, "not_counted_ms", ()):
        minutes = f"{ms / 60_000:.1f}".removesuffix(".0")
        unit = "minute" if minutes == "1" else "minutes"
        parts.append(f"{minutes} {unit} {NOT_COUNTED_WORDS.get(kind, kind)}")
    return f" Not counted: {', '.join(parts)}." if parts else ""


def message(summary: Any) -> str:
    """A warm sentence under the XP: well done, or kindly why there is no XP."""
    if summary.abandoned:
        return ("No XP this time. The lesson stopped because nobody was working in it for a "
                "while. That's OK: you can start it again whenever you are ready.")
    if not summary.completed:
        return ("No XP this time, because the lesson was ended before the finish. "
                "XP is for finished lessons, so try it again and go all the way!")
    if summary.accuracy is None or summary.questions == 0:
        return ("No XP this time: no questions were answered, so we could not check what "
                "you learned. Answer the questions to earn XP.")
    if not summary.gate_passed:
        return (f"No XP this time: you got {_pct(summary.accuracy)} right and XP starts at "
                "80 %. Have another go, you are getting there!")
    if summary.xp == 0:
        return ("You passed the 80 % check! There were not enough focused minutes for XP yet: "
                "every focused minute earns 1 XP.")
    if summary.mastered:
        return f"Great work! You earned {summary.xp} XP and mastered this lesson."
    return f"Well done! You earned {summary.xp} XP."


def gate_verdict(summary: Any) -> tuple[bool, str, str]:
    """The 80 % check: (passed, short verdict, what it means)."""
    if summary.accuracy is None or summary.questions == 0:
        return False, "Not passed", "No questions were answered, so nothing checked the learning."
    if summary.gate_passed:
        return True, "Passed ✓", (f"You got {_pct(summary.accuracy)} right. At 80 % or more, "
                                  "your focused minutes turn into XP.")
    return False, "Not passed", (f"You got {_pct(summary.accuracy)} right. XP needs at least "
                                 "80 % right answers, to show the learning stuck.")


def bonus_text(summary: Any) -> tuple[str, str]:
    """The multiplier in words: (value, what it means)."""
    if not summary.completed or not summary.gate_passed:
        return "None", "A multiplier counts only when the 80 % check is passed."
    m = summary.multiplier
    value = f"×{m:g}"
    if m > 1:
        return value, "Perfect first try: you get a quarter more XP!"
    if m < 1:
        return value, "A retry that is not perfect earns half XP. A perfect retry earns full XP."
    return value, "The normal rate: 1 focused minute = 1 XP."


def cap_text(summary: Any) -> tuple[str, str]:
    """The expectedXp cap in words: (value, what it means)."""
    settings = getattr(summary.lesson, "settings", None)
    expected = getattr(settings, "expected_xp", None)
    if summary.capped and expected is not None:
        return "Reached", (f"This lesson counts at most {expected} minutes, so extra time did "
                           "not add more XP. That's fine!")
    if expected is not None:
        return "Not reached", f"This lesson counts up to {expected} minutes."
    return "None", "This lesson has no limit on the minutes that count."


def mastery_text(summary: Any) -> tuple[bool, str, str]:
    """Mastery and what it unlocks: (mastered, short verdict, what it means)."""
    settings = getattr(summary.lesson, "settings", None)
    threshold = getattr(settings, "mastery_threshold", None)
    need = f"{float(threshold) * 100:.0f} %" if threshold is not None else "enough"
    if summary.mastered:
        nxt = summary.next_unlocked
        if nxt is not None:
            return True, "Mastered ✓", f"'{nxt.title}' is now open for you."
        return True, "Mastered ✓", "That was the last lesson of this course."
    return False, "Not this time", (f"Mastering needs {need} or more right. Mastering a "
                                    "lesson opens the next one.")


class SummaryWidget(QWidget):
    """Shows a ``SessionSummary``.

    Signals:
        done(): back to the library.
    """

    done = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("")
        make_heading(self.title, 1.6)
        self.title.setWordWrap(True)
        self.title.setAccessibleDescription("Lesson result")
        self.reason = QLabel("")
        self.reason.setWordWrap(True)
        self.reason.setAccessibleName("Why the lesson ended")
        set_role(self.reason, "notice")
        self.xp_card = QFrame()
        self.xp_card.setObjectName("xp_card")
        self.xp_figure = QLabel("0")
        self.xp_figure.setObjectName("xp_figure")
        self.xp_figure.setAccessibleName("XP earned")
        self.xp_figure.setAlignment(Qt.AlignmentFlag.AlignCenter)
        xp_unit = QLabel("XP earned")
        xp_unit.setObjectName("xp_unit")
        xp_unit.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setAccessibleDescription("What this means")
        card = QVBoxLayout(self.xp_card)
        card.setContentsMargins(20, 16, 20, 18)
        card.addWidget(self.xp_figure)
        card.addWidget(xp_unit)
        card.addSpacing(8)
        card.addWidget(self.message)
        card.addStretch(1)
        self.values: dict[str, QLabel] = {}
        self.helps: dict[str, QLabel] = {}
        self.names: dict[str, QLabel] = {}  # the fact rows' name labels
        facts = self._build_facts()
        self.lines = QListWidget()
        self.lines.setAccessibleName("How your XP was worked out")
        self.lines.setWordWrap(True)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.lines.setObjectName("sums")
        self.back_button = QPushButton("Back to lessons")
        self.back_button.setAccessibleName("Back to lessons")
        self.back_button.setDefault(True)
        set_role(self.back_button, "primary")
        activate_on_enter(self.back_button)
        self._build_layout(facts)
        self._connect_signals()

    def _build_facts(self) -> QFrame:
        frame = QFrame()
        frame.setObjectName("card")
        grid = QGridLayout(frame)
        grid.setContentsMargins(20, 14, 20, 14)
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(10)
        grid.setColumnStretch(2, 1)
        for row, (key, name) in enumerate(FACTS):
            name_label = QLabel(name)
            name_label.setObjectName("fact_name")
            value = QLabel("")
            value.setObjectName("verdict" if key in VERDICTS else "fact_value")
            value.setAccessibleName(name)
            help_label = QLabel("")
            help_label.setObjectName("fact_help")
            help_label.setWordWrap(True)
            help_label.setAccessibleDescription(f"{name}: what it means")
            grid.addWidget(name_label, row, 0, LEFT)
            grid.addWidget(value, row, 1, LEFT)
            grid.addWidget(help_label, row, 2)
            self.values[key] = value
            self.names[key] = name_label
            self.helps[key] = help_label
        return frame

    def _build_layout(self, facts: QFrame) -> None:
        sums_title = QLabel("The sums, step by step")
        sums_title.setObjectName("section_title")
        top = QHBoxLayout()
        top.setSpacing(20)
        top.addWidget(self.xp_card, 2)
        top.addWidget(facts, 5)
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.setContentsMargins(0, 0, 0, 0)
        inner.setSpacing(12)
        inner.addWidget(self.title)
        inner.addWidget(self.reason)
        inner.addLayout(top)
        inner.addWidget(sums_title)
        inner.addWidget(self.lines)
        inner.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setAccessibleName("Lesson summary")
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # its rows take the focus, not it
        scroll.setWidget(content)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 16, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignRight)

    def _connect_signals(self) -> None:
        self.back_button.clicked.connect(self.done)

    def show_summary(self, summary: Any) -> None:
        """Fill in a summary."""
        self.title.setText(headline(summary))
        self.reason.setText(summary.reason or "")
        self.reason.setVisible(bool(summary.reason))
        self.xp_figure.setText(str(summary.xp))
        self.xp_card.setProperty("zero", summary.xp == 0)
        repolish(self.xp_card)
        for child in self.xp_card.findChildren(QLabel):
            repolish(child)
        self.message.setText(message(summary))
        self._fill_facts(summary)
        self.lines.clear()
        self.lines.addItems(list(summary.explain))
        self._fit_lines()
        self.back_button.setFocus()

    def _fill_facts(self, summary: Any) -> None:
        self._set_fact("minutes", _minutes(summary),
                       "Time you were working in the lesson. 1 focused minute = 1 XP."
                       + not_counted_text(summary))
        if summary.accuracy is None or summary.questions == 0:
            self._set_fact("accuracy", "No answers", "No questions were answered.")
        else:
            self._set_fact("accuracy", f"{summary.correct} of {summary.questions} right",
                           f"That is {_pct(summary.accuracy)} correct.")
        passed, verdict, meaning = gate_verdict(summary)
        self._set_fact("gate", verdict, meaning, passed)
        self._set_fact("bonus", *bonus_text(summary))
        # a multiplier above 1 is a bonus; below 1 it is a retry rate, never a "bonus"
        self.names["bonus"].setText("Bonus" if summary.completed and summary.gate_passed
                                    and summary.multiplier > 1 else "Multiplier")
        self._set_fact("cap", *cap_text(summary))
        mastered, verdict, meaning = mastery_text(summary)
        self._set_fact("mastery", verdict, meaning, mastered)

    def _set_fact(self, key: str, value: str, meaning: str, ok: bool | None = None) -> None:
        label = self.values[key]
        label.setText(value)
        if ok is not None and label.property("ok") != ok:
            label.setProperty("ok", ok)
            repolish(label)
        self.helps[key].setText(meaning)

    def _fit_lines(self) -> None:
        """Size the sums list to its lines, so it needs no scroll bar of its own."""
        rows = self.lines.count()
        height = sum(self.lines.sizeHintForRow(i) for i in range(rows))
        self.lines.setFixedHeight(height + 2 * self.lines.frameWidth() + 4)

    def fact(self, key: str) -> tuple[str, str]:
        """A fact row's value and meaning (for tests): keys as in ``FACTS``."""
        return self.values[key].text(), self.helps[key].text()

    def explanation(self) -> list[str]:
        """The lines shown (for tests)."""
        return [self.lines.item(i).text() for i in range(self.lines.count())]
