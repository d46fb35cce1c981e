"""Start-up and UI-responsiveness benchmarks (offscreen).

1. Time from process start to the sign-in window shown and the event loop idle, for the
   app on the embedded sandbox (warm: the data folder was filled by an earlier start), median
   of 5, beside the same for a bare PySide6 window in the same run. Also the time until the
   class list is populated (``ready_s``: the first screen is usable) and until the deferred
   start-up finished (``lessons_ready_s``: sandbox, roster refresh, lessons, sync worker).
2. The UI thread's longest stall while the sync worker delivers 10,000 events to a
   sandbox in its own process: a 10 ms QTimer measures its own lateness.
3. The same measure in the app itself (the embedded sandbox, in-process), while its sync
   worker delivers 10,000 events queued before the start: the longest stall while a demo
   student signs in (class, name, PIN check), while a lesson opens (until its page has
   loaded), and over the lesson's own 1 s ticks until the last event is sent (at least one
   tick, at most ``--ticks``). ``-1`` for a step that did not finish. Only ``drive_app``
   knows the app's objects.

Run: ``.venv/bin/python bench/startup.py`` (``--runs N``, ``--events N``, ``--ticks N``). The
last line is JSON: {"startup_s", "ready_s", "lessons_ready_s", "bare_qt_s", "ratio",
"max_ui_stall_ms", "signin_stall_ms", "lesson_open_stall_ms", "tick_stall_ms"}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

BARE = """
import os, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication(sys.argv[:1])
w = QLabel("bare"); w.show()
QTimer.singleShot(0, lambda: (print("SHOWN", flush=True), os._exit(0)))
app.exec()
"""

APP = """
import os, sys
from companion.app import prepare_qt
prepare_qt(offscreen=True)
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from companion.app.shell import Shell
shell = Shell(app, None, single_instance=False, tray=False)
assert shell.start() is None
def done():
    print("READY", flush=True)
    shell.runtime.lease.release()  # the next start must not wait for the lease to expire
    os._exit(0)
def shown():
    print("SHOWN", flush=True)
    if shell.window.signin.class_list.count():
        print("CLASSES", flush=True)
    else:
        shell.window.signin.classes_loaded.connect(lambda _n: print("CLASSES", flush=True))
QTimer.singleShot(0, shown)
shell.ready.connect(done)
app.exec()
"""


def timed(code: str, env: dict[str, str]) -> dict[str, float]:
    """Seconds from spawning ``code`` to each marker it prints."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env, cwd=REPO)
    marks: dict[str, float] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        marks[line.strip()] = time.perf_counter() - start
    proc.wait(timeout=60)
    return marks


def startup(runs: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", COMPANION_DATA_DIR=tmp,
                   COMPANION_CONFIG_DIR=tmp, PYTHONPATH=str(REPO))
        timed(APP, env)  # first start: pulls the roster, fills the data folder
        timed(BARE, env)  # warm the disk cache for Qt alone too
        app_shown, app_classes, app_ready, bare = [], [], [], []
        for _ in range(runs):
            bare.append(timed(BARE, env)["SHOWN"])
            marks = timed(APP, dict(env, BENCH_EXIT="ready"))
            app_shown.append(marks["SHOWN"])
            app_classes.append(marks["CLASSES"])
            app_ready.append(marks["READY"])
    return {
        "startup_s": round(statistics.median(app_shown), 3),
        "ready_s": round(statistics.median(app_classes), 3),
        "lessons_ready_s": round(statistics.median(app_ready), 3),
        "bare_qt_s": round(statistics.median(bare), 3),
    }


def ui_stall(events: int) -> float:
    """Max lateness (ms) of a 10 ms UI timer while the worker delivers ``events``."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    sys.path.insert(0, str(REPO))
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication, QLabel

    from bench.sync import start_sandbox
    from companion.store.db import Database
    from companion.sync.status import SyncStatus
    from companion.sync.worker import SyncWorker
    from companion.timeback import auth_for, caliper_client, sandbox_environment
    from companion.ui.sync_bridge import SyncStatusBridge
    from tests.sync.deliver_child import SENSOR, fast_settings, queue_events

    app = QApplication.instance() or QApplication([])
    label = QLabel("stall")
    label.show()
    # The sandbox runs in its own process, as Timeback would: only the app is measured.
    sandbox, url = start_sandbox()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database.open(Path(tmp) / "bench.sqlite3", "sandbox")
        queue_events(db, events, namespace=f"ui-stall-{time.time()}")
        environment = sandbox_environment(url)
        api = caliper_client(environment, auth_for(environment), sensor=SENSOR)
        worker = SyncWorker(db, api, settings=fast_settings())
        bridge = SyncStatusBridge(worker.status)
        delivered = [False]

        def on_status(status: SyncStatus) -> None:
            label.setText(f"{status.pending} pending")
            if status.pending == 0 and status.in_flight == 0 and status.sent > 0:
                delivered[0] = True

        bridge.changed.connect(on_status)
        clock = QElapsedTimer()
        clock.start()
        last = [clock.elapsed()]
        worst = [0]

        def beat() -> None:
            now = clock.elapsed()
            worst[0] = max(worst[0], now - last[0] - 10)
            last[0] = now
            if delivered[0]:
                app.quit()

        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(beat)
        timer.start()
        worker.start(start_delay=False)
        QTimer.singleShot(600_000, app.quit)  # a safety net, never reached when delivery works
        app.exec()
        worker.quit()
        bridge.close()
        db.close()
    sandbox.terminate()
    sandbox.wait(timeout=30)
    return float(worst[0])


@dataclass
class Drive:
    """What the step bench does to the app, as plain callables (``drive_app`` makes one)."""

    start: Callable[[], None]  # start the app; ``started()`` turns true when it is ready
    started: Callable[[], bool]
    sign_in: tuple[Callable[[], None], ...]  # a student's steps, one event-loop turn each
    signed_in: Callable[[], bool]
    open_lesson: Callable[[], None]
    lesson_open: Callable[[], bool]  # the run is open and the lesson's page has loaded
    ticks: Callable[[], int]  # the lesson's ticks so far
    touch: Callable[[], None]  # the student does something (an input)
    delivered: Callable[[], int]  # events the sync worker has sent so far
    close: Callable[[], None]


def drive_app(app: Any, events: int) -> Drive:
    """The app on the embedded sandbox in this process's data folder, with ``events`` queued
    in its outbox before it starts. The only place that knows the app's objects."""
    from companion.app.shell import Shell
    from companion.core.clock import SystemClock
    from companion.store.db import Database
    from companion.store.paths import database_path
    from companion.system.fakes import FakeFocus, FakeInput
    from tests.sync.deliver_child import queue_events

    path = database_path("sandbox")
    path.parent.mkdir(parents=True, exist_ok=True)
    with Database.open(path, "sandbox") as db:
        queue_events(db, events, namespace=f"ui-steps-{time.time()}")
    clock = SystemClock()
    fake_input = FakeInput(clock)
    shell = Shell(app, "sandbox", clock=clock, input_source=fake_input,
                  focus_source=FakeFocus(), single_instance=False, tray=False,
                  launch_port=None)
    ready, loaded, ticks = [False], [False], [0]
    shell.ready.connect(lambda: ready.__setitem__(0, True))

    def window() -> Any:
        assert shell.window is not None
        return shell.window

    def open_lesson() -> None:
        session = window().ensure_session()
        session.view.loadFinished.connect(lambda ok: loaded.__setitem__(0, bool(ok)))
        session.timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
        window().library.request(LESSON)

    def type_pin() -> None:
        window().signin.pin_edit.setText("1234")
        window().signin.on_pin_submitted()

    def delivered() -> int:
        worker = getattr(shell.runtime, "worker", None)
        return 0 if worker is None else int(worker.status.current.sent)

    return Drive(
        start=lambda: None if shell.start() is None else app.quit(),
        started=lambda: ready[0],
        sign_in=(lambda: window().signin.on_class_chosen(window().signin.class_list.item(0)),
                 lambda: window().signin.name_buttons()[0].click(),
                 type_pin),
        signed_in=lambda: window().student is not None,
        open_lesson=open_lesson,
        lesson_open=lambda: loaded[0] and bool(window().session.running),
        ticks=lambda: ticks[0],
        touch=fake_input.touch,
        delivered=delivered,
        close=shell.close,
    )


LESSON = "demo-math-drill"
STEP_GAP_MS = 150  # between a student's clicks while signing in
STEP_LIMIT_S = 180  # a step not done by then is reported as -1


def step_stalls(events: int, ticks: int) -> dict[str, float]:
    """The longest lateness (ms) of a 10 ms UI timer in each step, in the app, while its
    worker delivers ``events`` to the embedded sandbox."""
    sys.path.insert(0, str(REPO))
    from companion.app import prepare_qt

    prepare_qt(offscreen=True)
    from PySide6.QtCore import QElapsedTimer, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    drive = drive_app(app, events)
    steps = ["start", "signin", "lesson_open", "tick"]
    worst = dict.fromkeys(steps, -1.0)
    sent_at: dict[str, int] = {}
    clock = QElapsedTimer()
    clock.start()
    now = clock.elapsed()
    at = {"step": 0, "began": now, "last": now, "touched": now}

    def begin(index: int) -> None:
        at.update(step=index, began=clock.elapsed())
        name = steps[index] if index < len(steps) else "done"
        sent_at[name] = drive.delivered()
        if name == "done":
            app.quit()
        elif name == "signin":
            worst[name] = 0.0
            for n, action in enumerate(drive.sign_in):
                QTimer.singleShot(n * STEP_GAP_MS, action)
        elif name == "lesson_open":
            worst[name] = 0.0
            QTimer.singleShot(0, drive.open_lesson)
        elif name == "tick":
            worst[name] = 0.0

    finished: dict[str, Callable[[], bool]] = {
        "start": drive.started,
        "signin": drive.signed_in,
        "lesson_open": drive.lesson_open,
        # ticks while the worker delivers: up to ``ticks`` of them, at least one
        "tick": lambda: drive.ticks() >= ticks or (drive.ticks() >= 1
                                                    and drive.delivered() >= events),
    }

    def beat() -> None:
        now = clock.elapsed()
        name = steps[at["step"]]
        if name != "start":
            worst[name] = max(worst[name], float(now - at["last"] - 10))
        at["last"] = now
        if "all sent" not in sent_at and drive.delivered() >= events:
            sent_at["all sent"] = at["step"]  # the step in which delivery finished
            sent_at["ticks by then"] = drive.ticks()
        if now - at["touched"] >= 2_000:  # an input now and then: the student is working
            drive.touch()
            at["touched"] = now
        if finished[name]():
            begin(at["step"] + 1)
        elif now - at["began"] > STEP_LIMIT_S * 1000:
            worst[name] = -1.0
            app.quit()

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(beat)
    timer.start()
    QTimer.singleShot(0, drive.start)
    begin(0)
    app.exec()
    timer.stop()
    sent_at["ticks measured"] = drive.ticks()
    print(f"events sent when each step began (of {events}; 'all sent': the step index in "
          f"which the last was sent): {sent_at}", file=sys.stderr)
    drive.close()
    return {f"{name}_stall_ms": worst[name] for name in steps[1:]}


def steps_in_child(events: int, ticks: int) -> dict[str, float]:
    """``step_stalls`` in a fresh process with a fresh data folder (its last line)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", COMPANION_DATA_DIR=tmp,
                   COMPANION_CONFIG_DIR=tmp, PYTHONPATH=str(REPO))
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--steps-only",
                               "--events", str(events), "--ticks", str(ticks)],
                              env=env, cwd=REPO, stdout=subprocess.PIPE, text=True,
                              timeout=STEP_LIMIT_S * 4, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> int:
    # As the tests do: WebEngine refuses to start as root unless this is set (the app
    # itself never sets it; see companion/system/webengine.py).
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--ticks", type=int, default=20,
                        help="at most this many lesson ticks are measured")
    parser.add_argument("--no-stall", action="store_true", help="skip the UI-stall parts")
    parser.add_argument("--steps-only", action="store_true",
                        help="only the app's steps (sign-in, lesson open, ticks), in this "
                             "process: the data folder must be a fresh one")
    args = parser.parse_args()
    if args.steps_only:
        print(json.dumps(step_stalls(args.events, args.ticks)), flush=True)
        os._exit(0)
    result: dict[str, float] = startup(args.runs)
    result["ratio"] = round(result["startup_s"] / result["bare_qt_s"], 2)
    result["max_ui_stall_ms"] = -1.0 if args.no_stall else ui_stall(args.events)
    steps = dict.fromkeys(("signin_stall_ms", "lesson_open_stall_ms", "tick_stall_ms"), -1.0)
    if not args.no_stall:
        steps = steps_in_child(args.events, args.ticks)
    result.update(steps)
    print(f"sign-in window shown: {result['startup_s']} s (bare Qt window "
          f"{result['bare_qt_s']} s, ratio {result['ratio']}); classes listed "
          f"{result['ready_s']} s; lessons ready {result['lessons_ready_s']} s; "
          f"longest UI stall {result['max_ui_stall_ms']} ms; in the app while delivering: "
          f"sign-in {result['signin_stall_ms']} ms, lesson open "
          f"{result['lesson_open_stall_ms']} ms, ticks {result['tick_stall_ms']} ms")
    print(json.dumps(result), flush=True)
    os._exit(0)  # skip interpreter teardown: PySide6 may crash finalising thread-emitted signals


if __name__ == "__main__":
    sys.exit(main())
