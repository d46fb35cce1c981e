"""Start-up and UI-responsiveness benchmarks (offscreen).

1. Time from process start to the sign-in window shown and the event loop idle, for the
   app on the embedded sandbox (warm: the data folder was filled by an earlier start), median
   of 5, beside the same for a bare PySide6 window in the same run. Also the time until the
   class list is populated (``ready_s``: the first screen is usable) and until the deferred
   start-up finished (``lessons_ready_s``: sandbox, roster refresh, lessons, sync worker).
2. The UI thread's longest stall while the sync worker delivers 10,000 events to an
   in-process sandbox: a 10 ms QTimer measures its own lateness.

Run: ``.venv/bin/python bench/startup.py`` (``--runs N``, ``--events N``). The last line is
JSON: {"startup_s", "ready_s", "lessons_ready_s", "bare_qt_s", "ratio",
"max_ui_stall_ms"}.
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
from pathlib import Path

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


def main() -> int:
    # As the tests do: WebEngine refuses to start as root unless this is set (the app
    # itself never sets it; see companion/system/webengine.py).
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--no-stall", action="store_true", help="skip the UI-stall part")
    args = parser.parse_args()
    result = startup(args.runs)
    result["ratio"] = round(result["startup_s"] / result["bare_qt_s"], 2)
    result["max_ui_stall_ms"] = -1.0 if args.no_stall else ui_stall(args.events)
    print(f"sign-in window shown: {result['startup_s']} s (bare Qt window "
          f"{result['bare_qt_s']} s, ratio {result['ratio']}); classes listed "
          f"{result['ready_s']} s; lessons ready {result['lessons_ready_s']} s; "
          f"longest UI stall {result['max_ui_stall_ms']} ms")
    print(json.dumps(result), flush=True)
    os._exit(0)  # skip interpreter teardown: PySide6 may crash finalising thread-emitted signals


if __name__ == "__main__":
    sys.exit(main())
