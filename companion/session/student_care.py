"""A guide's care of one student's data on this computer: what is kept, export, erase.

A thin use case over ``store.student_data`` for the windows (which never see the store).
"""

from __future__ import annotations

import logging
from typing import Any

from companion.core.library_types import Erased, Kept
from companion.store import student_data
from companion.store.db import Database
from companion.store.student_data import StillWaiting

__all__ = ["Erased", "Kept", "StudentCare"]

log = logging.getLogger(__name__)


class StudentCare:
    """Export and erase one student's local data."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def kept(self, student_id: str) -> Kept:
        """What this computer keeps of the student and what still waits."""
        return student_data.kept(self._db, student_id)

    def export(self, student_id: str) -> dict[str, Any]:
        """The student's data as JSON-ready values."""
        return student_data.export(self._db, student_id)

    def erase(self, student_id: str, *, discard_waiting: bool) -> Erased:
        """Erase the student's data, unless something is waiting and may not be discarded
        (then nothing is erased and ``still_waiting`` says what)."""
        try:
            removed = student_data.erase(self._db, student_id, discard_waiting=discard_waiting)
        except StillWaiting as refused:
            return Erased(0, refused.waiting)
        log.info("erased %d runs of %s from this computer", removed, student_id)
        return Erased(removed, ())
