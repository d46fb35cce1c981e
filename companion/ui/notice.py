"""A message the student reads once and closes: what happened to a lesson a crash stopped.

Signals:
    dismissed(): the student closed the message.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from companion.ui.styles import set_role


class DismissableNotice(QWidget):
    """A notice label with an OK button, hidden until ``show_texts`` has something to say.

    Signals:
        dismissed(): the student pressed OK.
    """

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Interrupted lesson")
        set_role(self.label, "notice")
        self.ok_button = QPushButton("OK")
        self.ok_button.setAccessibleName("Close the message about the interrupted lesson")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.ok_button)
        self.ok_button.clicked.connect(self.on_ok_clicked)
        self.hide()

    def show_texts(self, texts: list[str]) -> None:
        """Show these messages (one paragraph each); none hides the notice."""
        self.label.setText("\n\n".join(texts))
        self.setVisible(bool(texts))

    def on_ok_clicked(self) -> None:
        self.show_texts([])
        self.dismissed.emit()
