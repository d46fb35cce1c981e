"""Progress across computers: after a student signs in (any way), merge their gradebook
results into this computer's progress in a background task, then show the library again
(a lesson mastered on another computer shows as mastered, and the next one opens).

Skipped while the sync worker says it is offline; offline the cached progress stands. The
merge reads through the process's one gradebook client (``Runtime.timeback``).

Signals:
    synced(str, object): the student id and the ``ProgressSyncResult``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from companion.core.signin_types import SignedIn
from companion.ui.tasks import BackgroundTask

if TYPE_CHECKING:
    from companion.app.runtime import Runtime
    from companion.sync.progress_sync import ProgressSyncResult
    from companion.ui.main_window import MainWindow

log = logging.getLogger("companion.app.progress")


def merge_progress(rt: Runtime, student_id: str) -> ProgressSyncResult:
    """Read the student's results from the gradebook and merge them (a worker thread)."""
    from companion.sync.progress_sync import sync_progress

    assert rt.timeback is not None  # built by boot_rest before the lessons are there
    return sync_progress(rt.db, rt.timeback.gradebook, student_id)


class ProgressSync(QObject):
    """Runs ``merge_progress`` after each student sign-in.

    Signals:
        synced(str, object): student id and result, after the merge.
    """

    synced = Signal(str, object)

    def __init__(self, window: MainWindow, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.runtime: Runtime | None = None  # set once the deferred start-up finished
        self._tasks: list[BackgroundTask] = []

    def on_signed_in(self, user: SignedIn) -> None:
        rt = self.runtime
        if rt is None or rt.library is None or rt.timeback is None:
            return
        if rt.worker is not None and rt.worker.status.current.state == "offline":
            log.info("offline: progress of %s not merged", user.user_id)
            return
        student_id = str(user.user_id)
        task = BackgroundTask(lambda: merge_progress(rt, student_id), "progress-sync", self)
        task.succeeded.connect(lambda result: self.on_merged(student_id, result))
        task.failed.connect(lambda exc: log.warning("progress merge failed: %s", exc))
        task.finished.connect(lambda: self._tasks.remove(task))
        self._tasks.append(task)
        task.start()

    def on_merged(self, student_id: str, result: ProgressSyncResult) -> None:
        w = self.window
        if result.changed_lessons and w.student is not None and w.student.user_id == student_id:
            w.library.refresh()
        self.synced.emit(student_id, result)

    def wait(self) -> None:
        """Let running merges finish (on quit)."""
        for task in list(self._tasks):
            task.wait(10)
