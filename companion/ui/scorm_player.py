"""Playing a SCORM package in the session window: the player page's bridge and its run.

The session window loads ``lesson://<lesson>/__companion__/scorm/player.html`` (the app's
player, served in the package's own origin) instead of the launch file; the player asks
``ScormBridge.launch()`` what to start (the launch address, the API version, the data to
start from), puts scorm-again's API where the package looks for it, loads the package in a
frame and forwards every call to ``ScormBridge.call``. ``ScormPlayer`` keeps the run's
``ScormRun`` (``companion.content.scorm_runtime``) and says what to record by its signals.

Signals (ScormPlayer):
    answered(str, bool): an interaction result scored by the content.
    scored(object): a new overall score (Decimal, -1 to 1).
    keep(object, object): Commit/Finish: the place to keep (Place or None), session_time.
    finished(bool): the package finished (LMSFinish / Terminate); True when completed.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from fractions import Fraction
from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal, Slot

from companion.content.scorm_runtime import Answer, ScormRun, initial_cmi
from companion.ui import web

log = logging.getLogger("companion.ui")

PLAYER_PAGE = "__companion__/scorm/player.html"
MAX_ELEMENT = 255
MAX_VALUE = 70_000  # suspend_data may hold 64,000 characters


def _decimal(value: Fraction | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value.numerator) / Decimal(value.denominator)


class ScormBridge(QObject):
    """The player page's only way into the app (registered as "scorm").

    Signals:
        called(str, str, str): an API call by name, with the element and value of an
            accepted SetValue (empty otherwise).
    """

    called = Signal(str, str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._launch = ""

    def prepare(self, launch: dict[str, Any] | None) -> None:
        """What the next ``launch()`` answers (None: nothing is being played)."""
        self._launch = "" if launch is None else json.dumps(launch)

    @Slot(result=str)
    def launch(self) -> str:
        """What to start, as JSON text (empty when no SCORM lesson is open)."""
        return self._launch

    @Slot(str, str, str)
    def call(self, name: object, element: object, value: object) -> None:
        """One API call from the player; malformed arguments are dropped."""
        if not all(isinstance(v, str) for v in (name, element, value)):
            log.warning("scorm bridge: ignoring a call with arguments that are not text")
            return
        assert isinstance(name, str) and isinstance(element, str) and isinstance(value, str)
        if len(name) > 40 or len(element) > MAX_ELEMENT or len(value) > MAX_VALUE:
            log.warning("scorm bridge: ignoring an oversized %s call", name[:40])
            return
        self.called.emit(name, element, value)


class ScormPlayer(QObject):
    """The SCORM part of one open lesson.

    Signals:
        answered(str, bool): an answer scored by the content.
        scored(object): a new overall score (Decimal).
        keep(object, object): the place to keep and the package's session_time.
        finished(bool): the package finished; True when it reported completion.
    """

    answered = Signal(str, bool)
    scored = Signal(object)
    keep = Signal(object, object)
    finished = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = ScormBridge(self)
        self.run: ScormRun | None = None
        self.bridge.called.connect(self.on_called)

    def open(self, bundle: Any, student_id: str, resume: Any) -> QUrl:
        """Prepare the player for ``bundle`` (which has ``scorm``); the URL to load."""
        launch = bundle.scorm
        self.run = ScormRun(launch.api)
        mastery = _decimal(launch.mastery_score)
        threshold = _decimal(launch.completion_threshold)
        self.bridge.prepare({
            "api": launch.api,
            "href": "/" + launch.href.lstrip("/"),
            "title": bundle.lesson.title,
            "cmi": initial_cmi(launch.api, student_id, resume, mastery,
                               launch_data=launch.launch_data,
                               completion_threshold=threshold),
        })
        return web.lesson_url(bundle.lesson.id, PLAYER_PAGE)

    def close(self) -> ScormRun | None:
        """Stop listening to the page; the run as it ended."""
        run, self.run = self.run, None
        self.bridge.prepare(None)
        return run

    @property
    def reported_completion(self) -> bool:
        return self.run is not None and self.run.completed

    def on_called(self, name: str, element: str, value: str) -> None:
        run = self.run
        if run is None:
            return
        was_finished = run.finished
        if not run.call(name) or was_finished:
            return  # not an API call; or after Finish, when nothing changes any more
        if name.endswith("SetValue") and element:
            for effect in run.set_value(element, value):
                if isinstance(effect, Answer):
                    self.answered.emit(effect.item, effect.correct)
                else:
                    self.scored.emit(effect.scaled)
        elif name in ("LMSCommit", "Commit", "LMSFinish", "Terminate"):
            self.keep.emit(run.place(), run.session_time)
            if run.finished:
                self.finished.emit(run.completed)
