"""The whole app and a SCORM package: a guide adds it through the guide view's "Add
lessons", a student then finds its lesson in the library, studies it and sees the summary;
the run's events are in the outbox like any lesson's. A package imported before the app
starts is in the library from the start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from companion.content.importer import import_content
from companion.core.clock import FakeClock
from companion.store import runs
from companion.store.paths import library_dir
from companion.system.fakes import FakeFocus, FakeInput, FakeLock
from tests.content.scorm_factory import (
    item_12,
    manifest_12,
    resource_12,
    write_package,
    zip_package,
)
from tests.ui.conftest import ANSWER_TIMEOUT_MS, Harness, show_guides
from tests.ui.scorm_pages import sco_page
from tests.ui.test_ui_lesson import sign_in, study

LESSON = "com-example-fractions"
STEPS = """
  api.LMSInitialize("");
  window.finishLesson = function () {
    for (var i = 0; i < 5; i += 1) {
      api.LMSSetValue("cmi.interactions." + i + ".id", "f" + i);
      api.LMSSetValue("cmi.interactions." + i + ".result", "correct");
    }
    api.LMSSetValue("cmi.core.score.raw", "100");
    api.LMSSetValue("cmi.core.score.max", "100");
    api.LMSSetValue("cmi.core.lesson_status", "passed");
    api.LMSFinish("");
  };
"""


@pytest.fixture
def app_with_package(qapp: Any, qtbot: Any, tmp_path: Any) -> Iterator[Harness]:
    from companion.app.shell import Shell

    source = write_package(tmp_path / "pkg", manifest_12(
        item_12("sco1", "r1", "Adding fractions", "80"), resource_12("r1", "index.html")),
        {"index.html": sco_page("API", STEPS)})
    import_content(source, library_dir(), subject="Math", grade="04")
    clock = FakeClock(monotonic_ms=1_000_000)
    fake_input = FakeInput(clock)
    focus, lock = FakeFocus(), FakeLock()
    errors: list[str] = []
    shell = Shell(qapp, None, clock=clock, input_source=fake_input, focus_source=focus,
                  lock_source=lock, single_instance=False, tray=False, start_sync=False,
                  launch_port=None, report_error=errors.append)
    with qtbot.waitSignal(shell.ready, timeout=30_000):
        assert shell.start() is None, errors
    qtbot.addWidget(shell.window)
    yield Harness(shell, shell.window, clock, fake_input, focus, lock, qtbot)
    shell.close()


def test_a_guide_adds_a_package_and_a_student_studies_it(
    qtbot: Any, harness: Harness, tmp_path: Any
) -> None:
    w = harness.window
    show_guides(qtbot, w.signin)
    w.signin.name_buttons()[0].click()
    w.signin.pin_edit.setText("9999")
    with qtbot.waitSignal(w.signin.guide_signed_in, timeout=ANSWER_TIMEOUT_MS):
        w.signin.on_pin_submitted()
    guide = w.guide_view
    guide.add_lessons_button.click()
    dialog = guide.add_lessons_dialog
    package = zip_package(write_package(tmp_path / "pkg", manifest_12(
        item_12("sco1", "r1", "Adding fractions", "80"), resource_12("r1", "index.html")),
        {"index.html": sco_page("API", STEPS)}), tmp_path / "fractions.zip")
    with qtbot.waitSignal(dialog.imported, timeout=30_000):
        dialog.start_import(package)
    assert dialog.result_label.text().startswith("Added 1 lesson from “Fractions”")
    dialog.close()
    w.on_sign_out_clicked()
    study_the_package(qtbot, harness)


def test_a_student_studies_an_imported_scorm_lesson(
    qtbot: Any, app_with_package: Harness
) -> None:
    study_the_package(qtbot, app_with_package)


def study_the_package(qtbot: Any, h: Harness) -> None:
    w = h.window
    sign_in(h, "Ava")
    assert w.library.state_of(LESSON) == "open"
    w.ensure_session()
    session = w.session
    with qtbot.waitSignal(w.lesson_opened, timeout=30_000) as opened:
        assert w.library.request(LESSON)
    run_id = opened.args[0]
    qtbot.waitUntil(lambda: session.scorm.run is not None and session.scorm.run.initialized,
                    timeout=30_000)
    study(qtbot, h, 60)
    with qtbot.waitSignal(session.finished, timeout=20_000) as done:
        session.view.page().runJavaScript(
            "document.getElementById('sco').contentWindow.finishLesson(); 1")
    summary = done.args[0]
    assert summary.completed and summary.mastered
    assert (summary.questions, summary.correct) == (5, 5)
    assert summary.xp > 0
    assert w.stack.currentWidget() is w.summary
    db = h.shell.runtime.db
    kinds = [line.kind for line in runs.journal(db, run_id)]
    assert kinds.count("answer") == 5 and kinds.count("score") == 1
    assert {"ActivityEvent", "TimeSpentEvent"} <= {e["type"] for e in runs.run_events(db, run_id)}
