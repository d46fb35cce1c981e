"""The session window: the lesson page under a slim header (title, focused time, state,
accuracy). A 1 s QTimer drives ``SessionController.tick()``.

This module imports Qt WebEngine; import it only when a lesson opens.

Signals:
    finished(object): the run ended (completed or quit); the ``SessionSummary``.
    abandoned(object): the rules abandoned the run; the summary (sign the student out).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QVBoxLayout, QWidget
from shiboken6 import Shiboken

from companion.ui import web
from companion.ui.bridge import LessonBridge

if TYPE_CHECKING:
    from companion.ui.run_sensing import RunSensing

log = logging.getLogger("companion.ui")

TICK_MS = 1000
STATE_WORDS = {
    "active": "Active",
    "idle": "Idle",
    "away": "Away",
    "off-task": "Off task",
    "unknown": "Not sure",
}


def clock_text(seconds: int) -> str:
    """Focused time as m:ss (or h:mm:ss)."""
    h, rest = divmod(max(seconds, 0), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class StudentWeb(QObject):
    """One student's web content: an off-the-record profile and its page; thrown away (after
    clearing) at sign-out, so the next student sees nothing of this one."""

    def __init__(self, student_id: str, bundles: dict[str, Any], bridge_script: str) -> None:
        super().__init__()
        self._bundles = bundles
        self.profile: QWebEngineProfile | None = web.make_profile(
            student_id, self.bundle_root, bridge_script
        )
        self.page: QWebEnginePage | None = QWebEnginePage(self.profile)

    def bundle_root(self, lesson_id: str) -> Path | None:
        bundle = self._bundles.get(lesson_id)
        return None if bundle is None else Path(bundle.root)

    def dispose(self) -> None:
        """Clear cookies, cache and storage; delete the page, then the profile."""
        page, profile = self.page, self.profile
        self.page = self.profile = None
        if profile is not None:
            web.clear_profile(profile)
        # The page must go before its profile (Qt WebEngine's rule); delete both now.
        if page is not None:
            Shiboken.delete(page)
        if profile is not None:
            Shiboken.delete(profile)


class SessionWidget(QWidget):
    """The lesson and its header.

    Signals:
        finished(object): the run's ``SessionSummary`` (completed or quit).
        abandoned(object): the summary of an abandoned run.
    """

    finished = Signal(object)
    abandoned = Signal(object)

    def __init__(self, controller: Any, parent: QWidget | None = None,
                 sensing: RunSensing | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.sensing = sensing  # the run's OS sensing, opened per run (None: the controller's)
        self.bridge = LessonBridge(self)
        self.channel = QWebChannel(self)
        self.channel.registerObject("companion", self.bridge)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.title = QLabel("")
        self.title.setObjectName("lesson_title")
        self.title.setAccessibleName("Lesson title")
        self.focused_label = QLabel("0:00")
        self.focused_label.setObjectName("focused_time")
        self.focused_label.setAccessibleName("Focused time")
        self.state_label = QLabel("Active")
        self.state_label.setObjectName("state_label")
        self.state_label.setAccessibleName("State")
        self.accuracy_label = QLabel("Accuracy –")
        self.accuracy_label.setAccessibleName("Accuracy so far")
        self.quit_button = QPushButton("End lesson")
        self.quit_button.setAccessibleName("End lesson")
        header_bar = QWidget()
        header_bar.setObjectName("session_header")
        header = QHBoxLayout(header_bar)
        header.setContentsMargins(16, 8, 16, 8)
        header.setSpacing(16)
        header.addWidget(self.title, 1)
        focused_word = QLabel("Focused time")
        focused_word.setObjectName("muted")
        header.addWidget(focused_word)
        header.addWidget(self.focused_label)
        header.addWidget(self.state_label)
        header.addWidget(self.accuracy_label)
        header.addWidget(self.quit_button)
        self.view = QWebEngineView()
        self.view.setAccessibleName("Lesson content")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header_bar)
        layout.addWidget(self.view, 1)
        self.student_web: StudentWeb | None = None
        self._blank: QWebEnginePage | None = None
        self.confirm_quit = self._ask_quit
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.timer.timeout.connect(self.on_tick)
        self.bridge.answered.connect(self.on_answered)
        self.bridge.media_changed.connect(self.on_media_changed)
        self.bridge.completed.connect(self.on_completed)
        self.quit_button.clicked.connect(self.on_quit_clicked)

    @property
    def running(self) -> bool:
        """True while a run is open in the controller."""
        return self.controller.run is not None

    def open_lesson(self, student_web: StudentWeb, student_id: str, bundle: Any) -> Any:
        """Start the run (LessonLocked / RunAlreadyOpen propagate) and load the page."""
        handle = self.controller.start(student_id, bundle.lesson.id)
        if self.sensing is not None:
            self.sensing.open()
        self.controller.tick()  # the first observation at t=0
        self.student_web = student_web
        page = student_web.page
        assert page is not None
        page.setWebChannel(self.channel)
        if self.view.page() is not page:
            self.view.setPage(page)
        entry = Path(bundle.entry).relative_to(Path(bundle.root)).as_posix()
        self.title.setText(bundle.lesson.title)
        self._show_live(self.controller.live())
        self.view.load(web.lesson_url(bundle.lesson.id, entry))
        self.timer.start()
        return handle

    def detach(self) -> None:
        """Let go of the student's page (before it is disposed at sign-out)."""
        self.timer.stop()
        if self.student_web is not None:
            if self._blank is None:
                self._blank = QWebEnginePage(self)  # the default profile; shows nothing
            self.view.setPage(self._blank)
            self.student_web = None

    # --- slots ------------------------------------------------------------------------

    def on_tick(self) -> None:
        if not self.running:
            self.timer.stop()
            return
        result = self.controller.tick()
        self._show_live(result.live)
        if result.abandoned:
            self.timer.stop()
            self._close_sensing()
            self.abandoned.emit(result.summary)

    def on_answered(self, item: str, correct: bool) -> None:
        if not self.running:
            return
        try:
            self.controller.answer(item, correct)
        except ValueError as exc:
            log.warning("lesson answer refused: %s", exc)
            return
        self._show_live(self.controller.live())

    def on_media_changed(self, playing: bool) -> None:
        if self.running:
            self.controller.media(playing)

    def on_completed(self) -> None:
        if not self.running:
            return
        self.timer.stop()
        summary = self.controller.complete()
        self._close_sensing()
        self.finished.emit(summary)

    def on_quit_clicked(self) -> None:
        if not self.running or not self.confirm_quit():
            return
        self.end_not_completed()

    def end_not_completed(self) -> Any:
        """End the run as not completed (quit, sign-out or app exit) and report it."""
        self.timer.stop()
        summary = self.controller.quit()
        self._close_sensing()
        self.finished.emit(summary)
        return summary

    def _close_sensing(self) -> None:
        if self.sensing is not None:
            self.sensing.close()

    def _ask_quit(self) -> bool:
        answer = QMessageBox.question(
            self,
            "End the lesson?",
            "End this lesson now? It will count as not finished and earn no XP.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def _show_live(self, live: Any) -> None:
        self.focused_label.setText(clock_text(live.focused_s))
        self.state_label.setText(STATE_WORDS.get(live.state, str(live.state)))
        if live.accuracy is None:
            self.accuracy_label.setText("Accuracy –")
        else:
            self.accuracy_label.setText(f"Accuracy {live.accuracy:.0%}")
