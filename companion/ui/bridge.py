"""The object a lesson page talks to over QWebChannel (registered as "companion").

The channel lives in the app's isolated script world (``companion-relay.js``); the page
reaches it only through ``window.companion`` (``companion-bridge.js``), which offers exactly
``answer``, ``media`` and ``complete``. Here every argument is checked again, because the
page is content we do not control:

- ``answer(item, response)``: with the lesson's answer key (``use_lesson``), ``response`` is
  the student's text, scored here against the key (``scoredBy`` app); an item the key does
  not list does not count. Without a key, ``response`` is the page's own true/false
  (``scoredBy`` content). An answer sooner than the lesson's ``minAnswerInterval`` after the
  previous counted one is refused, and so is a second answer to the same item. The verdict
  goes back to the page: ``{"counted", "correct", "reason"}``, never the key itself.
- ``media(playing)``: the page's word, reported (``media_reported``) but not counted: the
  app counts media only when it sees it playing (``lesson_page``).
- ``complete()``.

What is refused is logged once per kind of refusal, shortened, and reported by ``refused``.

Signals:
    answered(str, bool, str): a counted answer: item, correct, scored by ("app"/"content").
    responded(str, str): a counted answer's item and the student's response, for a lesson
        with a key (just before ``answered``; a run kept by the machine service sends it).
    media_reported(bool): the page said its media started (True) or stopped (False).
    completed(): the lesson reported that it is finished.
    refused(str): a call that was not accepted, and why (shortened).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from companion.core.answer_key import MAX_ITEM_LENGTH, MAX_RESPONSE_LENGTH, AnswerKey
from companion.core.journal import APP, CONTENT
from companion.ui.lesson_page import shorten

log = logging.getLogger("companion.ui")

DEFAULT_MIN_INTERVAL_MS = 1000
# The slots the page may reach: a test holds the bridge's own invokable surface to this.
SURFACE = ("answer", "media", "complete")


def _monotonic_ms() -> int:
    import time

    return time.monotonic_ns() // 1_000_000


class LessonBridge(QObject):
    """The page's only way into the app.

    Signals:
        answered(str, bool, str): a counted answer (item, correct, scored by).
        media_reported(bool): the page's own word on its media.
        completed(): the lesson is finished.
        refused(str): a call that was refused, and why.
    """

    answered = Signal(str, bool, str)
    responded = Signal(str, str)
    media_reported = Signal(bool)
    completed = Signal()
    refused = Signal(str)

    def __init__(self, parent: QObject | None = None,
                 clock: Callable[[], int] | None = None) -> None:
        super().__init__(parent)
        self._clock = clock or _monotonic_ms
        self.calls = 0  # every call the page made, counted or not
        self._key: AnswerKey | None = None
        self._min_interval_ms = DEFAULT_MIN_INTERVAL_MS
        self._last_ms: int | None = None
        self._answered: set[str] = set()
        self._logged: set[str] = set()

    def use_lesson(self, key: AnswerKey | None,
                   min_interval_s: float = DEFAULT_MIN_INTERVAL_MS / 1000) -> None:
        """A new lesson opens: its answer key (None: the page scores) and answer pace."""
        self._key = key
        self._min_interval_ms = round(min_interval_s * 1000)
        self._last_ms = None
        self._answered = set()

    @Slot("QVariant", "QVariant", result="QVariantMap")
    def answer(self, item: Any, response: Any) -> dict[str, Any]:
        """An answer from the page; the verdict for the page."""
        self.calls += 1
        if not isinstance(item, str) or not item.strip() or len(item) > MAX_ITEM_LENGTH \
                or not item.isprintable():
            return self._refuse("answer", "no usable item id", repr(item))
        item = item.strip()
        if self._key is not None:
            if not isinstance(response, str) or not response.strip() \
                    or len(response) > MAX_RESPONSE_LENGTH:
                return self._refuse("answer", "this lesson's answers need the response as "
                                    "text (the app holds the key)", item)
            if not self._key.lists(item):
                return self._refuse("answer", "the item is not in the lesson's key", item)
        elif not isinstance(response, bool):
            return self._refuse("answer", "this lesson has no key, so it says true or false",
                                item)
        if item in self._answered:
            return self._refuse("answer", "the item was answered already", item)
        now = self._clock()
        if self._last_ms is not None and now - self._last_ms < self._min_interval_ms:
            return self._refuse("answer", "sooner than the lesson allows after the previous "
                                "answer", item)
        if self._key is not None:
            correct, scored_by = self._key.is_correct(item, response), APP
        else:
            correct, scored_by = bool(response), CONTENT
        self._last_ms = now
        self._answered.add(item)
        if self._key is not None:
            self.responded.emit(item, response)
        self.answered.emit(item, correct, scored_by)
        return {"counted": True, "correct": correct, "reason": ""}

    @Slot("QVariant")
    def media(self, playing: Any) -> None:
        """The page's word on its media: reported, not counted."""
        self.calls += 1
        if not isinstance(playing, bool):
            self._refuse("media", "playing must be true or false", repr(playing))
            return
        self.media_reported.emit(playing)

    @Slot()
    def complete(self) -> None:
        """The page says the lesson is finished."""
        self.calls += 1
        self.completed.emit()

    def _refuse(self, call: str, why: str, what: str) -> dict[str, Any]:
        text = f"{call}: {why} ({shorten(what, 60)})"
        if why not in self._logged:  # once per kind of refusal: a page cannot flood the log
            self._logged.add(why)
            log.warning("lesson bridge: refused %s", text)
        self.refused.emit(text)
        return {"counted": False, "correct": None, "reason": why}
