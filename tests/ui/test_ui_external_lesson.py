"""A lesson in another application: the demo's browser lesson, driven with a fake clock, fake
input and a fake foreground window injected through the Shell, and a launcher that records
what it would open (no browser starts).

Time counts while the browser shows the lesson's page; another application in front is
off-task time named after it; "I'm done" asks the check quiz in the session window (which
then counts as the lesson), and finishing it completes the run with its XP explained.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import httpx
import pytest

from companion.core import rules
from companion.core.clock import FakeClock
from companion.core.journal import Line
from companion.store import runs
from companion.system.external import (
    ExternalLesson,
    FakeForeground,
    ForegroundWindow,
    LaunchFailed,
)
from companion.system.fakes import FakeFocus, FakeInput, FakeLock
from companion.ui.external_panel import NO_XP
from companion.ui.session_window import NOTHING_CHECKED
from tests.ui.conftest import Harness
from tests.ui.test_ui_lesson import DRILL, READING, sign_in, study

BROWSER_LESSON = "demo-browser-reading"
PAGE_LESSONS = ((DRILL, 5), (READING, 3), ("demo-listening-bees", 3), ("demo-mastery-check", 5))
BROWSER = ForegroundWindow(app="Firefox", title="Rain Gardens — Mozilla Firefox",
                           aliases=("firefox",))
GAME = ForegroundWindow(app="Game", title="Level 3")
OURS = ForegroundWindow(app="timeback-companion", title="Timeback Companion")


@dataclass
class External:
    """The shell's harness plus the fake foreground and what the launcher was asked."""

    h: Harness
    foreground: FakeForeground | None
    launched: list[ExternalLesson] = field(default_factory=list)
    fail_with: str | None = None

    def launch(self, lesson: ExternalLesson) -> object:
        self.launched.append(lesson)
        if self.fail_with is not None:
            raise LaunchFailed(self.fail_with)
        return None


Maker = Callable[..., External]


@pytest.fixture
def make_shell(qapp: Any, qtbot: Any) -> Iterator[Maker]:
    """Start the app on the sandbox with a fake foreground (``None``: it cannot be seen)."""
    from companion.app.shell import Shell

    shells: list[Any] = []

    def make(foreground: FakeForeground | None, fail_with: str | None = None) -> External:
        clock = FakeClock(monotonic_ms=1_000_000)
        fake_input = FakeInput(clock)
        focus = FakeFocus()
        lock = FakeLock()
        ext = External(Harness(None, None, clock, fake_input, focus, lock, qtbot), foreground,
                       fail_with=fail_with)
        errors: list[str] = []
        shell = Shell(qapp, None, clock=clock, input_source=fake_input, focus_source=focus,
                      lock_source=lock, foreground=foreground, launch_lesson=ext.launch,
                      single_instance=False, tray=False, start_sync=False, launch_port=None,
                      report_error=errors.append)
        shells.append(shell)
        with qtbot.waitSignal(shell.ready, timeout=30_000):
            assert shell.start() is None, errors
        qtbot.addWidget(shell.window)
        ext.h.shell, ext.h.window = shell, shell.window
        return ext

    yield make
    for shell in shells:
        shell.close()


def master_page_lessons(h: Harness) -> None:
    """Master lessons 1 to 4 straight through the controller, so lesson 5 opens."""
    w = h.window
    controller = w.services.controller
    for lesson_id, questions in PAGE_LESSONS:
        controller.start(w.student.user_id, lesson_id)
        for i in range(questions):
            controller.answer(f"q{i}", True)
        assert controller.complete().mastered
    w.library.refresh()
    assert w.library.state_of(BROWSER_LESSON) == "open"


def open_browser_lesson(qtbot: Any, ext: External, name: str = "Ava") -> str:
    h = ext.h
    sign_in(h, name)
    master_page_lessons(h)
    with qtbot.waitSignal(h.window.lesson_opened) as opened:
        assert h.window.library.request(BROWSER_LESSON)
    assert h.window.stack.currentWidget() is h.window.session
    return str(opened.args[0])


def runs_journal(h: Harness, run_id: str) -> list[Line]:
    return runs.journal(h.shell.runtime.db, run_id)


def runs_events(h: Harness, run_id: str) -> list[dict[str, Any]]:
    return runs.run_events(h.shell.runtime.db, run_id)


def answer_quiz(qtbot: Any, h: Harness, right: int) -> Any:
    """Answer every question (the first ``right`` correctly); the run's summary."""
    session = h.window.session
    questions = session.bundle.check_quiz
    with qtbot.waitSignal(session.finished) as done:
        for number, question in enumerate(questions):
            ok = number < right
            session.quiz.choose(question.answer if ok else (question.answer + 1) % 2)
            session.quiz.answer_button.click()
    return done.args[0]


def test_browser_lesson_time_off_task_quiz_and_xp(qtbot: Any, make_shell: Maker) -> None:
    foreground = FakeForeground(BROWSER)
    ext = make_shell(foreground)
    h = ext.h
    w = h.window
    run_id = open_browser_lesson(qtbot, ext)
    session = w.session

    # the sandbox's reading page opened in the (recorded) system browser, and it is there
    url = f"{h.shell.runtime.sandbox.base_url}/demo/external/rain-gardens"
    assert ext.launched == [ExternalLesson(title_pattern="Rain Gardens", url=url)]
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200 and "<title>Rain Gardens</title>" in page.text
    assert httpx.get(url.replace("rain-gardens", "nope"), timeout=10).status_code == 404
    assert session.content.currentWidget() is session.panel
    assert session.panel.where.text() == ("Your lesson opened in your web browser. Work there; "
                                          "this window keeps your time.")
    assert not session.panel.notice.isVisibleTo(session)

    study(qtbot, h, 60)  # reading in the browser
    assert (session.focused_label.text(), session.state_label.text()) == ("1:00", "Focused")

    foreground.window = GAME  # seen at the next tick: 5 s later, for the next 30 s
    study(qtbot, h, 30)
    assert (session.focused_label.text(), session.state_label.text()) == ("1:05", "Off-task")
    focus_lines = [line for line in runs_journal(h, run_id) if line.kind == "focus"]
    assert [(line.focused, line.app) for line in focus_lines] == [(False, "Game")]

    foreground.window = BROWSER
    study(qtbot, h, 30)
    assert (session.focused_label.text(), session.state_label.text()) == ("1:30", "Focused")
    session.panel.reopen_button.click()
    assert len(ext.launched) == 2

    session.panel.done_button.click()
    assert session.content.currentWidget() is session.quiz
    assert w.run_sensing.own_window.counting
    foreground.window = OURS  # answering in the session window counts as the lesson
    study(qtbot, h, 20)
    assert session.focused_label.text() == "1:50"

    summary = answer_quiz(qtbot, h, right=3)
    # 110 s active = 1.83 min, perfect first attempt x1.25 = 2.29 -> 2.2 XP (rounded down)
    assert (summary.completed, summary.questions, summary.correct) == (True, 3, 3)
    assert summary.active_ms == 110_000
    assert summary.xp == Decimal("2.2") and summary.mastered
    assert summary.reason is None
    assert w.stack.currentWidget() is w.summary
    assert "2.2 XP" in w.summary.title.text()
    assert w.summary.explanation() == list(summary.explain)
    assert "XP: floor(1.833 × 1.25 × 10) / 10 = 2.2" in summary.explain
    assert w.run_sensing.current is None and not w.run_sensing.own_window.counting

    lines = runs_journal(h, run_id)
    replayed = rules.summarize(lines)
    assert (replayed["activeSeconds"], replayed["wasteSeconds"]) == (110.0, 30.0)
    assert [line.item for line in lines if line.kind == "answer"] == ["rain-1", "rain-2", "rain-3"]
    waste = [s for s in rules.classify(lines).segments if s.category == "waste"]
    assert {s.sub_type for s in waste} == {"focus-lost:Game"}
    events = runs_events(h, run_id)
    assert {"ActivityEvent", "TimeSpentEvent"} <= {e["type"] for e in events}
    (activity,) = [e for e in events if e["type"] == "ActivityEvent"]
    metrics = {m["type"]: m["value"] for m in activity["generated"]["items"]}
    assert metrics == {"totalQuestions": 3, "correctQuestions": 3, "xpEarned": 2.2,
                       "masteredUnits": 1}
    game = [item["value"] for e in events if e["type"] == "TimeSpentEvent"
            for item in e["generated"]["items"] if item.get("subType") == "focus-lost:Game"]
    assert sum(game) == 30
    w.summary.back_button.click()
    assert w.library.state_of(BROWSER_LESSON) == "mastered"


def test_without_a_quiz_the_lesson_earns_no_xp_and_says_why(
    qtbot: Any, make_shell: Maker
) -> None:
    ext = make_shell(FakeForeground(BROWSER))
    h = ext.h
    bundles = h.window.services.content.bundles
    bundles[BROWSER_LESSON] = replace(bundles[BROWSER_LESSON], check_quiz=())
    run_id = open_browser_lesson(qtbot, ext)
    session = h.window.session
    assert session.panel.notice.isVisibleTo(session)
    assert session.panel.notice.text() == NO_XP
    study(qtbot, h, 60)
    with qtbot.waitSignal(session.finished) as done:
        session.panel.done_button.click()
    summary = done.args[0]
    assert summary.completed and summary.questions == 0
    assert summary.active_ms == 60_000 and summary.xp == 0
    assert summary.reason == NOTHING_CHECKED
    assert h.window.summary.reason.text() == NOTHING_CHECKED
    assert "80 % gate: not reached (nothing verified the learning), XP 0" in summary.explain
    (activity,) = [e for e in runs_events(h, run_id) if e["type"] == "ActivityEvent"]
    metrics = {m["type"]: m["value"] for m in activity["generated"]["items"]}
    assert (metrics["totalQuestions"], metrics["xpEarned"]) == (0, 0)


def test_unseen_foreground_means_unknown_time_and_the_student_is_told(
    qtbot: Any, make_shell: Maker
) -> None:
    ext = make_shell(None)  # like Wayland: pick_foreground raises SensingUnavailable
    h = ext.h
    run_id = open_browser_lesson(qtbot, ext)
    session = h.window.session
    assert session.panel.notice.isVisibleTo(session)
    assert "cannot be tracked here" in session.panel.notice.text()
    study(qtbot, h, 30)
    assert (session.focused_label.text(), session.state_label.text()) == ("0:00", "Not seen")
    session.panel.done_button.click()
    study(qtbot, h, 10)  # the quiz in our own window: Qt sees that, so it counts
    summary = answer_quiz(qtbot, h, right=3)
    replayed = rules.summarize(runs_journal(h, run_id))
    # the tick that shows the window in front ends the unknown stretch: 35 s, then 5 s active
    assert (replayed["unknownSeconds"], replayed["activeSeconds"]) == (35.0, 5.0)
    assert summary.active_ms == 5_000 and summary.questions == 3
    sensing = [line.available for line in runs_journal(h, run_id) if line.kind == "sensing"]
    assert sensing == [False, True]


def test_a_lesson_that_cannot_start_ends_not_completed_with_the_reason(
    qtbot: Any, make_shell: Maker
) -> None:
    ext = make_shell(FakeForeground(BROWSER), fail_with="xdg-open was not found")
    h = ext.h
    w = h.window
    sign_in(h, "Ava")
    master_page_lessons(h)
    w.ensure_session()
    with qtbot.waitSignal(w.session.finished) as done, qtbot.waitSignal(w.lesson_opened):
        assert w.library.request(BROWSER_LESSON)
    assert len(ext.launched) == 1
    summary = done.args[0]
    assert not summary.completed and summary.xp == 0
    assert summary.reason == ("The lesson could not be opened: xdg-open was not found. "
                              "Nothing was counted; ask your guide for help.")
    assert w.stack.currentWidget() is w.summary
    assert w.summary.reason.text() == summary.reason
    assert "not finished" in w.summary.title.text()
    assert not w.session.running and w.run_sensing.current is None
