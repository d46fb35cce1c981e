"""``companion --self-test``: the app offscreen on the embedded sandbox, in a throw-away data
folder, through a scripted demo lesson (sign-in, answers, completion, events in the outbox).
Prints each step; exit status 0 when all passed, 1 with what failed."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer, SignalInstance
from PySide6.QtWidgets import QApplication

LESSON = "demo-math-drill"
# The drill's answers (its key is in lesson.json, which only the app reads).
DRILL_ANSWERS = ("13", "9", "42", "8", "100")
TIMEOUT_MS = 30_000


class SelfTestFailure(Exception):
    """A step of the self-test failed."""


def wait_for(signal: SignalInstance, start: Callable[[], Any], timeout_ms: int = TIMEOUT_MS
             ) -> list[Any]:
    """Call ``start`` and run the event loop until ``signal`` fires; its arguments."""
    loop = QEventLoop()
    got: list[Any] = []

    def fired(*args: Any) -> None:
        got.append(list(args))
        loop.quit()

    signal.connect(fired)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    timer.start(timeout_ms)
    start()
    if not got:
        loop.exec()
    signal.disconnect(fired)
    if not got:
        raise SelfTestFailure(f"timed out after {timeout_ms / 1000:.0f} s")
    return list(got[0])


def run_js(page: Any, code: str) -> Any:
    """Run script in the page and wait for its result."""
    loop = QEventLoop()
    out: list[Any] = []

    def done(value: Any) -> None:
        out.append(value)
        loop.quit()

    QTimer.singleShot(TIMEOUT_MS, loop.quit)
    page.runJavaScript(code, 0, done)
    if not out:
        loop.exec()
    if not out:
        raise SelfTestFailure(f"no answer from the page for {code!r}")
    return out[0]


def run_self_test(app: QApplication, env: str | None) -> int:
    """Run the scripted lesson; 0 if every step passed."""
    with tempfile.TemporaryDirectory(prefix="companion-selftest-") as tmp:
        os.environ["COMPANION_DATA_DIR"] = tmp
        os.environ["COMPANION_CONFIG_DIR"] = tmp
        return _run(app)


def _run(app: QApplication) -> int:
    from companion.app.shell import Shell
    from companion.core.clock import FakeClock
    from companion.store import runs
    from companion.system.fakes import FakeFocus, FakeInput

    clock = FakeClock(monotonic_ms=1_000_000)
    fake_input = FakeInput(clock)
    errors: list[str] = []
    shell = Shell(app, "sandbox", clock=clock, input_source=fake_input,
                  focus_source=FakeFocus(), single_instance=False, tray=False, launch_port=None,
                  start_sync=False, report_error=errors.append)
    step = "start the app on the embedded sandbox"
    try:
        wait_for(shell.ready, lambda: _started(shell, errors))
        _ok(step)
        w = shell.window
        assert w is not None
        step = "sign in as a demo student"
        first = w.signin.class_list.item(0)
        wait_for(w.signin.names_shown, lambda: w.signin.on_class_chosen(first))
        buttons = w.signin.name_buttons()
        if not buttons:
            raise SelfTestFailure("no students in the demo class")
        buttons[0].click()
        w.signin.pin_edit.setText("1234")
        wait_for(w.signin.pin_checked, w.signin.on_pin_submitted)
        if w.student is None:
            raise SelfTestFailure(w.signin.error_label.text() or "not signed in")
        _ok(step)
        step = "open the demo lesson"
        session = w.ensure_session()
        loaded = wait_for(session.view.loadFinished, lambda: w.library.request(LESSON))
        if loaded != [True]:
            raise SelfTestFailure("the lesson page did not load")
        assert shell.runtime is not None
        db = shell.runtime.db
        run_id = runs.open_run_id(db)
        if run_id is None:
            raise SelfTestFailure("no run was opened")
        _ok(step)
        step = "answer five questions through the page bridge"
        for i in range(1, 6):
            for _ in range(4):  # 20 s of work, an input every 5 s (one tick each)
                clock.advance(5_000)
                fake_input.touch()
                session.on_tick()
            code = f"companion.answer('drill-{i}', '{DRILL_ANSWERS[i - 1]}')"
            wait_for(session.bridge.answered, partial(run_js, session.view.page(), code))
        _ok(step)
        step = "complete the lesson and explain the XP"
        (summary,) = wait_for(session.finished,
                              lambda: run_js(session.view.page(), "companion.complete()"))
        if not summary.completed or summary.xp <= 0 or not summary.explain:
            explained = "; ".join(summary.explain)
            raise SelfTestFailure(f"unexpected summary: {summary.xp} XP; {explained}")
        _ok(f"{step} ({summary.xp} XP, mastered={summary.mastered})")
        step = "find the learning events in the outbox"
        types = {e["type"] for e in runs.run_events(db, run_id)}
        if not {"ActivityEvent", "TimeSpentEvent"} <= types:
            raise SelfTestFailure(f"events in the outbox: {sorted(types)}")
        _ok(step)
    except Exception as exc:
        print(f"FAILED: {step}: {exc}", file=sys.stderr)
        shell.close()
        return 1
    shell.close()
    print("self-test passed")
    return 0


def _started(shell: Any, errors: list[str]) -> None:
    if shell.start() is not None:
        raise SelfTestFailure("; ".join(errors) or "the app did not start")
    shell.failed.connect(lambda message: errors.append(message))


def _ok(step: str) -> None:
    print(f"ok: {step}")
