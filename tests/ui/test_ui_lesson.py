"""Studying a demo lesson through the page bridge, with a fake clock and fake input:
locked lessons, XP explained, events in the outbox, unlocking on mastery, abandonment,
quitting, and a second student seeing nothing of the first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from companion.store import runs
from tests.ui.conftest import Harness, choose_class, submit_pin

DRILL = "demo-math-drill"
READING = "demo-reading-passage"
DRILL_KEY = ("13", "9", "42", "8", "100")  # the drill's answerKey in lesson.json


def sign_in(h: Harness, name: str, pin: str = "1234") -> None:
    w = h.window
    choose_class(h.qtbot, w.signin)
    button = next(b for b in w.signin.name_buttons() if b.text() == name)
    button.click()
    w.signin.pin_edit.setText(pin)
    submit_pin(h.qtbot, w.signin)
    assert w.student is not None and w.stack.currentWidget() is w.library


def open_lesson(qtbot: Any, h: Harness, lesson_id: str) -> Any:
    w = h.window
    w.ensure_session()
    with qtbot.waitSignal(w.session.view.loadFinished, timeout=30_000) as loaded, \
            qtbot.waitSignal(w.lesson_opened) as opened:
        assert w.library.request(lesson_id)
    assert loaded.args == [True]
    assert w.stack.currentWidget() is w.session
    return opened.args[0]


def run_js(qtbot: Any, h: Harness, code: str) -> Any:
    page = h.window.session.view.page()
    out: list[Any] = []
    page.runJavaScript(code, 0, out.append)
    qtbot.waitUntil(lambda: bool(out), timeout=10_000)
    return out[0]


def study(qtbot: Any, h: Harness, seconds: int, step: int = 5) -> None:
    """Work in the lesson: input every ``step`` seconds, one tick each."""
    for _ in range(seconds // step):
        h.clock.advance(step * 1000)
        h.input.touch()
        h.window.session.on_tick()


def test_locked_lesson_is_refused_with_what_unlocks_it(qtbot: Any, harness: Harness) -> None:
    sign_in(harness, "Ava")
    lib = harness.window.library
    assert lib.state_of(DRILL) == "open"
    assert lib.state_of(READING) == "locked"
    with qtbot.assertNotEmitted(lib.lesson_chosen):
        assert not lib.request(READING)
    assert "Master 'Quick Maths Drill'" in lib.hint_label.text()


def test_study_a_lesson_to_mastery(qtbot: Any, harness: Harness) -> None:
    h = harness
    w = h.window
    sign_in(h, "Ava")
    run_id = open_lesson(qtbot, h, DRILL)
    session = w.session
    for i in range(1, 6):
        study(qtbot, h, 20)
        with qtbot.waitSignal(session.bridge.answered) as answered:
            run_js(qtbot, h, f"window.companion.answer('drill-{i}', '{DRILL_KEY[i - 1]}'); 1")
        assert answered.args == [f"drill-{i}", True, "app"]
    assert session.accuracy_label.text() == "Accuracy 100%"
    assert session.focused_label.text() == "1:40"
    assert session.state_label.text() == "Focused"
    with qtbot.waitSignal(session.finished, timeout=10_000) as done:
        run_js(qtbot, h, "window.companion.complete(); 1")
    summary = done.args[0]
    # 100 s active = 1.67 min, perfect first attempt x1.25 = 2.08 -> 2.0 XP (rounded down)
    assert summary.xp == Decimal("2.0")
    assert summary.mastered
    assert w.stack.currentWidget() is w.summary
    lines = w.summary.explanation()
    assert lines == list(summary.explain)
    assert any("Unlocked next" in line for line in lines)
    assert "2.0 XP" in w.summary.title.text()
    events = runs.run_events(h.shell.runtime.db, run_id)
    types = {e["type"] for e in events}
    assert {"ActivityEvent", "TimeSpentEvent"} <= types
    (activity,) = [e for e in events if e["type"] == "ActivityEvent"]
    assert activity["extensions"] == {"appScored": 5, "contentScored": 0}
    w.summary.back_button.click()
    assert w.stack.currentWidget() is w.library
    assert w.library.state_of(DRILL) == "mastered"
    assert w.library.state_of(READING) == "open"
    assert "2.0" in w.library.today_label.text()


def test_no_mastery_keeps_the_next_lesson_locked(qtbot: Any, harness: Harness) -> None:
    h = harness
    w = h.window
    sign_in(h, "Mateo")
    open_lesson(qtbot, h, DRILL)
    for i in range(1, 6):
        study(qtbot, h, 10)
        right = DRILL_KEY[i - 1]  # 4 of 5: 80 %, XP but no mastery
        w.session.bridge.answer(f"drill-{i}", right if i != 3 else right + "1")
    with qtbot.waitSignal(w.session.finished) as done:
        w.session.bridge.complete()
    summary = done.args[0]
    assert not summary.mastered and summary.xp > 0
    w.summary.back_button.click()
    assert w.library.state_of(READING) == "locked"


def test_walking_away_abandons_and_signs_out(qtbot: Any, harness: Harness) -> None:
    h = harness
    w = h.window
    sign_in(h, "Ava")
    run_id = open_lesson(qtbot, h, DRILL)
    with qtbot.waitSignal(w.signed_out, timeout=10_000) as out:
        for _ in range(80):  # up to 400 s with no input; the drill abandons after 300 s
            h.clock.advance(5000)
            w.session.on_tick()
            if w.student is None:
                break
    assert out.args == ["abandoned"]
    assert w.stack.currentWidget() is w.signin
    assert "No focused learning" in w.signin.class_status.text()
    row = runs.get_run(h.shell.runtime.db, run_id)
    assert row is not None and row.state == "closed"


def test_quitting_asks_and_ends_not_completed(qtbot: Any, harness: Harness) -> None:
    h = harness
    w = h.window
    sign_in(h, "Ava")
    open_lesson(qtbot, h, DRILL)
    w.session.confirm_quit = lambda: False
    w.session.quit_button.click()
    assert w.session.running
    w.session.confirm_quit = lambda: True
    with qtbot.waitSignal(w.session.finished) as done:
        w.session.quit_button.click()
    assert not done.args[0].completed
    assert done.args[0].xp == 0
    assert "not finished" in w.summary.title.text()


def test_next_student_sees_nothing_of_the_last(qtbot: Any, harness: Harness) -> None:
    h = harness
    w = h.window
    sign_in(h, "Ava")
    open_lesson(qtbot, h, DRILL)
    stored = run_js(qtbot, h, "localStorage.setItem('note', 'ava'); "
                    "document.cookie = 'who=ava; path=/'; localStorage.getItem('note')")
    assert stored == "ava"
    first_profile = w.session.view.page().profile()
    with qtbot.waitSignal(w.signed_out):
        w.library.sign_out_button.click() if w.stack.currentWidget() is w.library \
            else w.sign_out("button")
    assert w._student_web is None
    sign_in(h, "Mateo")
    open_lesson(qtbot, h, DRILL)
    assert w.session.view.page().profile() is not first_profile
    assert run_js(qtbot, h, "String(localStorage.getItem('note'))") == "null"
    assert run_js(qtbot, h, "document.cookie") == ""


def test_the_pages_word_on_media_and_answers_is_checked(qtbot: Any, harness: Harness) -> None:
    h = harness
    w = h.window
    sign_in(h, "Ava")
    run_id = open_lesson(qtbot, h, DRILL)
    session = w.session
    with qtbot.waitSignal(session.bridge.media_reported):
        run_js(qtbot, h, "window.companion.media(true); 1")
    with qtbot.waitSignal(session.bridge.refused) as refused:  # the drill's key is the app's
        run_js(qtbot, h, "window.companion.answer('drill-1', true); 1")
    assert "need the response as text" in refused.args[0]
    study(qtbot, h, 5)
    with qtbot.waitSignal(session.bridge.answered) as answered:
        run_js(qtbot, h, "window.companion.answer('drill-2', '9'); 1")
    assert answered.args == ["drill-2", True, "app"]
    with qtbot.waitSignal(session.bridge.refused) as refused:  # under a second later
        run_js(qtbot, h, "window.companion.answer('drill-3', '42'); 1")
    assert "sooner" in refused.args[0]
    lines = runs.journal(h.shell.runtime.db, run_id)
    assert [line.kind for line in lines if line.kind in ("media", "answer")] == ["answer"]
    assert [line.to_json()["scoredBy"] for line in lines if line.kind == "answer"] == ["app"]


def test_a_full_disk_stops_the_lesson_with_a_clear_word(qtbot: Any, harness: Harness) -> None:
    from sqlalchemy import text

    h = harness
    w = h.window
    sign_in(h, "Ava")
    run_id = open_lesson(qtbot, h, DRILL)
    db = h.shell.runtime.db

    def fill_up(session: Any) -> None:  # the writer's own connection: no room left
        pages = session.exec(text("PRAGMA page_count")).one()[0]
        session.exec(text(f"PRAGMA max_page_count = {pages}"))

    db.write(fill_up)
    for _ in range(400):
        if not w.session.timer.isActive():
            break
        study(qtbot, h, 15, step=15)
    assert not w.session.timer.isActive()
    assert w.session.state_label.text() == "Not saved: the disk is full"
    assert "Everything saved until now is kept" in w.session.state_label.toolTip()
    assert runs.journal(db, run_id)[0].kind == "start"  # the journal so far is still there
