"""The check quiz and the external-lesson panel on their own: keyboard only, accessible
names, one report per question; and how a lesson's declaration becomes the sensing one."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from companion.content import ExternalLessonSpec, QuizQuestion
from companion.system.external import ExternalLesson, LaunchFailed
from companion.ui.check_quiz import CheckQuiz
from companion.ui.external_panel import (
    NO_XP,
    ExternalPanel,
    to_external_lesson,
    where_text,
)

QUESTIONS = (
    QuizQuestion("q1", "Which is a fruit?", ("Carrot", "Apple", "Leek"), 1),
    QuizQuestion("q2", "Which is blue?", ("Sky", "Grass"), 0),
)


def test_quiz_with_the_keyboard_alone(qtbot: Any) -> None:
    quiz = CheckQuiz()
    qtbot.addWidget(quiz)
    quiz.show()
    quiz.start(QUESTIONS)
    assert quiz.focusWidget() is quiz.radios[0]  # the first choice has the focus
    tab = Qt.FocusPolicy.TabFocus
    assert all(w.focusPolicy() & tab for w in [*quiz.radios, quiz.answer_button])
    got: list[tuple[str, bool]] = []
    quiz.answered.connect(lambda item, ok: got.append((item, ok)))
    assert quiz.progress.text() == "Question 1 of 2"
    assert [r.accessibleName() for r in quiz.radios] == ["Carrot", "Apple", "Leek"]
    assert quiz.box.accessibleName() == "Which is a fruit?"
    qtbot.keyClick(quiz.radios[0], Qt.Key.Key_Return)  # nothing chosen yet: no answer
    assert got == [] and not quiz.answer_button.isEnabled()
    qtbot.keyClick(quiz.radios[0], Qt.Key.Key_Space)  # choose "Carrot"
    qtbot.keyClick(quiz.radios[1], Qt.Key.Key_Space)  # no: "Apple" (arrows move there too)
    assert quiz.group.checkedId() == 1 and quiz.answer_button.isEnabled()
    qtbot.keyClick(quiz.radios[1], Qt.Key.Key_Return)
    assert got == [("q1", True)]
    assert quiz.progress.text() == "Question 2 of 2"
    assert quiz.group.checkedId() == -1 and not quiz.answer_button.isEnabled()
    qtbot.keyClick(quiz.radios[1], Qt.Key.Key_Space)  # "Grass": wrong
    with qtbot.waitSignal(quiz.finished):
        qtbot.keyClick(quiz.answer_button, Qt.Key.Key_Space)
    assert got == [("q1", True), ("q2", False)]
    assert quiz.current is None
    quiz.on_answer_clicked()  # a stray click after the end reports nothing
    assert len(got) == 2


def test_every_control_has_an_accessible_name(qtbot: Any) -> None:
    panel = ExternalPanel()
    quiz = CheckQuiz()
    for widget in (panel, quiz):
        qtbot.addWidget(widget)
    quiz.start(QUESTIONS)
    for widget in (panel, quiz):
        unnamed = [type(child).__name__ for child in widget.findChildren(QWidget)
                   if child.focusPolicy() != Qt.FocusPolicy.NoFocus
                   and child.isVisibleTo(widget) and not child.accessibleName()]
        assert unnamed == []


def test_panel_says_where_what_next_and_why_no_xp(qtbot: Any) -> None:
    panel = ExternalPanel()
    qtbot.addWidget(panel)
    app = ExternalLessonSpec(app="Scratch 3")
    panel.show_lesson(app, has_quiz=False, earns_no_xp=True, untracked="Wayland")
    assert panel.where.text() == ("Your lesson opened in Scratch 3. Work there; this window "
                                  "keeps your time.")
    assert "cannot be tracked here (Wayland)" in panel.notice.text()
    assert panel.notice.text().endswith(NO_XP)
    with qtbot.waitSignal(panel.done_requested):
        panel.done_button.click()
    with qtbot.waitSignal(panel.reopen_requested):
        panel.reopen_button.click()
    web = ExternalLessonSpec(title_pattern="x", url="https://example.org/")
    assert where_text(web).startswith("Your lesson opened in your web browser.")


def test_declarations_become_sensing_lessons_or_a_launch_failure() -> None:
    spec = ExternalLessonSpec(app="tuxmath", title_pattern="Tux", command=("tuxmath", "-f"))
    assert to_external_lesson(spec) == ExternalLesson("tuxmath", "Tux", None, ("tuxmath", "-f"))
    unfilled = ExternalLessonSpec(title_pattern="x", url="{sandbox}/demo/external/a")
    with pytest.raises(LaunchFailed, match="only known on the sandbox environment"):
        to_external_lesson(unfilled)
