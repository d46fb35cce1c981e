"""The object a lesson page talks to over QWebChannel (registered as "companion").

Only three slots are exposed: ``answer(item, correct)``, ``media(playing)`` and
``complete()``. Arguments are checked here; anything malformed is dropped with a log line,
because the page is content we do not control.

Signals:
    answered(str, bool): the student answered an assessed item.
    media_changed(bool): lesson audio or video started (True) or stopped (False).
    completed(): the lesson reported that it is finished.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal, Slot

log = logging.getLogger("companion.ui")

MAX_ITEM_LENGTH = 200


class LessonBridge(QObject):
    """The page's only way into the app.

    Signals:
        answered(str, bool): an answer to an assessed item.
        media_changed(bool): media started or stopped.
        completed(): the lesson is finished.
    """

    answered = Signal(str, bool)
    media_changed = Signal(bool)
    completed = Signal()

    @Slot(str, bool)
    def answer(self, item: object, correct: object) -> None:
        """An answer from the page; ignored unless ``item`` is a short non-empty string and
        ``correct`` a boolean."""
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_ITEM_LENGTH:
            log.warning("lesson bridge: ignoring an answer with item %r", item)
            return
        if not isinstance(correct, bool):
            log.warning("lesson bridge: ignoring an answer with correct=%r", correct)
            return
        self.answered.emit(item.strip(), correct)

    @Slot(bool)
    def media(self, playing: object) -> None:
        """Media state from the page; ignored unless a boolean."""
        if not isinstance(playing, bool):
            log.warning("lesson bridge: ignoring media(%r)", playing)
            return
        self.media_changed.emit(playing)

    @Slot()
    def complete(self) -> None:
        """The page says the lesson is finished."""
        self.completed.emit()
