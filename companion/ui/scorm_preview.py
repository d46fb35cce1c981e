"""``companion preview`` for a SCORM package's lesson: the app's player page, watched.

``ScormWatch`` registers a ``ScormPlayer`` on the preview page's channel and fills the
run-time part of the report from its ``ScormRun``: whether ``LMSInitialize`` /
``Initialize`` was called, every API call, the last completion and success statuses, the
last scaled score and the answers. No run is recorded: nothing here touches a database.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtWebChannel import QWebChannel

from companion.ui.scorm_player import ScormPlayer

PREVIEW_STUDENT = "preview"


class ScormWatch(QObject):
    """The SCORM side of a preview.

    Signals:
        finished(): the package called LMSFinish / Terminate.
    """

    finished = Signal()

    def __init__(self, channel: QWebChannel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.player = ScormPlayer(self)
        channel.registerObject("scorm", self.player.bridge)
        self.player.finished.connect(self.on_finished)

    def open(self, bundle: Any) -> QUrl:
        """The URL of the player page for ``bundle`` (which has ``scorm``)."""
        return self.player.open(bundle, PREVIEW_STUDENT, None)

    def on_finished(self, _completed: bool) -> None:
        self.finished.emit()

    def report(self) -> dict[str, Any]:
        """``initialized``, ``api``, ``calls``, ``completion``, ``success``, ``score``,
        ``answers`` as ``companion preview`` prints them."""
        run = self.player.run
        if run is None:
            return {"initialized": False, "api": None, "calls": 0, "completion": None,
                    "success": None, "score": None, "answers": []}
        return run.summary()
