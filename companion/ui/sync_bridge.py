"""The sync worker's status as a Qt signal on the UI thread, and how to say it in words.

While the worker delivers thousands of events its status changes hundreds of times a
second; the UI needs a few updates a second. The bridge keeps only the latest status and
emits it at most every ``min_interval_ms`` (the last one always arrives), so the UI thread
handles a handful of queued calls instead of one per change.

Signals:
    changed(object): the latest ``SyncStatus`` (on the UI thread, at most a few per second).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from companion.core.sync_types import SyncState, SyncStatus
from companion.ui.ports import StatusFeed


def describe(status: SyncStatus) -> str:
    """A short phrase for the status: up to date (nothing waits), N waiting with the reason,
    offline, error; while a "Sync now" runs, what it has sent so far."""
    if status.sync_now_running and status.state not in (SyncState.OFFLINE, SyncState.ERROR,
                                                        SyncState.STOPPED):
        return f"Syncing now… {status.sent} sent"
    if status.state == SyncState.OFFLINE:
        waiting = status.undelivered
        return f"Offline, {waiting} waiting" if waiting else "Offline"
    if status.state in (SyncState.ERROR, SyncState.STOPPED):
        return f"Sync problem: {status.reason}" if status.reason else "Sync problem"
    if status.dead:
        return f"{status.dead} events need attention"
    text = status.waiting_text()
    if text:
        return text
    waiting = status.pending + status.in_flight + status.settling
    if waiting:
        return f"{waiting} pending"
    return "Up to date"


DEFAULT_MIN_INTERVAL_MS = 250


class SyncStatusBridge(QObject):
    """Re-emits a status board's updates as a Qt signal, throttled.

    Signals:
        changed(object): the newest ``SyncStatus``.
        poked(): internal: a new status is waiting (queued from the worker's thread).
    """

    changed = Signal(object)
    poked = Signal()

    def __init__(self, board: StatusFeed, parent: QObject | None = None,
                 min_interval_ms: int = DEFAULT_MIN_INTERVAL_MS) -> None:
        """Create on the UI thread (its timer and slots live there)."""
        super().__init__(parent)
        self._board = board
        self._interval_ms = min_interval_ms
        self._lock = threading.Lock()
        self._latest: SyncStatus = board.current
        self._waiting = False  # a poke or a timer is on its way
        self._last_emit_ms: float | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self.poked.connect(self.on_poked)
        self._timer.timeout.connect(self.on_timer)
        self._unsubscribe: Callable[[], None] = board.subscribe(self.on_board_changed)

    def on_board_changed(self, status: SyncStatus) -> None:
        """Any thread: remember ``status``; poke the UI thread unless a poke is pending."""
        with self._lock:
            self._latest = status
            if self._waiting:
                return
            self._waiting = True
        self.poked.emit()

    def on_poked(self) -> None:
        """UI thread: emit now, or when ``min_interval_ms`` has passed since the last one."""
        now = time.monotonic() * 1000
        since = None if self._last_emit_ms is None else now - self._last_emit_ms
        if since is None or since >= self._interval_ms:
            self.on_timer()
        else:
            self._timer.start(max(1, int(self._interval_ms - since)))

    def on_timer(self) -> None:
        with self._lock:
            status = self._latest
            self._waiting = False
        self._last_emit_ms = time.monotonic() * 1000
        self.changed.emit(status)

    @property
    def current(self) -> SyncStatus:
        """The latest snapshot."""
        return self._board.current

    def close(self) -> None:
        """Stop listening to the board."""
        self._unsubscribe()
        self._timer.stop()
