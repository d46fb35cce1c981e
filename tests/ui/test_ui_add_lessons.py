"""The guide's "Add lessons": the dialog from the guide view, its progress and its result."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from companion.content import load_library
from companion.content.importer import import_content
from companion.core.clock import FakeClock
from companion.ui.add_lessons import AddLessonsDialog
from companion.ui.guide import GuideWidget
from tests.content.scorm_factory import multi_2004, single_12, zip_package


def importer_into(library: Path, progress_seen: list[tuple[int, int]]) -> Any:
    def add(path: Path, progress: Any) -> Any:
        def both(done: int, total: int) -> None:
            progress_seen.append((done, total))
            progress(done, total)

        return import_content(path, library, progress=both)

    return add


def test_the_guide_view_opens_add_lessons_and_a_package_is_added(
    qtbot: Any, tmp_path: Path
) -> None:
    library = tmp_path / "library"
    seen: list[tuple[int, int]] = []
    signin = SimpleNamespace(classes=lambda: [], students=lambda _class_id: [])
    services = SimpleNamespace(signin=signin, report=None, clock=FakeClock(),
                               add_lessons=importer_into(library, seen))
    view = GuideWidget(services)
    qtbot.addWidget(view)
    view.show_guide(SimpleNamespace(name="Maria", user_id="g1"))
    view.add_lessons_button.click()
    dialog = view.add_lessons_dialog
    assert isinstance(dialog, AddLessonsDialog) and dialog.isVisible()
    package = zip_package(multi_2004(tmp_path / "cells"), tmp_path / "cells.zip")
    with qtbot.waitSignal(dialog.imported, timeout=20_000) as done:
        dialog.start_import(package)
    assert done.args[0].course_id == "org-example-cells"
    assert dialog.result_label.text() == (
        "Added 3 lessons from “Cells”: What is a cell, Cell parts, Quiz.")
    assert dialog.bar.value() == dialog.bar.maximum() == 1
    assert seen and seen[-1][0] == seen[-1][1]  # progress reached the whole package
    assert dialog.file_button.isEnabled()
    lessons = load_library([library], tmp_path / "cache").catalogue.lessons
    assert [lesson.id for lesson in lessons][:1] == ["org-example-cells-i1"]
    dialog.close()


def test_a_refused_package_says_why_and_adds_nothing(qtbot: Any, tmp_path: Path) -> None:
    library = tmp_path / "library"
    dialog = AddLessonsDialog(importer_into(library, []))
    qtbot.addWidget(dialog)
    broken = single_12(tmp_path / "broken")
    (broken / "index.html").unlink()
    assert dialog.task is None
    dialog.start_import(broken)
    assert dialog.busy or dialog.task is not None
    qtbot.waitUntil(lambda: dialog.result_label.text().startswith("Not added."),
                    timeout=20_000)
    assert dialog.result_label.text() == (
        "Not added. broken: item 'item1' launches 'index.html', which is not in the package")
    assert [p.name for p in library.iterdir() if not p.name.startswith(".")] == []
