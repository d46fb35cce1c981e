"""The end-of-lesson summary: the XP and every step that explains it.

Signals:
    done(): the student pressed "Back to lessons".
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from companion.ui.styles import make_heading


def headline(summary: Any) -> str:
    """The big line: XP earned and whether the lesson was mastered."""
    if summary.abandoned:
        return f"{summary.lesson.title}: closed early, 0 XP"
    if not summary.completed:
        return f"{summary.lesson.title}: not finished, 0 XP"
    mastered = " · Mastered!" if summary.mastered else ""
    return f"{summary.lesson.title}: {summary.xp} XP{mastered}"


class SummaryWidget(QWidget):
    """Shows a ``SessionSummary``.

    Signals:
        done(): back to the library.
    """

    done = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("")
        make_heading(self.title)
        self.title.setWordWrap(True)
        self.reason = QLabel("")
        self.reason.setObjectName("error_label")
        self.reason.setWordWrap(True)
        self.lines = QListWidget()
        self.lines.setAccessibleName("How your XP was worked out")
        self.lines.setWordWrap(True)
        self.lines.setSpacing(4)
        self.back_button = QPushButton("Back to lessons")
        self.back_button.setAccessibleName("Back to lessons")
        self.back_button.setDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.reason)
        layout.addWidget(QLabel("How your XP was worked out:"))
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.back_button, 0, Qt.AlignmentFlag.AlignRight)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.back_button.clicked.connect(self.done)

    def show_summary(self, summary: Any) -> None:
        """Fill in a summary."""
        self.title.setText(headline(summary))
        self.reason.setText(summary.reason or "")
        self.reason.setVisible(bool(summary.reason))
        self.lines.clear()
        self.lines.addItems(list(summary.explain))
        self.back_button.setFocus()

    def explanation(self) -> list[str]:
        """The lines shown (for tests)."""
        return [self.lines.item(i).text() for i in range(self.lines.count())]
