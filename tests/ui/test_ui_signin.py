"""Sign-in flows on the demo school: PIN, wrong PIN, first PIN needs a guide, guide view."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import Qt

from companion.core.report_rows import STUDENT_COLUMNS
from tests.ui.conftest import (
    ANSWER_TIMEOUT_MS,
    Harness,
    choose_class,
    set_first_pin,
    show_guides,
    submit_pin,
)


def pick_student(qtbot: Any, h: Harness, name: str) -> None:
    signin = h.window.signin
    choose_class(qtbot, signin)
    buttons = {b.text(): b for b in signin.name_buttons()}
    assert name in buttons, sorted(buttons)
    qtbot.mouseClick(buttons[name], Qt.MouseButton.LeftButton)
    assert signin.stack.currentIndex() == 2


def test_demo_banner_and_environment_are_shown(harness: Harness) -> None:
    w = harness.window
    assert w.env_label.text() == "Environment: sandbox (demo school)"
    assert w.banner.isVisibleTo(w)
    assert "Nothing is sent to Timeback" in w.banner.text()
    assert "1234" in w.banner.text() and "9999" in w.banner.text()
    assert w.signin.class_list.count() >= 1


def test_student_signs_in_with_pin(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    pick_student(qtbot, harness, "Ava")
    qtbot.keyClicks(w.signin.pin_edit, "1234")
    with qtbot.waitSignal(w.signin.signed_in, timeout=ANSWER_TIMEOUT_MS) as blocker:
        qtbot.keyClick(w.signin.pin_edit, Qt.Key.Key_Return)
    assert blocker.args[0].name.startswith("Ava")
    assert w.stack.currentWidget() is w.library
    assert w.library.tree.topLevelItemCount() == 1
    assert "Ava" in w.user_label.text()


def test_wrong_pin_is_refused_and_counted(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    pick_student(qtbot, harness, "Mateo")
    w.signin.pin_edit.setText("0000")
    submit_pin(qtbot, w.signin)
    assert w.student is None
    assert "not right" in w.signin.error_label.text()
    assert "tries left" in w.signin.error_label.text()
    assert w.signin.stack.currentIndex() == 2


def test_first_pin_needs_a_guide(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    svc = harness.shell.services.signin
    class_id = svc.classes()[0].id
    student = next(s for s in svc.students(class_id) if s.display_name == "Minh")
    guide = svc.guides()[0]
    assert svc.reset_pin(student.id, guide.id, "9999").status == "ok"
    pick_student(qtbot, harness, student.display_name)
    w.signin.pin_edit.setText("1234")
    submit_pin(qtbot, w.signin)
    assert w.student is None
    assert w.signin.first_pin_box.isVisibleTo(w.signin)
    # without the guide's right PIN: refused
    w.signin.new_pin_edit.setText("4321")
    w.signin.guide_pin_edit.setText("0000")
    set_first_pin(qtbot, w.signin)
    assert w.student is None
    assert "guide PIN is not right" in w.signin.error_label.text()
    # with it: the PIN is set and the student is in
    w.signin.new_pin_edit.setText("4321")
    w.signin.guide_pin_edit.setText("9999")
    with qtbot.waitSignal(w.signin.signed_in, timeout=ANSWER_TIMEOUT_MS):
        w.signin.on_set_pin()
    assert w.student.user_id == student.id
    assert svc.sign_in(student.id, "4321").status == "ok"


def test_guide_signs_in_and_sees_report(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    show_guides(qtbot, w.signin)
    buttons = w.signin.name_buttons()
    assert buttons
    buttons[0].click()
    w.signin.pin_edit.setText("9999")
    with qtbot.waitSignal(w.signin.guide_signed_in, timeout=ANSWER_TIMEOUT_MS):
        w.signin.on_pin_submitted()
    assert w.stack.currentWidget() is w.guide_view
    assert w.guide_view.report.columnCount() == len(STUDENT_COLUMNS)
    assert w.guide_view.class_combo.count() >= 1


def test_idle_sign_out_after_ten_minutes(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    pick_student(qtbot, harness, "Ava")
    w.signin.pin_edit.setText("1234")
    submit_pin(qtbot, w.signin)
    assert w.student is not None
    harness.clock.advance(9 * 60_000)
    w.on_idle_check()
    assert w.student is not None
    harness.input.touch()
    harness.clock.advance(9 * 60_000)
    w.on_idle_check()
    assert w.student is not None  # input moved the deadline
    harness.clock.advance(60_000)
    with qtbot.waitSignal(w.signed_out) as blocker:
        w.on_idle_check()
    assert blocker.args == ["idle"]
    assert w.student is None
    assert w.stack.currentWidget() is w.signin


def test_enter_on_an_empty_pin_uses_no_try(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    svc = harness.shell.services.signin
    pick_student(qtbot, harness, "Mateo")
    for _ in range(8):  # more than the lockout allows
        qtbot.keyClick(w.signin.pin_edit, Qt.Key.Key_Return)
    assert "Type your PIN" in w.signin.error_label.text()
    w.signin.pin_edit.setText("0000")
    submit_pin(qtbot, w.signin)
    assert "not right" in w.signin.error_label.text()  # the first real try, not a lockout
    assert svc is not None


def test_the_lockout_counts_down(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    pick_student(qtbot, harness, "Mateo")
    for _ in range(5):
        w.signin.pin_edit.setText("0000")
        submit_pin(qtbot, w.signin)
    first = w.signin.error_label.text()
    assert "Try again in" in first
    w.signin.on_lockout_tick()  # what the one-second timer calls
    second = w.signin.error_label.text()
    wait = next(int(word) for word in first.split() if word.isdigit())
    assert f"Try again in {wait - 1} seconds" in second


def test_the_guides_pin_screen_says_it_is_a_guides(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    show_guides(qtbot, w.signin)
    buttons = w.signin.name_buttons()
    qtbot.mouseClick(buttons[0], Qt.MouseButton.LeftButton)
    assert w.signin.pin_title.text().startswith("Guide sign-in:")
    assert w.signin.pin_edit.accessibleName() == "Guide PIN"
    w.signin.show_classes()
    pick_student(qtbot, harness, "Ava")
    assert w.signin.pin_title.text().startswith("Hello,")
    assert w.signin.pin_edit.accessibleName() == "Your PIN"


class ThreadNotingSignIn:
    """The real sign-in service, noting on which thread each call runs."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.threads: dict[str, str] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def noted(*args: Any, **kwargs: Any) -> Any:
            self.threads[name] = threading.current_thread().name
            return method(*args, **kwargs)

        return noted


def test_names_and_the_pin_check_run_off_the_ui_thread(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    noting = ThreadNotingSignIn(harness.shell.services.signin)
    w.signin.service = noting
    with qtbot.waitSignal(w.signin.names_shown, timeout=ANSWER_TIMEOUT_MS):
        w.signin.on_class_chosen(w.signin.class_list.item(0))
        assert w.signin.class_status.text() == "Loading the names…"  # said while reading
    ava = next(b for b in w.signin.name_buttons() if b.text() == "Ava")
    qtbot.mouseClick(ava, Qt.MouseButton.LeftButton)
    w.signin.pin_edit.setText("1234")
    with qtbot.waitSignal(w.signin.signed_in, timeout=ANSWER_TIMEOUT_MS):
        w.signin.on_pin_submitted()
        assert w.signin.error_label.text() == "Checking your PIN…"
        w.signin.on_pin_submitted()  # a second Enter while checking asks nothing more
    main = threading.main_thread().name
    assert set(noting.threads) == {"students", "sign_in"}
    assert all(name != main for name in noting.threads.values()), noting.threads


def test_an_answer_for_a_screen_left_is_dropped(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    pick_student(qtbot, harness, "Ava")
    w.signin.pin_edit.setText("1234")
    with qtbot.assertNotEmitted(w.signin.pin_checked), \
            qtbot.assertNotEmitted(w.signin.signed_in):
        w.signin.on_pin_submitted()
        w.signin.on_pin_back()  # back to the names before the answer came
        # the check's thread ends and its answer reaches the UI thread, which drops it
        qtbot.waitUntil(lambda: not w.signin._tasks, timeout=ANSWER_TIMEOUT_MS)
    assert w.student is None and w.signin.stack.currentIndex() == 1
