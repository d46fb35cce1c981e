"""Keyboard-only use of every window: real key presses go to the widget that has the focus
(``QApplication.focusWidget()``), as they would for someone without a mouse.

Sign-in (arrows and Enter to a class, arrows through the name grid, Enter, the PIN, Enter;
Escape goes back), the lesson library (arrows, Enter starts an open lesson and refuses a
locked one with the reason shown), the summary ("Back to lessons"), the guide view (Tab
reaches the table and every action) and the set-up dialog (Tab visits every field and
button of each page in screen order).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from companion.app.setup import PulledRoster, School, SetupFlow
from companion.core.clock import FakeClock
from companion.session.signin import ClassInfo, GuideInfo
from companion.ui.setup_dialog import CLASSES_PAGE, SCHOOL_PAGE, SetupDialog
from tests.ui.conftest import ANSWER_TIMEOUT_MS, Harness
from tests.ui.test_ui_visual_summary import MASTERED

DRILL = "demo-math-drill"
READING = "demo-reading-passage"


# --- helpers (shared with the accessibility tests) ---------------------------------------


def focused() -> QWidget:
    """The widget with the keyboard focus (there must be one)."""
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(qtbot: Any, key: Qt.Key, times: int = 1,
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> QWidget:
    """Press ``key`` ``times`` on whatever has the focus; the widget focused afterwards."""
    for _ in range(times):
        qtbot.keyClick(focused(), key, modifier)
    return focused()


def press_until(qtbot: Any, signal: Any, key: Qt.Key = Qt.Key.Key_Return) -> QWidget:
    """Press ``key`` and wait for ``signal`` (names and PIN checks come off the UI thread)."""
    with qtbot.waitSignal(signal, timeout=ANSWER_TIMEOUT_MS):
        qtbot.keyClick(focused(), key)
    return focused()


def type_text(qtbot: Any, text: str) -> None:
    """Type ``text`` into the focused widget."""
    qtbot.keyClicks(focused(), text)


def activate(qtbot: Any, window: QWidget) -> None:
    """Make ``window`` the active window, so key presses reach its focus widget."""
    window.show()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None
                    and QApplication.focusWidget().window() is window, timeout=5_000)


def tab_cycle(qtbot: Any, limit: int = 40) -> list[QWidget]:
    """Tab from the focused widget until the focus comes back to it: the Tab order."""
    start = focused()
    seen = [start]
    for _ in range(limit):
        widget = press(qtbot, Qt.Key.Key_Tab)
        if widget is start:
            return seen
        assert widget not in seen, f"Tab is stuck in a loop at {widget}"
        seen.append(widget)
    raise AssertionError("Tab never came back to where it started")


def tab_to(qtbot: Any, target: QWidget, limit: int = 40) -> None:
    """Press Tab until ``target`` has the focus."""
    for _ in range(limit):
        if focused() is target:
            return
        press(qtbot, Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached {target.accessibleName() or target}")


def sign_in_by_keyboard(qtbot: Any, h: Harness, name: str = "Ava", pin: str = "1234") -> None:
    """Sign a student in with the keyboard alone: the first class, ``name``, the PIN."""
    w = h.window
    activate(qtbot, w)
    assert focused() is w.signin.class_list
    press_until(qtbot, w.signin.names_shown)
    assert w.signin.stack.currentIndex() == 1
    for _ in range(len(w.signin.name_buttons())):
        if cast(QPushButton, focused()).text() == name:
            break
        press(qtbot, Qt.Key.Key_Right)
    assert cast(QPushButton, focused()).text() == name
    press(qtbot, Qt.Key.Key_Return)
    assert focused() is w.signin.pin_edit
    type_text(qtbot, pin)
    with qtbot.waitSignal(w.signin.signed_in, timeout=ANSWER_TIMEOUT_MS):
        press(qtbot, Qt.Key.Key_Return)


def sign_in_guide_by_keyboard(qtbot: Any, h: Harness) -> None:
    """A guide signs in with the keyboard: "Sign in as guide", the first guide, the PIN."""
    w = h.window
    activate(qtbot, w)
    tab_to(qtbot, w.signin.guide_button)
    press_until(qtbot, w.signin.names_shown)
    assert w.signin.names_title.text() == "Which guide are you?"
    press(qtbot, Qt.Key.Key_Return)
    assert focused() is w.signin.pin_edit
    type_text(qtbot, "9999")
    with qtbot.waitSignal(w.signin.guide_signed_in, timeout=ANSWER_TIMEOUT_MS):
        press(qtbot, Qt.Key.Key_Return)
    assert w.stack.currentWidget() is w.guide_view


def show_summary(qtbot: Any, h: Harness) -> None:
    """A signed-in student on the summary of a finished lesson."""
    sign_in_by_keyboard(qtbot, h)
    h.window.on_session_finished(MASTERED)
    assert h.window.stack.currentWidget() is h.window.summary


def make_setup_dialog(qtbot: Any) -> SetupDialog:
    """The set-up dialog on a flow that is never run (the tests call the page slots)."""
    flow = SetupFlow("staging", cast(Any, None), cast(Any, None), FakeClock())
    dialog = SetupDialog(flow, "No Timeback credentials for staging are stored yet.")
    qtbot.addWidget(dialog)
    activate(qtbot, dialog)
    return dialog


def pulled_roster() -> PulledRoster:
    return PulledRoster(
        "s1", 42,
        [ClassInfo("c1", "Math Lab A", 12), ClassInfo("c2", "Reading B", 9)],
        [GuideInfo("g1", "Maria", False), GuideInfo("g2", "Tom", False),
         GuideInfo("g3", "Ana", True)],
    )


@pytest.fixture
def no_lessons_open(harness: Harness) -> Iterator[None]:
    """Only the library's request is observed; no lesson window opens."""
    library = harness.window.library
    library.lesson_chosen.disconnect(harness.window.on_lesson_chosen)
    yield


# --- sign-in ------------------------------------------------------------------------------


def test_sign_in_with_the_keyboard_alone(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    signin = w.signin
    activate(qtbot, w)
    assert focused() is signin.class_list
    # arrows move through the classes; Enter opens the one under the cursor
    assert signin.class_list.count() >= 2
    press(qtbot, Qt.Key.Key_Down)
    assert signin.class_list.currentRow() == 1
    press(qtbot, Qt.Key.Key_Up)
    assert signin.class_list.currentRow() == 0
    press_until(qtbot, signin.names_shown)
    assert signin.stack.currentIndex() == 1
    names = [b.text().split("\n")[0] for b in signin.name_buttons()]
    assert focused() is signin.name_buttons()[0]
    # Right skips a turned-off name; Down goes a row down the grid, Up back
    assert names[:3] == ["Ava", "Ethan", "Mateo"]
    assert cast(QPushButton, press(qtbot, Qt.Key.Key_Right)).text() == "Mateo"
    assert cast(QPushButton, press(qtbot, Qt.Key.Key_Left)).text() == "Ava"
    assert cast(QPushButton, press(qtbot, Qt.Key.Key_Down)).text() == names[4]
    assert cast(QPushButton, press(qtbot, Qt.Key.Key_Up)).text() == "Ava"
    # Escape goes back to the classes, Enter comes back to the names
    press(qtbot, Qt.Key.Key_Escape)
    assert signin.stack.currentIndex() == 0
    assert focused() is signin.class_list
    press_until(qtbot, signin.names_shown)
    assert signin.stack.currentIndex() == 1
    # Enter on a name opens the PIN page with the focus in the PIN field
    press(qtbot, Qt.Key.Key_Return)
    assert signin.stack.currentIndex() == 2
    assert focused() is signin.pin_edit
    # Escape: back to the names, on the name that was chosen
    press(qtbot, Qt.Key.Key_Escape)
    assert signin.stack.currentIndex() == 1
    assert cast(QPushButton, focused()).text() == "Ava"
    press(qtbot, Qt.Key.Key_Return)
    type_text(qtbot, "1234")
    with qtbot.waitSignal(signin.signed_in, timeout=ANSWER_TIMEOUT_MS) as blocker:
        press(qtbot, Qt.Key.Key_Return)
    assert blocker.args[0].name.startswith("Ava")
    assert w.stack.currentWidget() is w.library


def test_back_buttons_work_by_tab_and_enter(qtbot: Any, harness: Harness) -> None:
    signin = harness.window.signin
    activate(qtbot, harness.window)
    press_until(qtbot, signin.names_shown)
    press(qtbot, Qt.Key.Key_Return)
    assert focused() is signin.pin_edit
    # the PIN page in screen order: PIN, Back, Sign in
    assert tab_cycle(qtbot) == [signin.pin_edit, signin.pin_back, signin.pin_button]
    tab_to(qtbot, signin.pin_back)
    press(qtbot, Qt.Key.Key_Return)
    assert signin.stack.currentIndex() == 1
    # the names page: every name that works, then "Back to classes"
    cycle = tab_cycle(qtbot)
    enabled = [b for b in signin.name_buttons() if b.isEnabled()]
    assert cycle == [*enabled, signin.names_back]
    tab_to(qtbot, signin.names_back)
    press(qtbot, Qt.Key.Key_Return)
    assert signin.stack.currentIndex() == 0


def test_wrong_pin_then_first_pin_form_by_keyboard(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    svc = harness.shell.services.signin
    class_id = svc.classes()[0].id
    minh = next(s for s in svc.students(class_id) if s.display_name == "Minh")
    assert svc.reset_pin(minh.id, svc.guides()[0].id, "9999").status == "ok"
    activate(qtbot, w)
    press_until(qtbot, w.signin.names_shown)
    while cast(QPushButton, focused()).text() != "Minh":
        press(qtbot, Qt.Key.Key_Right)
    press(qtbot, Qt.Key.Key_Return)
    type_text(qtbot, "1234")
    press_until(qtbot, w.signin.pin_checked)
    assert w.signin.first_pin_box.isVisible()
    assert focused() is w.signin.guide_combo
    # the guide's form in screen order, before Back and Sign in
    assert tab_cycle(qtbot) == [
        w.signin.guide_combo, w.signin.guide_pin_edit, w.signin.new_pin_edit,
        w.signin.set_pin_button, w.signin.pin_back, w.signin.pin_button, w.signin.pin_edit,
    ]
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "9999")
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "4321")
    with qtbot.waitSignal(w.signin.signed_in, timeout=ANSWER_TIMEOUT_MS):
        press(qtbot, Qt.Key.Key_Return)
    assert w.student.user_id == minh.id


# --- the lesson library -------------------------------------------------------------------


def test_library_arrows_and_enter(qtbot: Any, harness: Harness, no_lessons_open: None) -> None:
    sign_in_by_keyboard(qtbot, harness)
    lib = harness.window.library
    assert focused() is lib.tree
    assert lib.tree.currentItem() is lib.lesson_item(DRILL)
    press(qtbot, Qt.Key.Key_Down)
    assert lib.tree.currentItem() is lib.lesson_item(READING)
    assert "Master 'Quick Maths Drill' to unlock" in lib.hint_label.text()
    # Enter on a locked lesson: nothing starts and the reason stays in view
    with qtbot.assertNotEmitted(lib.lesson_chosen):
        press(qtbot, Qt.Key.Key_Return)
    assert "locked" in lib.hint_label.text()
    assert lib.hint_label.isVisible()
    press(qtbot, Qt.Key.Key_Up)
    with qtbot.waitSignal(lib.lesson_chosen) as chosen:
        press(qtbot, Qt.Key.Key_Return)
    assert chosen.args == [DRILL]


def test_library_buttons_by_tab_and_enter(qtbot: Any, harness: Harness,
                                          no_lessons_open: None) -> None:
    w = harness.window
    sign_in_by_keyboard(qtbot, harness)
    lib = w.library
    assert tab_cycle(qtbot) == [lib.tree, lib.open_button, lib.sign_out_button]
    press(qtbot, Qt.Key.Key_Tab)
    assert focused() is lib.open_button
    with qtbot.waitSignal(lib.lesson_chosen) as chosen:
        press(qtbot, Qt.Key.Key_Return)
    assert chosen.args == [DRILL]
    tab_to(qtbot, lib.sign_out_button)
    with qtbot.waitSignal(w.signed_out):
        press(qtbot, Qt.Key.Key_Return)
    assert w.stack.currentWidget() is w.signin
    assert focused() is w.signin.class_list


# --- the summary --------------------------------------------------------------------------


def test_summary_back_to_lessons_by_keyboard(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    show_summary(qtbot, harness)
    summary = w.summary
    assert focused() is summary.back_button
    assert summary.back_button in tab_cycle(qtbot)
    with qtbot.waitSignal(summary.done):
        press(qtbot, Qt.Key.Key_Return)
    assert w.stack.currentWidget() is w.library
    assert focused() is w.library.tree


# --- the guide view -----------------------------------------------------------------------


def test_guide_view_reachable_by_tab(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    sign_in_guide_by_keyboard(qtbot, harness)
    guide = w.guide_view
    assert focused() is guide.report
    panel = guide.panel
    assert tab_cycle(qtbot) == [
        guide.report, panel.period_combo, panel.class_combo, panel.csv_button,
        panel.attempts_button, panel.pdf_button, panel.lessons, panel.attempts,
        guide.sync_button, guide.add_lessons_button, guide.sign_out_button,
        guide.tabs.tabBar(),
    ]
    # Shift+Tab goes back the same way (the page tabs sit above the table)
    assert press(qtbot, Qt.Key.Key_Backtab, modifier=Qt.KeyboardModifier.ShiftModifier) \
        is guide.tabs.tabBar()
    assert press(qtbot, Qt.Key.Key_Backtab, modifier=Qt.KeyboardModifier.ShiftModifier) \
        is guide.sign_out_button
    tab_to(qtbot, guide.sync_button)
    with qtbot.waitSignal(guide.sync_requested):
        press(qtbot, Qt.Key.Key_Return)
    tab_to(qtbot, guide.sign_out_button)
    with qtbot.waitSignal(w.signed_out):
        press(qtbot, Qt.Key.Key_Return)
    assert w.stack.currentWidget() is w.signin


def test_guide_sets_a_pin_by_keyboard(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    sign_in_guide_by_keyboard(qtbot, harness)
    guide = w.guide_view
    tab_to(qtbot, guide.tabs.tabBar())
    press(qtbot, Qt.Key.Key_Right)  # the "PINs and accounts" page
    assert guide.tabs.currentWidget() is guide.pin_page
    assert tab_cycle(qtbot)[:8] == [
        guide.tabs.tabBar(), guide.class_combo, guide.student_combo, guide.new_pin_edit,
        guide.confirm_pin_edit, guide.guide_pin_edit, guide.set_pin_button,
        guide.clear_lockout_button,
    ]
    tab_to(qtbot, guide.student_combo)
    press(qtbot, Qt.Key.Key_Down)  # the next student in the class who can sign in
    while not guide.student_combo.currentData()[1]:
        press(qtbot, Qt.Key.Key_Down)
    student = guide.student_combo.currentText()
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "2468")
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "2468")  # the same PIN again
    press(qtbot, Qt.Key.Key_Tab)
    type_text(qtbot, "9999")
    press(qtbot, Qt.Key.Key_Return)  # Enter in "Your PIN" sets it
    assert guide.pin_message.text() == f"New PIN set for {student}."


# --- the set-up dialog --------------------------------------------------------------------


def test_setup_dialog_pages_in_tab_order(qtbot: Any) -> None:
    dialog = make_setup_dialog(qtbot)
    cancel = dialog.buttons.button(dialog.buttons.StandardButton.Cancel)
    assert focused() is dialog.client_id
    assert tab_cycle(qtbot) == [dialog.client_id, dialog.secret, dialog.check_button, cancel]
    # Enter in the secret field checks (once, and never cancels, even after the focus has
    # been on Cancel); with a field empty the dialog says what is missing
    type_text(qtbot, "client-1")
    press(qtbot, Qt.Key.Key_Tab)
    problems: list[str] = []
    dialog.problem.connect(problems.append)
    with qtbot.assertNotEmitted(dialog.rejected):
        press(qtbot, Qt.Key.Key_Return)
    assert problems == ["Fill in the client id and the secret."]
    assert dialog.isVisible()
    # the school page
    dialog.on_checked([School("s1", "Demo School")])
    assert dialog.pages.currentIndex() == SCHOOL_PAGE
    assert focused() is dialog.school_combo
    assert tab_cycle(qtbot) == [dialog.school_combo, dialog.pull_button, cancel]
    # the classes page: the list, each guide PIN, Finish, Cancel
    dialog.on_pulled(pulled_roster())
    assert dialog.pages.currentIndex() == CLASSES_PAGE
    assert focused() is dialog.class_list
    pins = [dialog.guide_pins["g1"], dialog.guide_pins["g2"]]  # g3 has a PIN already
    assert tab_cycle(qtbot) == [dialog.class_list, *pins, dialog.finish_button, cancel]
    # Space ticks and unticks a class
    assert dialog.chosen_classes() == ["c1", "c2"]
    press(qtbot, Qt.Key.Key_Space)
    assert dialog.chosen_classes() == ["c2"]
    press(qtbot, Qt.Key.Key_Space)
    assert dialog.chosen_classes() == ["c1", "c2"]
    # Escape cancels
    with qtbot.waitSignal(dialog.rejected):
        qtbot.keyClick(focused(), Qt.Key.Key_Escape)
    assert not dialog.isVisible()

