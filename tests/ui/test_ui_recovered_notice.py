"""After a crash, the library tells the student who was working what happened, once."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import Qt

from companion.core.clock import FakeClock
from companion.session.library import LibraryView
from companion.store.db import Database
from companion.ui.library import LibraryWidget
from tests.store.run_child import STUDENT, seed
from tests.store.test_lost_attempts import CATALOGUE, killed_run, recover


def test_the_interrupted_lesson_is_explained_once_and_can_be_closed(
    qtbot: Any, tmp_path: Path
) -> None:
    db_path = tmp_path / "companion-sandbox.sqlite3"
    with Database.open(db_path, "sandbox") as db:
        seed(db)
    killed_run(db_path)
    with Database.open(db_path, "sandbox") as db:
        recover(db)
        library = LibraryWidget(LibraryView(db, CATALOGUE, FakeClock()))
        qtbot.addWidget(library)
        library.show()
        library.show_student(SimpleNamespace(user_id="stu-other", name="Bo"))
        assert not library.notice.isVisible()  # not the student who was working

        library.show_student(SimpleNamespace(user_id=STUDENT, name="Ada"))
        assert library.notice.isVisible()
        text = library.notice.label.text()
        assert "'Fractions 1'" in text and "1.5 focused minutes were kept and reported" in text
        assert "It counts as an attempt." in text  # the child had answered once
        with qtbot.waitSignal(library.notice.dismissed):
            qtbot.mouseClick(library.notice.ok_button, Qt.MouseButton.LeftButton)
        assert not library.notice.isVisible()

        library.show_student(SimpleNamespace(user_id=STUDENT, name="Ada"))
        assert not library.notice.isVisible()  # said once
