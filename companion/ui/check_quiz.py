"""The check quiz of a lesson in another application, asked in the session window.

One question at a time: the question, its choices as radio buttons (arrow keys move between
them), and an "Answer" button (Return answers too). Each answer is reported once, then the
next question shows; after the last one the quiz is finished. Plain Qt widgets, usable
with the keyboard alone, every control with an accessible name.

Signals:
    answered(str, bool): the student answered an item; whether the choice was right.
    finished(): the last question was answered.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QGroupBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from companion.content import QuizQuestion
from companion.content.external import QUIZ_CHOICES
from companion.ui.styles import make_heading, set_role

INTRO = ("A few quick questions check what you learned. Choose an answer with the arrow "
         "keys or the mouse, then press Return or the Answer button.")


class CheckQuiz(QWidget):
    """Asks a lesson's check-quiz questions, one at a time.

    Signals:
        answered(str, bool): an item and whether it was answered right.
        finished(): every question has been answered.
    """

    answered = Signal(str, bool)
    finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.questions: tuple[QuizQuestion, ...] = ()
        self.index = 0
        self.heading = QLabel("Check what you learned")
        make_heading(self.heading, 1.4)
        self.heading.setAccessibleDescription("Check quiz")
        self.intro = QLabel(INTRO)
        self.intro.setWordWrap(True)
        self.intro.setAccessibleDescription("How the check quiz works")
        self.progress = QLabel("")
        self.progress.setObjectName("muted")
        self.progress.setAccessibleDescription("Question number")
        self.box = QGroupBox("")
        self.box_layout = QVBoxLayout(self.box)
        self.question = QLabel("")
        self.question.setWordWrap(True)
        self.question.setAccessibleDescription("Question")
        self.box_layout.addWidget(self.question)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.radios: list[QRadioButton] = []  # one per choice of the question showing
        self._pool = [QRadioButton("") for _ in range(QUIZ_CHOICES[1])]
        for number, radio in enumerate(self._pool):
            self.group.addButton(radio, number)
            self.box_layout.addWidget(radio)
        self.answer_button = QPushButton("Answer")
        self.answer_button.setAccessibleName("Answer this question")
        self.answer_button.setEnabled(False)
        set_role(self.answer_button, "primary")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.setSpacing(14)
        layout.addWidget(self.heading)
        layout.addWidget(self.intro)
        layout.addWidget(self.progress)
        layout.addWidget(self.box)
        layout.addWidget(self.answer_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.group.idToggled.connect(self.on_choice_toggled)
        self.answer_button.clicked.connect(self.on_answer_clicked)

    def start(self, questions: Sequence[QuizQuestion]) -> None:
        """Ask ``questions`` from the first."""
        self.questions = tuple(questions)
        self.index = 0
        self._show_question()

    @property
    def current(self) -> QuizQuestion | None:
        """The question showing (None once finished)."""
        return self.questions[self.index] if self.index < len(self.questions) else None

    def choose(self, choice: int) -> None:
        """Select a choice of the question showing (as a click would)."""
        self.radios[choice].setChecked(True)

    # --- slots ------------------------------------------------------------------------

    def on_choice_toggled(self, _id: int, _checked: bool) -> None:
        self.answer_button.setEnabled(self.group.checkedId() >= 0)

    def on_answer_clicked(self) -> None:
        question = self.current
        choice = self.group.checkedId()
        if question is None or choice < 0:
            return
        self.index += 1
        self.answered.emit(question.item, choice == question.answer)
        if self.current is None:
            self.finished.emit()
        else:
            self._show_question()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Return or Enter answers the question (when a choice is selected)."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                self.answer_button.isEnabled():
            self.answer_button.click()
            return
        super().keyPressEvent(event)

    # --- internals --------------------------------------------------------------------

    def _show_question(self) -> None:
        question = self.current
        if question is None:
            return
        total = len(self.questions)
        self.progress.setText(f"Question {self.index + 1} of {total}")
        self.box.setTitle(f"Question {self.index + 1}")
        self.box.setAccessibleName(question.question)
        self.question.setText(question.question)
        self.group.setExclusive(False)  # an exclusive group cannot clear its choice
        for radio in self._pool:
            radio.setChecked(False)
        self.group.setExclusive(True)
        count = len(question.choices)
        for radio, text in zip(self._pool, question.choices, strict=False):
            radio.setText(text)
            radio.setAccessibleName(text)
        for number, radio in enumerate(self._pool):
            radio.setVisible(number < count)
            radio.setEnabled(number < count)
        self.radios = self._pool[:count]
        self.answer_button.setEnabled(False)
        self.radios[0].setFocus()
