"""Memory of the whole app on the embedded sandbox (offscreen), WebEngine processes counted.

The app is started in this process as ``companion`` starts it (``Shell`` on the embedded
sandbox, with the sync worker delivering to it), scripted through its own windows as the
self-test does: sign in, then 20 demo lessons in a row (open, five answers through the page
bridge, complete, back to the library). Memory is the proportional set size (``Pss`` in
``/proc/PID/smaps_rollup``, so pages shared between processes are not counted twice),
summed over this process and every process below it (the WebEngine zygote, GPU and
renderer processes), measured after the event loop ran a settling second:

- ``signin_pss_mb``: signed in, the library shown (no WebEngine yet);
- ``lesson_pss_mb``: during the first lesson (page loaded, answers given);
- ``lesson_20_pss_mb``: during the 20th lesson;
- ``after_1_lesson_pss_mb`` / ``after_20_lessons_pss_mb``: back in the library;
- ``growth_pct``: from after the first lesson to after the 20th (target: under 10 %);
- ``sandbox_mb``: what the embedded sandbox takes. Before the app starts, with the app's
  own modules and their libraries already imported, a sandbox with the demo school is
  started in this process exactly as the app starts its own, and this process's PSS is
  measured before and after (its code, its web framework's, the seeded school and its
  server thread); it is then stopped. ``sandbox_python_mb`` is the Python allocations of
  the same start as ``tracemalloc`` counts them (the rest is code pages and the thread).

Targets: under 400 MB during a lesson, under 10 % growth across 20 lessons.

With ``--sign-out-between`` the student signs out and in again after each lesson, so that
each lesson gets a new off-the-record web profile and page (the old ones are deleted).

Run: ``.venv/bin/python bench/memory.py`` (``--lessons N``, ``--sign-out-between``).
Linux only (``/proc``). The last line is JSON with the figures above (MB = 2**20 bytes).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import tracemalloc
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
LESSON = "demo-math-drill"
SETTLE_MS = 1000


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc/*/stat (field 4 is the parent's pid)."""
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(text.rpartition(")")[2].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def _pss_kb(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0  # gone meanwhile
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def tree_pss_mb(root: int | None = None) -> tuple[float, int]:
    """PSS of ``root`` (this process) and all its descendants in MB; and how many."""
    children = _children()
    todo = [root or os.getpid()]
    total = 0
    count = 0
    while todo:
        pid = todo.pop()
        total += _pss_kb(pid)
        count += 1
        todo.extend(children.get(pid, []))
    return round(total / 1024, 1), count


def settle() -> None:
    """Let the event loop run a second (deferred deletes, page work), then collect."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(SETTLE_MS, loop.quit)
    loop.exec()
    gc.collect()


def sandbox_cost() -> tuple[float, float]:
    """(PSS MB, Python-allocated MB) that starting the embedded sandbox adds here."""
    gc.collect()
    before, _ = tree_pss_mb()
    tracemalloc.start()
    from companion.sandbox.server import start_in_thread

    handle = start_in_thread(port=0, seed="demo")
    traced, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()
    after, _ = tree_pss_mb()
    handle.stop()
    return round(after - before, 1), round(traced / 2**20, 1)


def sign_in(w: Any) -> None:
    """Sign the first demo student of the first class in, through the sign-in screen."""
    from companion.app.selftest import wait_for

    first = w.signin.class_list.item(0)
    wait_for(w.signin.names_shown, lambda: w.signin.on_class_chosen(first))
    w.signin.name_buttons()[0].click()
    w.signin.pin_edit.setText("1234")
    wait_for(w.signin.pin_checked, w.signin.on_pin_submitted)
    assert w.student is not None, w.signin.error_label.text()


def run(lessons: int, sign_out_between: bool = False) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication

    from companion.app.selftest import DRILL_ANSWERS, run_js, wait_for
    from companion.app.shell import Shell
    from companion.core.clock import FakeClock
    from companion.system.fakes import FakeFocus, FakeInput

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    # The app's own modules and their libraries first, so that the sandbox's figure is its
    # own (what it alone imports, seeds and runs).
    import companion.session.controller
    import companion.store.db
    import companion.sync.worker
    import companion.timeback
    import companion.ui.main_window  # noqa: F401

    sandbox_mb, sandbox_python_mb = sandbox_cost()

    clock = FakeClock(monotonic_ms=1_000_000)
    fake_input = FakeInput(clock)
    errors: list[str] = []
    shell = Shell(app, "sandbox", clock=clock, input_source=fake_input,
                  focus_source=FakeFocus(), single_instance=False, tray=False,
                  launch_port=None, start_sync=True, report_error=errors.append)
    figures: dict[str, Any] = {}
    try:
        wait_for(shell.ready, lambda: shell.start())
        w = shell.window
        assert w is not None, errors
        sign_in(w)
        settle()
        figures["signin_pss_mb"], _ = tree_pss_mb()
        session = w.ensure_session()
        for n in range(1, lessons + 1):
            loaded = wait_for(session.view.loadFinished, lambda: w.library.request(LESSON))
            assert loaded == [True], f"lesson {n} did not load"
            for i in range(1, 6):
                for _ in range(4):  # 20 s of work, an input every 5 s
                    clock.advance(5_000)
                    fake_input.touch()
                    session.on_tick()
                # the drill's own items and answers, scored by the app against its key
                code = f"companion.answer('drill-{i}', '{DRILL_ANSWERS[i - 1]}')"
                wait_for(session.bridge.answered, partial(run_js, session.view.page(), code))
            if n in (1, lessons):
                settle()
                pss, processes = tree_pss_mb()
                figures["lesson_pss_mb" if n == 1 else f"lesson_{n}_pss_mb"] = pss
                figures["processes"] = processes
            (summary,) = wait_for(session.finished,
                                  lambda: run_js(session.view.page(), "companion.complete()"))
            assert summary.completed, f"lesson {n} did not complete"
            w.on_summary_done()
            if sign_out_between:
                w.sign_out("button")
                sign_in(w)
            if n in (1, lessons):
                settle()
                key = "after_1_lesson_pss_mb" if n == 1 else f"after_{n}_lessons_pss_mb"
                figures[key], _ = tree_pss_mb()
    finally:
        shell.close()
    first = figures["after_1_lesson_pss_mb"]
    last = figures[f"after_{lessons}_lessons_pss_mb"]
    figures["growth_pct"] = round(100 * (last - first) / first, 1)
    figures["sandbox_mb"] = sandbox_mb
    figures["sandbox_python_mb"] = sandbox_python_mb
    figures["lessons"] = lessons
    figures["sign_out_between"] = sign_out_between
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lessons", type=int, default=20)
    parser.add_argument("--sign-out-between", action="store_true",
                        help="sign out and in again after each lesson (a new web profile "
                             "for each)")
    args = parser.parse_args()
    if args.lessons < 2:
        parser.error("--lessons must be at least 2")
    tmp = tempfile.mkdtemp(prefix="companion-memory-")
    os.environ["COMPANION_DATA_DIR"] = tmp
    os.environ["COMPANION_CONFIG_DIR"] = tmp
    # As the tests do: WebEngine refuses to start as root unless this is set (the app
    # itself never sets it; see companion/system/webengine.py).
    os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    sys.path.insert(0, str(REPO))
    from companion.app import prepare_qt

    prepare_qt(offscreen=True)
    figures = run(args.lessons, args.sign_out_between)
    for key, value in figures.items():
        print(f"{key}: {value}", file=sys.stderr)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
