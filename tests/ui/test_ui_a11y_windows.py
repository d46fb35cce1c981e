"""Accessibility of every window: each control the keyboard can reach has a name a screen
reader can say; a student who cannot sign in is told why in visible words; every screen fits
a 1366×768 display, also with the text one and a half times larger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QLabel,
    QPushButton,
    QScrollArea,
    QWidget,
)

from companion.ui.signin import TURNED_OFF
from tests.ui.conftest import Harness, choose_class, submit_pin
from tests.ui.test_ui_keyboard_windows import make_setup_dialog, pulled_roster
from tests.ui.test_ui_visual_summary import MASTERED

SMALL_SCREEN = QSize(1366, 768)
# what a 1366×768 display leaves for the window: a title bar and a task bar
WORK_AREA = QSize(1366, 768 - 64)

Screen = tuple[str, Callable[[], None]]


def reachable(root: QWidget) -> list[QWidget]:
    """The visible widgets under ``root`` (itself included) that Tab can focus."""
    tab = Qt.FocusPolicy.TabFocus
    widgets = [root, *root.findChildren(QWidget)]
    return [w for w in widgets if w.isVisible() and (w.focusPolicy() & tab) == tab]


def spoken_name(widget: QWidget) -> str:
    """What a screen reader says for ``widget``: its accessible name, else its text."""
    if widget.accessibleName():
        return widget.accessibleName()
    if isinstance(widget, QAbstractButton | QLabel):
        return widget.text().strip()
    return ""


def unnamed(root: QWidget) -> list[str]:
    """Reachable widgets with neither an accessible name nor visible text."""
    return [f"{type(w).__name__} {w.objectName()!r}" for w in reachable(root)
            if not spoken_name(w)]


def main_screens(h: Harness) -> Iterator[Screen]:
    """Every screen of the main window, one after the other (each step moves on)."""
    w = h.window
    svc = h.shell.services.signin

    def names() -> None:
        choose_class(h.qtbot, w.signin)

    def pin() -> None:
        next(b for b in w.signin.name_buttons() if b.text() == "Ava").click()

    def first_pin() -> None:
        minh = next(s for s in svc.students(svc.classes()[0].id) if s.display_name == "Minh")
        assert svc.reset_pin(minh.id, svc.guides()[0].id, "9999").status == "ok"
        w.signin.show_classes()
        names()
        next(b for b in w.signin.name_buttons() if b.text() == "Minh").click()
        w.signin.pin_edit.setText("1234")
        submit_pin(h.qtbot, w.signin)
        assert w.signin.first_pin_box.isVisible()

    def library() -> None:
        w.signin.show_classes()
        names()
        pin()
        w.signin.pin_edit.setText("1234")
        submit_pin(h.qtbot, w.signin)
        assert w.stack.currentWidget() is w.library

    def summary() -> None:
        w.on_session_finished(MASTERED)
        assert w.stack.currentWidget() is w.summary

    def guide() -> None:
        w.sign_out("button")
        w.on_guide_signed_in(SimpleNamespace(name="Maria", user_id="demo-guide-1"))
        assert w.stack.currentWidget() is w.guide_view

    yield "classes", lambda: None
    yield "names", names
    yield "pin", pin
    yield "first pin", first_pin
    yield "library", library
    yield "summary", summary
    yield "guide", guide


@pytest.fixture
def larger_text(qapp: QApplication) -> Iterator[Callable[[float], None]]:
    """Set the application font to a multiple of its size; restored afterwards."""
    before = QApplication.font()

    def scale(factor: float) -> None:
        font = QApplication.font()
        font.setPointSizeF(before.pointSizeF() * factor)
        QApplication.setFont(font)

    yield scale
    QApplication.setFont(before)


def fits(window: QWidget, area: QSize = WORK_AREA) -> None:
    """``window`` can be laid out inside ``area`` without clipping anything."""
    hint = window.minimumSizeHint()
    assert hint.width() <= area.width() and hint.height() <= area.height(), hint
    window.resize(SMALL_SCREEN.boundedTo(area))
    QApplication.processEvents()
    for button in window.findChildren(QPushButton):
        if button.isVisible():
            need = button.minimumSizeHint()
            got = button.size()
            assert got.width() >= need.width() and got.height() >= need.height(), \
                (button.text(), got, need)


# --- names --------------------------------------------------------------------------------


def test_every_reachable_control_has_a_name(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    seen = 0
    for screen, go in main_screens(harness):
        go()
        assert unnamed(w) == [], screen
        seen += len(reachable(w))
    assert seen >= 30  # the walk really visited the controls


def test_every_setup_page_control_has_a_name(qtbot: Any) -> None:
    from companion.app.setup import School

    dialog = make_setup_dialog(qtbot)
    assert unnamed(dialog) == []
    dialog.on_checked([School("s1", "Demo School")])
    assert unnamed(dialog) == []
    dialog.on_pulled(pulled_roster())
    assert unnamed(dialog) == []
    assert [spoken_name(f) for f in dialog.guide_pins.values()] == \
        ["PIN for Maria", "PIN for Tom", "PIN for Ana"]


def test_the_walk_finds_a_control_without_a_name(qtbot: Any) -> None:
    root = QWidget()
    qtbot.addWidget(root)
    QScrollArea(root)  # focusable, no name, no text
    named = QPushButton("OK", root)
    root.show()
    assert unnamed(root) == ["QScrollArea ''"]
    assert spoken_name(named) == "OK"


# --- a student who cannot sign in ---------------------------------------------------------


def test_turned_off_student_is_told_why_in_words(qtbot: Any, harness: Harness) -> None:
    signin = harness.window.signin
    choose_class(qtbot, signin)
    ethan = next(b for b in signin.name_buttons() if b.text().startswith("Ethan"))
    assert ethan.isVisible() and not ethan.isEnabled()
    assert ethan.text() == f"Ethan\n({TURNED_OFF})"
    assert "turned off" in ethan.accessibleName() or "cannot sign in" in ethan.accessibleName()
    assert "Ask a guide" in ethan.accessibleDescription()
    # the whole sentence fits on the button: two lines, not cut off
    assert ethan.height() >= ethan.sizeHint().height()
    others = [b for b in signin.name_buttons() if b is not ethan]
    assert all(b.isEnabled() and "\n" not in b.text() for b in others)


# --- 1366×768 and larger text -------------------------------------------------------------


def test_every_screen_fits_1366_by_768(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    for screen, go in main_screens(harness):
        go()
        QApplication.processEvents()
        try:
            fits(w)
        except AssertionError as exc:
            raise AssertionError(f"{screen}: {exc}") from exc


def test_text_scales_and_screens_still_fit(qtbot: Any, harness: Harness,
                                           larger_text: Callable[[float], None]) -> None:
    w = harness.window
    screens = dict(main_screens(harness))
    for step in ("names", "pin", "library"):
        screens[step]()
    lib = w.library
    heading = lib.greeting.sizeHint().height()
    body = lib.minutes_label.sizeHint().height()
    button = lib.open_button.sizeHint().height()
    pt = lib.minutes_label.font().pointSizeF()
    larger_text(1.5)
    QApplication.processEvents()
    assert lib.minutes_label.font().pointSizeF() == pytest.approx(pt * 1.5)
    assert lib.minutes_label.sizeHint().height() > body * 1.3
    assert lib.greeting.sizeHint().height() > heading * 1.3  # headings follow
    assert lib.open_button.sizeHint().height() > button * 1.2  # style sheet sizes follow
    fits(w)
    for step in ("summary", "guide"):
        screens[step]()
        QApplication.processEvents()
        fits(w)


def test_setup_dialog_fits_with_larger_text(qtbot: Any,
                                            larger_text: Callable[[float], None]) -> None:
    dialog = make_setup_dialog(qtbot)
    dialog.on_pulled(pulled_roster())
    fits(dialog)
    larger_text(1.5)
    QApplication.processEvents()
    fits(dialog)
