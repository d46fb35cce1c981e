"""Progress across computers: a lesson mastered on another computer (another database on
the same sandbox) shows as mastered after signing in here, and the next lesson is open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from companion.core import results
from companion.store import runs
from tests.results.helpers import APP_ID, STUDENT, client_for, deliver_all, open_computer, study
from tests.ui.conftest import Harness
from tests.ui.test_ui_lesson import DRILL, READING, sign_in


def test_mastery_on_another_computer_shows_here_after_sign_in(
    qtbot: Any, harness: Harness, tmp_path: Path
) -> None:
    rt = harness.shell.runtime
    catalogue = rt.library.catalogue
    other = open_computer(tmp_path / "other" / "companion-sandbox.sqlite3")
    try:
        runs.save_lessons(other, catalogue)
        with client_for(rt.sandbox.base_url) as client:
            for lesson in catalogue.lessons:
                client.put_line_item(
                    results.line_item_payload(APP_ID, lesson, lesson.course_id))
            done = study(other, DRILL, correct=5)
            assert done.mastered
            assert sum(p.sent for p in deliver_all(other, client)) == 1
    finally:
        other.close()
    assert STUDENT == "demo-student-01"  # Ava in the demo roster
    with qtbot.waitSignal(harness.shell.progress.synced, timeout=20_000) as synced:
        sign_in(harness, "Ava")
    student_id, result = synced.args
    assert student_id == STUDENT and result.online
    assert result.changed_lessons == (DRILL,)
    lib = harness.window.library
    assert lib.state_of(DRILL) == "mastered"
    assert lib.state_of(READING) == "open"
