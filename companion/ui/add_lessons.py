"""The guide's "Add lessons" dialog: pick a package or folder, watch it import, see the result.

The import itself is the ``add`` function the composition root gives
(``Services.add_lessons``: ``companion.content.importer.import_content`` into this
computer's library), run off the UI thread; its progress callback reaches the progress bar
by a queued signal. The result says what was added, or why it was refused (the package and
the problem), in words a guide reads.

Signals:
    AddLessonsDialog.imported(object): an import succeeded; what it added.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from companion.ui.tasks import BackgroundTask

AddFn = Callable[[Path, Callable[[int, int], None]], Any]
PACKAGE_FILTER = "Lesson packages (*.zip);;All files (*)"


class _Progress(QObject):
    """Carries the import's progress from its thread to the dialog.

    Signals:
        moved(int, int): bytes done and bytes in all (in KiB, to fit an int).
    """

    moved = Signal(int, int)

    def report(self, done: int, total: int) -> None:
        self.moved.emit(done // 1024, max(total // 1024, 1))


def describe(imported: Any) -> str:
    """What the guide reads after an import."""
    count = len(imported.lessons)
    lessons = "1 lesson" if count == 1 else f"{count} lessons"
    verb = "Replaced" if imported.replaced else "Added"
    names = ", ".join(title for _id, title in imported.lessons[:5])
    more = "…" if count > 5 else ""
    return f"{verb} {lessons} from “{imported.title}”: {names}{more}."


class AddLessonsDialog(QDialog):
    """Choose, import, report.

    Signals:
        imported(object): what an import added.
    """

    imported = Signal(object)

    def __init__(self, add: AddFn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add lessons")
        self._add = add
        self.task: BackgroundTask | None = None
        self._progress = _Progress(self)
        intro = QLabel("Add a SCORM package (1.2 or 2004, as a .zip or a folder), a lesson "
                       "bundle, or a folder of lessons to this computer.")
        intro.setWordWrap(True)
        self.file_button = QPushButton("Choose a file…")
        self.file_button.setAccessibleName("Choose a package file")
        self.folder_button = QPushButton("Choose a folder…")
        self.folder_button.setAccessibleName("Choose a package or lessons folder")
        self.bar = QProgressBar()
        self.bar.setAccessibleName("Import progress")
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.result_label = QLabel("")
        self.result_label.setObjectName("add_lessons_result")
        self.result_label.setAccessibleDescription("Import result")
        self.result_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        choose = QHBoxLayout()
        choose.addWidget(self.file_button)
        choose.addWidget(self.folder_button)
        choose.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(choose)
        layout.addWidget(self.bar)
        layout.addWidget(self.result_label)
        layout.addWidget(buttons)
        self.resize(520, 240)
        self.file_button.clicked.connect(self.on_choose_file)
        self.folder_button.clicked.connect(self.on_choose_folder)
        self._progress.moved.connect(self.on_progress)
        buttons.rejected.connect(self.reject)

    @property
    def busy(self) -> bool:
        return self.task is not None and self.task.running

    def on_choose_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Choose a lesson package", "",
                                              PACKAGE_FILTER)
        if name:
            self.start_import(Path(name))

    def on_choose_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Choose a package or lessons folder")
        if name:
            self.start_import(Path(name))

    def start_import(self, path: Path) -> None:
        """Import ``path`` in the background (ignored while an import runs)."""
        if self.busy:
            return
        self.file_button.setEnabled(False)
        self.folder_button.setEnabled(False)
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.result_label.setText(f"Adding {path.name}…")
        add, report = self._add, self._progress.report
        self.task = BackgroundTask(lambda: add(path, report), "add-lessons", self)
        self.task.succeeded.connect(self.on_succeeded)
        self.task.failed.connect(self.on_failed)
        self.task.start()

    def on_progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(min(done, total))

    def on_succeeded(self, imported: Any) -> None:
        self._finish()
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.result_label.setText(describe(imported))
        self.imported.emit(imported)

    def on_failed(self, error: BaseException) -> None:
        self._finish()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        problem = getattr(error, "problem", None)
        name = Path(getattr(error, "bundle", "")).name
        reason = f"{name}: {problem}" if problem else str(error)
        self.result_label.setText(f"Not added. {reason}")

    def _finish(self) -> None:
        self.file_button.setEnabled(True)
        self.folder_button.setEnabled(True)
