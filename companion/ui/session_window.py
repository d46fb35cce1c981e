"""The session window: the lesson page under a slim header (title, focused time, state,
accuracy). A 1 s QTimer drives ``SessionController.tick()``.

A SCORM package's lesson (``bundle.scorm``) plays in the app's SCORM player page
(``companion.ui.scorm_player``): its answers, score, place and finishing come through the
player's own bridge object.

A lesson in another application (``bundle.external``) shows the ``ExternalPanel`` instead
of the page: the lesson is started with the injected ``launcher`` (``launch`` by default) and
followed in the foreground (``RunSensing.open(external)``); "I'm done" asks the lesson's
``CheckQuiz`` here (its answers go to the controller, and the session window counts as the
lesson meanwhile), then completes the run. A lesson that cannot be started ends at once as
not completed, the summary saying why.

This module imports Qt WebEngine; import it only when a lesson opens.

Signals:
    finished(object): the run ended (completed or quit); the ``SessionSummary``.
    abandoned(object): the rules abandoned the run; the summary (sign the student out).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile
from PySide6.QtWebEngineWidgets import QWebEngineView
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from companion.core.journal import JournalNotSaved
from companion.system.external import ExternalLesson, LaunchFailed, launch
from companion.ui import web
from companion.ui.bridge import LessonBridge
from companion.ui.check_quiz import CheckQuiz
from companion.ui.external_panel import ExternalPanel, to_external_lesson
from companion.ui.lesson_page import LessonPage
from companion.ui.ports import LessonRun
from companion.ui.scorm_player import ScormPlayer
from companion.ui.web_lesson import LessonBar, WebLesson, media_url

if TYPE_CHECKING:
    from companion.ui.run_sensing import RunSensing

log = logging.getLogger("companion.ui")

TICK_MS = 1000
# the state chip: the one word list (core/words), each kind with its own border style
# (styles.py), so the states differ in text and shape, not colour alone
STATE_WORDS = {
    "active": "Focused",
    "idle": "Idle",
    "away": "Away",
    "off-task": "Off-task",
    "unknown": "Not seen",
}
STATE_KINDS = {"active": "focused", "idle": "idle", "away": "away", "off-task": "off-task",
               "unknown": "not seen"}
STILL_THERE = "Are you still there? Move the mouse or press a key, or this time won't count."
PAUSED = "Your focused time is paused while nothing happens. Carry on when you're back."
# "Are you still there?" this long before the quiet time turns idle (at most a third of
# the lesson's idle timeout, so a short timeout does not ask at once)
WARN_BEFORE_S = 20
NOTHING_CHECKED = ("Nothing checked what you learned in this lesson (it has no check quiz), "
                   "so it earns 0 XP. Your focused time is still recorded.")


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
        self.profile: web.SealedProfile | None = web.make_profile(
            student_id, self.bundle_root, bridge_script
        )
        self.page: LessonPage | None = LessonPage(self.profile)

    def bundle_root(self, lesson_id: str) -> Path | None:
        bundle = self._bundles.get(lesson_id)
        return None if bundle is None else Path(bundle.root)

    def open_bundle(self, bundle: Any, url: QUrl | None = None) -> None:
        """Show ``bundle``'s entry page, or ``url`` inside it (the SCORM player, the media
        page): the only bundle the page may then reach."""
        assert self.page is not None and self.profile is not None
        if url is None:
            entry = Path(bundle.entry).relative_to(Path(bundle.root)).as_posix()
            url = web.lesson_url(bundle.lesson.id, entry)
        self.profile.handler.allow_opened(bundle.lesson.id)
        self.page.open_bundle(bundle.lesson.id, url)

    def dispose(self) -> None:
        """Clear cookies, cache and storage; delete the page, then the profile."""
        page, profile = self.page, self.profile
        self.page = self.profile = None
        web.dispose(page, profile)


class SessionWidget(QWidget):
    """The lesson and its header.

    Signals:
        finished(object): the run's ``SessionSummary`` (completed or quit).
        abandoned(object): the summary of an abandoned run.
    """

    finished = Signal(object)
    abandoned = Signal(object)

    def __init__(self, controller: LessonRun, parent: QWidget | None = None,
                 sensing: RunSensing | None = None,
                 launcher: Callable[[ExternalLesson], object] | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.sensing = sensing  # the run's OS sensing, opened per run (None: the controller's)
        self.launcher = launcher or launch  # starts a lesson in another application
        self.bundle: Any = None  # the open lesson's bundle
        self.external: ExternalLesson | None = None  # set while such a lesson is open
        self._launch_failure: Any = None  # the summary of a run that could not start
        self.bridge = LessonBridge(self, clock=getattr(controller, "monotonic_ms", None))
        self.scorm = ScormPlayer(self)  # the SCORM run-time of a package's lesson
        self.channel = QWebChannel(self)
        self.channel.registerObject("companion", self.bridge)
        self.channel.registerObject("scorm", self.scorm.bridge)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.title = QLabel("")
        self.title.setObjectName("lesson_title")
        self.title.setAccessibleDescription("Lesson title")
        self.focused_label = QLabel("0:00")
        self.focused_label.setObjectName("focused_time")
        self.focused_label.setAccessibleDescription("Focused time")
        self.state_label = QLabel("Active")
        self.state_label.setObjectName("state_label")
        self.state_label.setAccessibleDescription("State")
        self.pending_label = QLabel("")
        self.pending_label.setObjectName("pending_time")
        self.pending_label.setAccessibleDescription(
            "Time since your last action: it counts once you carry on")
        self.pending_label.setToolTip("Time since your last action: it counts once you carry on")
        self.still_there = QLabel("")
        self.still_there.setObjectName("still_there")
        self.still_there.setAccessibleDescription("Are you still there?")
        self.still_there.setWordWrap(True)
        self.still_there.hide()
        self.accuracy_label = QLabel("Accuracy –")
        self.accuracy_label.setAccessibleDescription("Accuracy so far")
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
        header.addWidget(self.pending_label)
        header.addWidget(self.state_label)
        header.addWidget(self.accuracy_label)
        header.addWidget(self.quit_button)
        self.view = QWebEngineView()
        self.view.setAccessibleName("Lesson content")
        self.panel = ExternalPanel()
        self.quiz = CheckQuiz()
        self._web_view: QWebEngineView | None = None  # built for the first web lesson
        self.lesson_bar = LessonBar()  # "I'm done" for web and media lessons
        self.web_lesson: WebLesson | None = None
        self.content = QStackedWidget()
        for part in (self.view, self.panel, self.quiz):
            self.content.addWidget(part)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(header_bar)
        layout.addWidget(self.lesson_bar)
        layout.addWidget(self.still_there)
        layout.addWidget(self.content, 1)
        self.student_web: StudentWeb | None = None
        self._blank: QWebEnginePage | None = None
        self.confirm_quit = self._ask_quit
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.timer.timeout.connect(self.on_tick)
        self.bridge.answered.connect(self.on_page_answered)
        self.bridge.responded.connect(self.on_page_responded)
        self.bridge.completed.connect(self.on_page_completed)
        self.scorm.answered.connect(self.on_package_answered)
        self.scorm.scored.connect(self.on_scored)
        self.scorm.keep.connect(self.on_content_keep)
        self.scorm.finished.connect(self.on_package_finished)
        self.lesson_bar.done_requested.connect(self.on_done_requested)
        self.quit_button.clicked.connect(self.on_quit_clicked)
        self.panel.reopen_requested.connect(self.on_reopen_requested)
        self.panel.done_requested.connect(self.on_done_requested)
        self.quiz.answered.connect(self.on_quiz_answered)
        self.quiz.finished.connect(self.on_completed)

    def warm_up(self) -> None:
        """Start Qt WebEngine now (its first page costs tens of ms on this thread) with a
        page on a throwaway off-the-record profile that loads nothing, then drop both."""
        profile = QWebEngineProfile(self)  # no storage name: off the record
        page = QWebEnginePage(profile, self)
        web.dispose(page, profile)

    @property
    def web_view(self) -> QWebEngineView:
        """The view of a web lesson, in its own sealed profile; built when first needed
        (a second web view costs the lesson screen's first opening tens of ms)."""
        if self._web_view is None:
            self._web_view = QWebEngineView()
            self._web_view.setAccessibleName("Lesson web page")
            self.content.addWidget(self._web_view)
        return self._web_view

    @property
    def running(self) -> bool:
        """True while a run is open in the controller."""
        return self.controller.run is not None

    def open_lesson(self, student_web: StudentWeb, student_id: str, bundle: Any) -> Any:
        """Start the run (LessonLocked / RunAlreadyOpen propagate) and load the page, or
        start the lesson's application."""
        handle = self.controller.start(student_id, bundle.lesson.id)
        self.bundle = bundle
        self.external = None
        failure: str | None = None
        if bundle.external is not None:
            try:
                self.external = to_external_lesson(bundle.external)
            except LaunchFailed as exc:
                failure = str(exc)
        if self.sensing is not None:
            self.sensing.open(self.external)
        self.controller.tick()  # the first observation at t=0
        self.title.setText(bundle.lesson.title)
        self.lesson_bar.hide()
        if bundle.external is not None:
            self._open_external(bundle, failure)
            return handle
        if getattr(bundle, "web", None) is not None:
            self._open_web(student_id, bundle)
            return handle
        self.content.setCurrentWidget(self.view)
        self.student_web = student_web
        page = student_web.page
        assert page is not None
        web.attach_channel(page, self.channel)
        self.bridge.use_lesson(bundle.answer_key, bundle.min_answer_interval_s)
        if self.view.page() is not page:
            self.view.setPage(page)
            page.media_seen.connect(self.on_media_changed)  # the app's own view, not the page's
        self._show_live(self.controller.live())
        if getattr(bundle, "scorm", None) is not None:
            url = self.scorm.open(bundle, student_id, self.controller.content_resume())
            student_web.open_bundle(bundle, url)
        elif getattr(bundle, "media", None) is not None:
            self.scorm.close()
            media = Path(bundle.media).relative_to(Path(bundle.root)).as_posix()
            student_web.open_bundle(bundle, media_url(bundle.lesson.id, media))
            self.lesson_bar.show_for(None, bool(bundle.check_quiz))
        else:
            self.scorm.close()
            student_web.open_bundle(bundle)
        self.view.setFocus(Qt.FocusReason.OtherFocusReason)  # typing goes to the lesson
        self.timer.start()
        return handle

    def _open_web(self, student_id: str, bundle: Any) -> None:
        """Show a web lesson in its own profile, limited to the lesson's hosts."""
        self._close_web()
        self.scorm.close()
        self.web_lesson = WebLesson(student_id, bundle.web.hosts)
        page = self.web_lesson.page
        assert page is not None
        page.navigation_blocked.connect(self.lesson_bar.on_navigation_blocked)
        self.web_view.setPage(page)
        self.content.setCurrentWidget(self.web_view)
        self.lesson_bar.show_for(bundle.web.hosts, bool(bundle.check_quiz))
        self._show_live(self.controller.live())
        self.web_view.load(bundle.web.url)
        self.timer.start()

    def _close_web(self) -> None:
        if self.web_lesson is None:
            return
        if self._blank is None:
            self._blank = QWebEnginePage(self)
        self.web_view.setPage(self._blank)
        self.web_lesson.dispose()
        self.web_lesson = None

    def _open_external(self, bundle: Any, failure: str | None) -> None:
        """Show the panel and start the lesson's application (or end the run at once)."""
        self.content.setCurrentWidget(self.panel)
        problem = None if self.sensing is None else self.sensing.foreground_problem
        self.panel.show_lesson(bundle.external, bool(bundle.check_quiz), bundle.earns_no_xp,
                               problem)
        self._show_live(self.controller.live())
        try:
            if self.external is None:
                raise LaunchFailed(failure or "the lesson names nothing to start")
            self.launcher(self.external)
        except LaunchFailed as exc:
            log.warning("lesson %s could not be started: %s", bundle.lesson.id, exc)
            summary = self.controller.quit()
            self._close_sensing()
            self._launch_failure = replace(
                summary, reason=f"The lesson could not be opened: {exc}. Nothing was counted; "
                                "ask your guide for help.")
            QTimer.singleShot(0, self.on_launch_failed)  # after the window shows the run
            return
        self.timer.start()

    def detach(self) -> None:
        """Let go of the student's page (before it is disposed at sign-out)."""
        self.timer.stop()
        self._close_web()
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
        try:
            result = self.controller.tick()
        except JournalNotSaved as exc:
            self.on_not_saved(exc)
            return
        self._show_live(result.live)
        if result.abandoned:
            self.timer.stop()
            self._close_sensing()
            self.abandoned.emit(result.summary)

    def on_not_saved(self, exc: JournalNotSaved) -> None:
        """The journal cannot be written (a full disk): stop counting and say so; what was
        saved until now is kept."""
        log.error("lesson journal not saved: %s", exc)
        self.timer.stop()
        self.state_label.setText("Not saved: the disk is full")
        self.state_label.setToolTip(str(exc))

    def on_page_answered(self, item: str, correct: bool, scored_by: str) -> None:
        if self.external is None:  # a page left behind cannot answer for another lesson
            self.on_answered(item, correct, scored_by)

    def on_page_responded(self, item: str, response: str) -> None:
        """A keyed answer's response: a run the machine service keeps sends it there, to
        be scored by the service (``note_response``); the local run has no use for it."""
        note = getattr(self.controller, "note_response", None)
        if note is not None and self.external is None:
            note(item, response)

    def on_package_answered(self, item: str, correct: bool) -> None:
        """A SCORM interaction's result: scored by the package, never by the app."""
        self.on_page_answered(item, correct, "content")

    def on_quiz_answered(self, item: str, correct: bool) -> None:
        self.on_answered(item, correct, "app")  # the check quiz is the app's, with its key

    def on_page_completed(self) -> None:
        if self.external is None:
            self.on_completed()

    def on_scored(self, scaled: Any) -> None:
        if self.running:
            self.controller.score(scaled)

    def on_content_keep(self, place: Any, session_time: Any) -> None:
        if not self.running:
            return
        try:
            self.controller.keep_content_state(place, session_time)
        except ValueError as exc:
            log.warning("lesson state not kept: %s", exc)

    def on_package_finished(self, completed: bool) -> None:
        """The package called LMSFinish / Terminate: the run ends with what it reported
        (after the lesson's check quiz, for a package that reported no answers)."""
        if completed:
            self._complete_package()
        elif self.running:
            self.end_not_completed()

    def _complete_package(self) -> None:
        run = self.scorm.run
        quiz = self.bundle.check_quiz if self.bundle is not None else ()
        if quiz and run is not None and not run.answers:
            self.on_done_requested()
        else:
            self.on_completed()

    def on_answered(self, item: str, correct: bool, scored_by: str = "content") -> None:
        if not self.running:
            return
        try:
            self.controller.answer(item, correct, scored_by)
        except JournalNotSaved as exc:
            self.on_not_saved(exc)
            return
        except ValueError as exc:
            log.warning("lesson answer refused: %s", exc)
            return
        self._show_live(self.controller.live())

    def on_media_changed(self, playing: bool) -> None:
        if self.running and self.external is None:
            try:
                self.controller.media(playing)
            except JournalNotSaved as exc:
                self.on_not_saved(exc)

    def on_completed(self) -> None:
        if not self.running:
            return
        self.timer.stop()
        try:
            summary = self.controller.complete()
        except JournalNotSaved as exc:  # the run stays open, as saved until now
            self.on_not_saved(exc)
            return
        self._close_sensing()
        checked_by_quiz = (self.external is not None or self._web_or_media()
                           or getattr(self.bundle, "scorm", None) is not None)
        if checked_by_quiz and summary.questions == 0 and summary.completed:
            summary = replace(summary, reason=NOTHING_CHECKED)
        self.finished.emit(summary)

    def _web_or_media(self) -> bool:
        bundle = self.bundle
        return bundle is not None and (getattr(bundle, "web", None) is not None
                                       or getattr(bundle, "media", None) is not None)

    def on_done_requested(self) -> None:
        """The "I'm done" button: the check quiz here, or (with none) the end of the run."""
        if not self.running:
            return
        questions = self.bundle.check_quiz if self.bundle is not None else ()
        if not questions:
            self.on_completed()
            return
        if self.sensing is not None:
            self.sensing.count_own_window(True)  # answering here is part of the lesson
        self.lesson_bar.hide()
        self.content.setCurrentWidget(self.quiz)
        self.quiz.start(questions)  # shown first, so that its first choice takes the focus

    def on_reopen_requested(self) -> None:
        if not self.running or self.external is None:
            return
        try:
            self.launcher(self.external)
        except LaunchFailed as exc:
            self.panel.show_problem(f"It could not be opened again: {exc}")
        else:
            self.panel.show_problem("")

    def on_launch_failed(self) -> None:
        summary, self._launch_failure = self._launch_failure, None
        if summary is not None:
            self.finished.emit(summary)

    def on_quit_clicked(self) -> None:
        if (self.running and self.scorm.reported_completion
                and self.content.currentWidget() is not self.quiz):
            self._complete_package()  # the package said it is complete but never finished
            return
        if not self.running or not self.confirm_quit():
            return
        self.end_not_completed()

    def end_not_completed(self) -> Any:
        """End the run as not completed (quit, sign-out or app exit) and report it."""
        self.timer.stop()
        run = self.scorm.run
        if self.running and run is not None and not run.finished:
            # the package's own Finish comes when its page unloads, after the run: keep
            # the place it reached now, for the next attempt
            self.on_content_keep(run.place(), run.session_time)
        summary = self.controller.quit()
        self._close_sensing()
        self.finished.emit(summary)
        return summary

    def _close_sensing(self) -> None:
        self.lesson_bar.hide()
        self._close_web()
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
        pending = getattr(live, "pending_s", 0)
        self.pending_label.setText(f"+{clock_text(pending)}?" if pending else "")
        self.state_label.setText(STATE_WORDS.get(live.state, str(live.state)))
        kind = STATE_KINDS.get(live.state, "not seen")
        if self.state_label.property("kind") != kind:
            self.state_label.setProperty("kind", kind)
            self.state_label.style().unpolish(self.state_label)
            self.state_label.style().polish(self.state_label)
        idle_in = getattr(live, "idle_in_s", None)
        prompt = ""
        if live.state == "idle":
            prompt = PAUSED
        elif idle_in is not None and live.state == "active" \
                and idle_in <= min(WARN_BEFORE_S, (idle_in + pending) // 3):
            prompt = STILL_THERE
        if prompt != self.still_there.text():
            self.still_there.setText(prompt)
            self.still_there.setVisible(bool(prompt))
        if live.accuracy is None:
            self.accuracy_label.setText("Accuracy –")
        else:
            self.accuracy_label.setText(f"Accuracy {live.accuracy:.0%}")
