"""Attention on a real desktop: input in the lesson page seen by the app's own windows,
quiet time that turns idle (asked about first, never counted and taken back), another
window in front, and the screen locked through a D-Bus screen-saver stand-in.

The lesson is a copy of the demo drill with an idle timeout of a few seconds, added to the
computer's library with ``companion content import`` as school IT would add one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from companion.content import demo_lessons_path
from tests import xdisplay
from tests.e2e.atspi import Node
from tests.e2e.desktop import Desktop, RunningApp, find
from tests.e2e.student import answer, sign_in_by_keyboard, typed
from tests.system.test_dbus_sources import FakeDesktop

pytestmark = pytest.mark.slow
Launch = Callable[..., RunningApp]
IDLE_S = 9


def short_course(folder: Path) -> Path:
    """A one-lesson course: the demo drill with a short idle timeout."""
    course = folder / "attention-course"
    shutil.copytree(demo_lessons_path() / "demo-course-1" / "1-math-drill", course / "drill")
    lesson_file = course / "drill" / "lesson.json"
    lesson = json.loads(lesson_file.read_text())
    lesson.update(id="attention-drill", title="Attention Drill", course="attention-course",
                  idleTimeout=IDLE_S, abandonAfter=600)
    lesson_file.write_text(json.dumps(lesson))
    (course / "course.json").write_text(json.dumps(
        {"id": "attention-course", "title": "Attention Course", "grade": "05"}))
    return course


def import_lessons(home: Path, folder: Path) -> None:
    env = dict(os.environ, COMPANION_DATA_DIR=str(home / "data"),
               COMPANION_CONFIG_DIR=str(home / "config"))
    done = subprocess.run([sys.executable, "-m", "companion.cli", "content", "import",
                           str(folder)], env=env, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def screen_saver(desk: Desktop) -> Iterator[FakeDesktop]:
    """A freedesktop screen saver on the desktop's session bus (not locked to begin with)."""
    services = FakeDesktop(desk.bus_address)
    yield services
    services.stop()


def header(screen: Node, description: str) -> str:
    """The text of the session header's label described as ``description``."""
    for node in screen.walk():
        if node.description == description and node.role == "label":
            return node.name
    return ""


def journal_kinds(app: RunningApp) -> list[tuple[str, dict[str, Any]]]:
    rows = app.query("SELECT j.kind, j.data FROM journal_lines j JOIN runs r "
                     "ON r.run_id = j.run_id WHERE r.lesson_id = 'attention-drill' "
                     "ORDER BY j.seq")
    return [(kind, json.loads(data)) for kind, data in rows]


def clock_seconds(text: str) -> int:
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def test_idle_off_task_and_away_on_a_real_desktop(
        launch: Launch, desk: Desktop, tmp_path: Path, screen_saver: FakeDesktop) -> None:
    home = tmp_path / "app"
    import_lessons(home, short_course(tmp_path / "lessons"))
    # only what the app's own windows see: no OS idle time, no input hooks
    app = launch(home, COMPANION_OS_INPUT="off")
    sign_in_by_keyboard(app)
    app.wait_text("Start lesson")
    app.key("End")  # the added course is the last in the list, below the demo course
    app.wait_text("'Attention Drill' is ready")
    app.key("Return")
    app.wait_for(lambda s: find(s, "Attention Drill", role="label") and find(s, "End lesson"),
                 "the session window")
    answer(app, typed("13"))
    # typing in the page, seen by the app's own window filter (the next tick writes it)
    app.wait_until(lambda: "input" in [kind for kind, _ in journal_kinds(app)],
                      "an input line in the journal")

    # quiet: first a question, then idle; the focused clock never goes down
    shown: list[int] = []

    def quiet_turned_idle(screen: Node) -> bool:
        text = header(screen, "Focused time")
        if text:
            shown.append(clock_seconds(text))
        return header(screen, "State") == "Idle"

    app.wait_for(lambda s: find(s, "Are you still there?"), "the still-there question",
                 timeout=IDLE_S + 10)
    assert header(app.screen(), "State") == "Focused"
    app.wait_for(quiet_turned_idle, "the state to turn idle", timeout=IDLE_S + 10)
    assert shown == sorted(shown), f"the focused clock went down: {shown}"
    assert find(app.screen(), "Your focused time is paused")
    app.key("Tab")  # back at work
    app.wait_for(lambda s: header(s, "State") == "Focused", "focused again")

    # another window in front: off-task, named by its application
    other = xdisplay_window(desk, "Calculator Game")
    desk.xdotool("windowactivate", "--sync", str(other))
    app.wait_for(lambda s: header(s, "State") == "Off-task", "off-task")
    app.activate()
    app.wait_for(lambda s: header(s, "State") == "Focused", "focused after coming back")

    # the screen saver locks the screen: away
    screen_saver.saver_active = True
    app.wait_for(lambda s: header(s, "State") == "Away", "away while locked")
    screen_saver.saver_active = False
    app.key("Tab")
    app.wait_for(lambda s: header(s, "State") == "Focused", "focused after unlocking")

    lines = journal_kinds(app)
    focus_lost = [data for kind, data in lines if kind == "focus" and data["focused"] is False]
    assert focus_lost and focus_lost[0].get("app"), lines
    locking = [kind for kind, _ in lines if kind in ("lock", "unlock")]
    assert locking[:2] == ["lock", "unlock"], lines


def xdisplay_window(desk: Desktop, title: str) -> int:
    """A mapped window of another application on the desktop; its X id."""
    import Xlib.display
    import Xlib.X

    display = Xlib.display.Display(desk.display)
    screen = display.screen()
    window = screen.root.create_window(40, 40, 400, 300, 0, screen.root_depth,
                                       Xlib.X.InputOutput, Xlib.X.CopyFromParent,
                                       background_pixel=screen.white_pixel)
    window.set_wm_class("calcgame", "CalcGame")
    window.set_wm_name(title)
    window.map()
    display.sync()
    xdisplay.wait_for(lambda: bool(desk.xdotool("search", "--name", title).split()),
                      "the other window to map")
    _KEEP.append(display)  # the window lives as long as its connection
    return int(window.id)


_KEEP: list[Any] = []
