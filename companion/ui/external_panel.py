"""The session window's panel for a lesson in another application (instead of the page).

It says what opened where ("Your lesson opened in your web browser. Work there; this window
keeps your time."), offers "Open it again" and "I'm done", and says plainly when the lesson
earns no XP (nothing checks it) or when time cannot be tracked on this computer. The live
focused time and state stay in the session header above it.

``to_external_lesson`` turns the content's ``ExternalLessonSpec`` into the sensing layer's
``ExternalLesson`` (content stays free of ``companion.system``).

Signals:
    reopen_requested(): the student asked to open the lesson again.
    done_requested(): the student pressed "I'm done".
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from companion.content import ExternalLessonSpec
from companion.system.external import ExternalLesson, LaunchFailed
from companion.ui.styles import make_heading, repolish, set_role

NO_XP = ("This lesson has no questions to check what you learned, so it earns no XP. "
         "Your focused time is still recorded.")
QUIZ_NEXT = ("When you have finished, come back here and press \u201cI'm done\u201d "
             "for a short quiz.")
NO_QUIZ_NEXT = "When you have finished, come back here and press \u201cI'm done\u201d."


def to_external_lesson(spec: ExternalLessonSpec) -> ExternalLesson:
    """The sensing layer's declaration of ``spec``; LaunchFailed when it cannot be used."""
    if spec.unfilled:
        raise LaunchFailed(f"its web address {spec.url!r} names a server that is only known "
                           "on the sandbox environment")
    try:
        return ExternalLesson(spec.app, spec.title_pattern, spec.url, spec.command)
    except ValueError as exc:
        raise LaunchFailed(str(exc)) from exc


def where_text(spec: ExternalLessonSpec) -> str:
    """What opened where, in the student's words."""
    place = "your web browser" if spec.url and not spec.command else (spec.app or "another app")
    return f"Your lesson opened in {place}. Work there; this window keeps your time."


def untracked_text(problem: str) -> str:
    """Time cannot be followed on this computer: say so plainly."""
    return ("This computer cannot tell which window is in front, so your time in the lesson "
            f"cannot be tracked here ({problem}). You can still do the lesson; only time "
            "spent in this window counts.")


class ExternalPanel(QWidget):
    """What the session window shows while the lesson runs in another application.

    Signals:
        reopen_requested(): "Open it again" was pressed.
        done_requested(): "I'm done" was pressed.
    """

    reopen_requested = Signal()
    done_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.where = QLabel("")
        make_heading(self.where, 1.3)
        self.where.setWordWrap(True)
        self.where.setAccessibleDescription("Where your lesson is")
        self.how = QLabel("Time counts while the lesson is in front and you are working in it. "
                          "Anything else in front counts as off task.")
        self.how.setWordWrap(True)
        self.how.setAccessibleDescription("How time counts")
        self.next_step = QLabel("")
        self.next_step.setWordWrap(True)
        self.next_step.setAccessibleDescription("What to do when you finish")
        self.notice = QLabel("")
        self.notice.setWordWrap(True)
        self.notice.setAccessibleDescription("Please note")
        set_role(self.notice, "notice")
        self.problem = QLabel("")
        self.problem.setWordWrap(True)
        self.problem.setObjectName("error_label")
        self.problem.setAccessibleDescription("Problem opening the lesson")
        self.reopen_button = QPushButton("Open it again")
        self.reopen_button.setAccessibleName("Open the lesson again")
        self.done_button = QPushButton("I'm done")
        self.done_button.setAccessibleName("I'm done with the lesson")
        set_role(self.done_button, "primary")
        buttons = QHBoxLayout()
        buttons.setSpacing(12)
        buttons.addWidget(self.reopen_button)
        buttons.addWidget(self.done_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 32, 32, 32)
        layout.setSpacing(14)
        layout.addWidget(self.where)
        layout.addWidget(self.how)
        layout.addWidget(self.next_step)
        layout.addWidget(self.notice)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        layout.addStretch(1)
        layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.reopen_button.clicked.connect(self.reopen_requested)
        self.done_button.clicked.connect(self.done_requested)

    def show_lesson(self, spec: ExternalLessonSpec, has_quiz: bool, earns_no_xp: bool,
                    untracked: str | None) -> None:
        """Describe a lesson that has just been opened."""
        self.where.setText(where_text(spec))
        self.next_step.setText(QUIZ_NEXT if has_quiz else NO_QUIZ_NEXT)
        notes = [untracked_text(untracked)] if untracked is not None else []
        if earns_no_xp:
            notes.append(NO_XP)
        self.notice.setText("\n\n".join(notes))
        self.notice.setVisible(bool(notes))
        self.notice.setProperty("empty", not notes)
        repolish(self.notice)
        self.show_problem("")
        self.done_button.setFocus()

    def show_problem(self, text: str) -> None:
        """Say why the lesson could not be opened again (empty: nothing wrong)."""
        self.problem.setText(text)
        self.problem.setVisible(bool(text))
