"""The sync worker's status as a Qt signal on the UI thread, and how to say it in words.

Signals:
    changed(object): a new ``SyncStatus`` (emitted from the worker's thread; Qt queues it
        to receivers on the UI thread).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from companion.sync.status import StatusBoard, SyncState, SyncStatus


def describe(status: SyncStatus) -> str:
    """A short phrase for the status: up to date, N pending, offline, error."""
    if status.state == SyncState.OFFLINE:
        return f"Offline, {status.pending} waiting" if status.pending else "Offline"
    if status.state in (SyncState.ERROR, SyncState.STOPPED) and status.reason:
        return f"Sync problem: {status.reason}"
    if status.dead:
        return f"{status.dead} events need attention"
    waiting = status.pending + status.in_flight
    if waiting:
        return f"{waiting} pending"
    return "Up to date"


class SyncStatusBridge(QObject):
    """Re-emits a ``StatusBoard``'s updates as a Qt signal.

    Signals:
        changed(object): the new ``SyncStatus``.
    """

    changed = Signal(object)

    def __init__(self, board: StatusBoard, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._board = board
        self._unsubscribe: Callable[[], None] = board.subscribe(self.changed.emit)

    @property
    def current(self) -> SyncStatus:
        """The latest snapshot."""
        return self._board.current

    def close(self) -> None:
        """Stop listening to the board."""
        self._unsubscribe()
