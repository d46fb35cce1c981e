"""What the sync worker tells the UI and the command line: one frozen snapshot, listeners.

The worker publishes a new ``SyncStatus`` whenever something changes; listeners are called
on the worker's thread (the UI wraps one in a Qt signal to cross to the UI thread).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from companion.core.sync_types import SyncRunReport, SyncState, SyncStatus, WaitingGroup

log = logging.getLogger("companion.sync")

__all__ = ["StatusBoard", "SyncRunReport", "SyncState", "SyncStatus", "WaitingGroup"]

StatusListener = Callable[[SyncStatus], None]


class StatusBoard:
    """Holds the latest status and calls every listener when it changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status = SyncStatus()
        self._listeners: list[StatusListener] = []

    @property
    def current(self) -> SyncStatus:
        """The latest snapshot."""
        with self._lock:
            return self._status

    def subscribe(self, listener: StatusListener) -> Callable[[], None]:
        """Call ``listener`` with every new status; returns a function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def update(self, **changes: Any) -> SyncStatus:
        """Replace some fields; listeners hear of it if anything changed."""
        with self._lock:
            new = replace(self._status, **changes)
            if new == self._status:
                return new
            self._status = new
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(new)
            except Exception:
                log.exception("a sync status listener failed")
        return new
