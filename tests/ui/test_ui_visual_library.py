"""The lesson library's cards: each lesson says its state in words, a locked lesson says
what unlocks it on its card, the keyboard alone moves, explains and starts."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from companion.ui.library import goal_text, lesson_lines
from tests.ui.conftest import Harness, choose_class, submit_pin

DRILL = "demo-math-drill"
READING = "demo-reading-passage"


def sign_in(h: Harness, name: str = "Ava") -> Any:
    w = h.window
    choose_class(h.qtbot, w.signin)
    next(b for b in w.signin.name_buttons() if b.text() == name).click()
    w.signin.pin_edit.setText("1234")
    submit_pin(h.qtbot, w.signin)
    assert w.stack.currentWidget() is w.library
    return w.library


def test_cards_say_state_and_what_unlocks_a_locked_lesson(harness: Harness) -> None:
    lib = sign_in(harness)
    drill = lib.card_lines(DRILL)
    assert drill[0] == "Quick Maths Drill" and "Open" in drill
    reading = lib.card_lines(READING)
    assert "Locked" in reading
    assert "Master 'Quick Maths Drill' to unlock" in reading
    item = lib.lesson_item(READING)
    spoken = item.data(0, Qt.ItemDataRole.AccessibleTextRole)
    assert "Locked" in spoken and "Master 'Quick Maths Drill' to unlock" in spoken
    for widget in (lib.tree, lib.open_button, lib.sign_out_button, lib.goal_bar,
                   lib.today_label, lib.hint_label):
        # a label speaks its own text (its role is the description); controls have names
        spoken = widget.accessibleName() or (widget.text() if isinstance(widget, QLabel) else "")
        assert spoken and (widget.accessibleName() or widget.accessibleDescription())


def test_keyboard_moves_explains_and_refuses_locked(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    lib = sign_in(harness)
    lib.lesson_chosen.disconnect(w.on_lesson_chosen)  # only the request, not the lesson
    assert lib.tree.currentItem() is lib.lesson_item(DRILL)
    assert "ready" in lib.hint_label.text()
    qtbot.keyClick(lib.tree, Qt.Key.Key_Down)
    assert lib.tree.currentItem() is lib.lesson_item(READING)
    assert "Master 'Quick Maths Drill' to unlock" in lib.hint_label.text()
    with qtbot.assertNotEmitted(lib.lesson_chosen):
        qtbot.keyClick(lib.tree, Qt.Key.Key_Return)
    assert "locked" in lib.hint_label.text()
    qtbot.keyClick(lib.tree, Qt.Key.Key_Up)
    with qtbot.waitSignal(lib.lesson_chosen) as chosen:
        qtbot.keyClick(lib.tree, Qt.Key.Key_Return)
    assert chosen.args == [DRILL]


def test_today_panel_and_card_lines_in_words() -> None:
    from decimal import Decimal
    from types import SimpleNamespace

    stats = SimpleNamespace(xp=Decimal("2.0"), goal_xp=Decimal(20), focused_minutes=1.7)
    assert goal_text(stats) == "18.0 XP to go to reach today's goal."
    assert "reached" in goal_text(SimpleNamespace(xp=Decimal(21), goal_xp=Decimal(20)))
    lesson = SimpleNamespace(title="Adding", subject="Math", grade="03")
    row = SimpleNamespace(lesson=lesson, state="mastered", unlock_hint=None,
                          attempts=2, best_accuracy=0.9)
    assert lesson_lines(row) == ("Adding", "Math · Grade 3", "Tried 2 times · best 90% correct")
