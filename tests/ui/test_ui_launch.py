"""LTI launches and Sign in with Timeback into the running app, through the embedded
sandbox platform over HTTP (the auto-post form is posted by the test, as a browser would)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from companion.core.clock import FakeClock
from companion.system.fakes import FakeFocus, FakeInput, FakeLock
from tests.launch.helpers import launch_via_http


@dataclass
class LaunchApp:
    shell: Any
    window: Any
    launch: Any
    base_url: str
    opened: list[str]
    http: httpx.Client


@pytest.fixture
def app(qapp: Any, qtbot: Any) -> Iterator[LaunchApp]:
    from companion.app.shell import Shell

    clock = FakeClock(monotonic_ms=1_000_000)
    opened: list[str] = []
    shell = Shell(qapp, None, clock=clock, input_source=FakeInput(clock),
                  focus_source=FakeFocus(), lock_source=FakeLock(), single_instance=False,
                  tray=False, start_sync=False, launch_port=0, open_browser=opened.append)
    with qtbot.waitSignal(shell.ready, timeout=30_000):
        assert shell.start() is None
    qtbot.addWidget(shell.window)
    if shell.launch.services is None:
        with qtbot.waitSignal(shell.launch.services_ready, timeout=30_000):
            pass
    assert shell.launch.services is not None
    assert shell.window.signin.timeback_button.isEnabled()
    with httpx.Client(timeout=10) as http:
        yield LaunchApp(shell, shell.window, shell.launch, shell.runtime.sandbox.base_url,
                        opened, http)
    shell.close()


def launch(qtbot: Any, a: LaunchApp, student: str, lesson: str) -> str:
    with qtbot.waitSignal(a.launch.handled, timeout=20_000) as handled:
        answer, _ = launch_via_http(a.launch.services, a.http, a.base_url, student, lesson)
        assert answer.status_code == 200, answer.text
    return str(handled.args[0])


def test_a_launch_signs_the_student_in_with_the_lesson_open(qtbot: Any, app: LaunchApp) -> None:
    w = app.window
    with qtbot.waitSignal(w.lesson_opened, timeout=20_000):
        outcome = launch(qtbot, app, "demo-student-03", "demo-math-drill")
    assert outcome == "opened"
    assert w.student.user_id == "demo-student-03"
    assert w.stack.currentWidget() is w.session
    assert w.session.running


def test_a_launch_of_a_locked_lesson_shows_the_library_and_why(
    qtbot: Any, app: LaunchApp
) -> None:
    w = app.window
    # someone else is signed in: the launch signs them out first
    svc = app.shell.services.signin
    user = svc.sign_in("demo-student-01", "1234").user
    w.on_student_signed_in(user)
    assert launch(qtbot, app, "demo-student-04", "demo-reading-passage") == "locked"
    assert w.student.user_id == "demo-student-04"
    assert w.stack.currentWidget() is w.library
    assert "locked" in w.library.hint_label.text()


def test_a_launch_of_an_unknown_lesson_says_so(qtbot: Any, app: LaunchApp) -> None:
    w = app.window
    assert launch(qtbot, app, "demo-student-02", "no-such-lesson") == "unknown_lesson"
    assert w.stack.currentWidget() is w.library
    assert "not on this computer" in w.library.hint_label.text()


def test_sign_in_with_timeback_then_set_own_pin(qtbot: Any, app: LaunchApp) -> None:
    w = app.window
    w.signin.timeback_button.click()
    qtbot.waitUntil(lambda: bool(app.opened), timeout=10_000)
    redirect = app.http.get(app.opened[0] + "&login_hint=demo-student-08")
    assert redirect.status_code == 302, redirect.text
    with qtbot.waitSignal(app.launch.pin_offered, timeout=20_000) as offered:
        done = app.http.get(redirect.headers["location"])
        assert done.status_code == 200, done.text
    assert w.student.user_id == "demo-student-08"
    assert w.stack.currentWidget() is w.library
    dialog = offered.args[0]
    dialog.pin_edit.setText("5678")
    dialog.repeat_edit.setText("5679")
    dialog.set_button.click()
    assert "not the same" in dialog.message.text()
    dialog.repeat_edit.setText("5678")
    with qtbot.waitSignal(dialog.pin_set):
        dialog.set_button.click()
    svc = app.shell.services.signin
    assert svc.sign_in("demo-student-08", "5678").ok
    # the verification is used up: no second PIN without a guide
    assert svc.set_own_pin("demo-student-08", "1111").status == "needs_pin"


def test_a_link_handed_over_by_a_second_start_opens_the_browser(
    qtbot: Any, app: LaunchApp
) -> None:
    with qtbot.waitSignal(app.launch.handled) as handled:
        app.launch.on_url("timeback-companion://launch?lesson=demo-math-drill"
                          "&login_hint=demo-student-05")
    assert handled.args == ["browser"]
    qtbot.waitUntil(lambda: bool(app.opened), timeout=10_000)
    login = app.opened[0]
    assert login.startswith(app.launch.services.listener.urls.login_url)
    with qtbot.waitSignal(app.launch.handled) as refused:
        app.launch.on_url("https://evil.example/")
    assert refused.args == ["refused"]
