"""Run slow work (network, disk) off the UI thread and hear of the result by signal.

Signals:
    succeeded(object): the function's return value (delivered on the UI thread).
    failed(object): the exception it raised.
    finished(): after either.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger("companion.ui")


class BackgroundTask(QObject):
    """One function run once in a daemon thread.

    Signals:
        succeeded(object): the return value.
        failed(object): the exception.
        finished(): after succeeded or failed.
    """

    succeeded = Signal(object)
    failed = Signal(object)
    finished = Signal()

    def __init__(self, fn: Callable[[], Any], name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        self._name = name
        self._thread: threading.Thread | None = None
        self.result: Any = None
        self.error: BaseException | None = None

    def start(self) -> None:
        """Run the function in its thread."""
        if self._thread is not None:
            raise RuntimeError(f"task {self._name} already started")
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """True until the function has returned or raised."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Join the thread (for shutdown only, never on the UI thread's normal path)."""
        if self._thread is None:
            return True
        self._thread.join(timeout_s)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self.result = self._fn()
        except Exception as exc:
            log.info("task %s failed: %s", self._name, exc)
            self.error = exc
            self.failed.emit(exc)
        else:
            self.succeeded.emit(self.result)
        self.finished.emit()
