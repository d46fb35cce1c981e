"""A student on a real desktop: the real ``companion`` program, real X input, checked from
outside (the accessibility tree, the database file, the embedded sandbox's store)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.desktop import RunningApp, find
from tests.e2e.student import (
    DEMO,
    answer,
    answers_journaled,
    finish,
    open_lesson,
    sign_in_by_keyboard,
    sign_in_by_mouse,
    typed,
)

pytestmark = pytest.mark.slow
AVA = "ava.johnson@demo.school"

Launch = Callable[..., RunningApp]


def closed_runs(app: RunningApp) -> list[tuple[str, int, int, str]]:
    """(lesson, completed, attempt, xp) of every closed run, oldest first."""
    return [(r[0], int(r[1]), int(r[2]), str(r[3])) for r in app.query(
        "SELECT lesson_id, completed, attempt, xp FROM runs WHERE state = 'closed' "
        "ORDER BY created_at")]


def delivered(app: RunningApp) -> bool:
    """Nothing is left to send to the sandbox."""
    rows = app.query("SELECT count(*) FROM outbox WHERE kind = 'caliper' AND state != 'delivered'")
    return int(rows[0][0]) == 0


def browser_opener(folder: Path) -> dict[str, str]:
    """``xdg-open`` for the app: the machine's real Chromium, in a profile of the test's own
    (it needs ``--no-sandbox`` as root); the environment that puts it first on PATH."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/setup test)")
    folder.mkdir(parents=True, exist_ok=True)
    opener = folder / "xdg-open"
    opener.write_text(
        "#!/bin/sh\n"
        f'exec "{chromium}" --no-sandbox --no-first-run --disable-gpu --password-store=basic '
        f'--user-data-dir="{folder / "profile"}" --window-size=900,600 "$1"\n')
    opener.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_a_student_studies_every_demo_lesson(launch: Launch, tmp_path: Path) -> None:
    """Every demo lesson in one process (the soak of five and more lessons): by keyboard,
    one attempt with a wrong answer, the lesson in the web browser with its check quiz."""
    app = launch(**browser_opener(tmp_path / "browser"))
    sign_in_by_keyboard(app)
    app.wait_text("Hi, Ava Johnson!")
    assert find(app.screen(), "Quick Maths Drill, Open")

    # first try: one sum wrong (4 of 5 = 80 %: XP, but not mastery)
    open_lesson(app, "Quick Maths Drill")
    wrong = typed("13", "9", "42", "7", "100")
    answer(app, wrong)
    assert answers_journaled(app) == 5
    summary = finish(app)
    assert find(summary, "80"), summary.words()
    app.key("Return")  # Back to lessons
    app.wait_text("Start lesson")

    for title in ("Quick Maths Drill", "The Lighthouse Cat", "Listen: How Bees Make Honey",
                  "Mastery Check"):
        open_lesson(app, title)
        answer(app, DEMO[title])
        summary = finish(app)
        assert find(summary, "Mastered") or find(summary, "mastered"), summary.words()
        app.key("Return")
        app.wait_text("Start lesson")

    # the reading in the web browser: the browser in front counts, then the check quiz here
    open_lesson(app, "In Your Browser: Rain Gardens")
    app.wait_text("I'm done with the lesson")
    app.wait_until(lambda: bool(app.desktop.xdotool(
        "search", "--onlyvisible", "--name", "Rain Gardens").split()), "the browser window",
        timeout=60)
    app.activate()
    app.click_text("I'm done with the lesson", role="push button")
    for choice in ("A shallow dip with tough plants where rainwater collects",
                   "The plants' roots and the soil trap much of the dirt",
                   "Test how fast water drains from a hole in the ground"):
        app.click_text(choice, role="radio button")
        app.click_text("Answer this question", role="push button")
    summary = app.wait_for(lambda s: find(s, "Back to lessons") and s, "the summary")
    assert find(summary, "3 of 3") or find(summary, "100"), summary.words()
    app.key("Return")
    app.wait_text("Start lesson")

    runs = closed_runs(app)
    assert [(lesson, done, attempt) for lesson, done, attempt, _ in runs] == [
        ("demo-math-drill", 1, 1), ("demo-math-drill", 1, 2), ("demo-reading-passage", 1, 1),
        ("demo-listening-bees", 1, 1), ("demo-mastery-check", 1, 1),
        ("demo-browser-reading", 1, 1)]
    app.click_text("Sign out", role="push button")
    app.wait_text("Choose your class")

    app.wait_until(lambda: delivered(app), "every event delivered", timeout=60)
    events = app.sandbox_events(AVA)
    completed = [e for e in events if e["type"] == "ActivityEvent"]
    assert len(completed) == 6
    items = {i["type"]: i["value"] for i in completed[0]["generated"]["items"]}
    assert (items["totalQuestions"], items["correctQuestions"]) == (5, 4)


def test_closing_the_window_mid_lesson_asks_and_ends_the_run(launch: Launch) -> None:
    app = launch()
    sign_in_by_mouse(app, "Math Lab A", "Mateo")
    app.wait_text("Hi, Mateo")
    open_lesson(app, "Quick Maths Drill")
    answer(app, typed("13"))
    app.wait_until(lambda: answers_journaled(app) == 1, "the answer in the journal")

    app.key("alt+F4")  # the window manager's close
    app.wait_text("End this lesson now?")
    app.key("Escape")  # No: the lesson goes on
    app.wait_text("End lesson")
    assert app.query("SELECT state FROM runs") == [("open",)]

    app.key("alt+F4")
    app.wait_text("End this lesson now?")
    app.key("alt+y")  # Yes
    app.wait_until(lambda: closed_runs(app) != [], "the run to close")
    lesson, done, attempt, _ = closed_runs(app)[0]
    assert (lesson, done, attempt) == ("demo-math-drill", 0, 1)
    rows = app.query("SELECT payload FROM outbox WHERE kind = 'caliper'")
    types = [json.loads(r[0])["type"] for r in rows]
    assert "TimeSpentEvent" in types, types


def test_start_is_off_on_a_locked_lesson(launch: Launch) -> None:
    app = launch()
    sign_in_by_keyboard(app)
    app.wait_text("Start lesson")
    start = find(app.screen(), "Start lesson", role="push button")
    assert start is not None and start.enabled  # the open drill is highlighted
    app.key("End")  # the last lesson, locked
    app.wait_text("This lesson is locked for now")
    start = find(app.screen(), "Start lesson", role="push button")
    assert start is not None and not start.enabled
    app.key("Return")  # Enter on a locked lesson opens nothing
    app.wait_text("This lesson is locked for now")
    assert app.query("SELECT count(*) FROM runs") == [(0,)]


def test_the_app_starts_and_opens_a_lesson_with_nothing_on_stderr(launch: Launch) -> None:
    """Notes a user cannot act on (GPU, Vulkan, D-Bus) are not printed."""
    app = launch()
    sign_in_by_keyboard(app)
    open_lesson(app, "Quick Maths Drill")
    answer(app, typed("13"))
    assert app.stderr().strip() == ""
