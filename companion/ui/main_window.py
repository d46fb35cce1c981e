"""The main window: environment bar, demo banner, and the screens on a stack
(sign-in, library, lesson, summary, guide). Only the sign-in screen is built before the
window shows; the others are built (and their signals connected) the first time they are
used, the lesson screen (Qt WebEngine) when the first lesson opens, so start-up stays fast.

Signals:
    signed_in(object): a student signed in (any way: PIN, launch, Timeback).
    signed_out(str): a user was signed out (the reason, e.g. "button", "idle", "abandoned").
    lesson_opened(str): a run started (the run id).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from companion.core.signin_types import SignedIn
from companion.core.sync_types import SyncStatus
from companion.ui.services import IDLE_SIGN_OUT_MS, Services
from companion.ui.signin import SignInWidget

if TYPE_CHECKING:
    from companion.ui.guide import GuideWidget
    from companion.ui.library import LibraryWidget
    from companion.ui.summary import SummaryWidget

log = logging.getLogger("companion.ui")

IDLE_CHECK_MS = 1000


def env_text(env_name: str, demo: bool) -> str:
    """What the environment bar says."""
    if demo:
        return "Environment: sandbox (demo school)"
    return f"Environment: {env_name}"


def banner_text(pins: tuple[str, str]) -> str:
    """The demo banner: plainly a demo, nothing sent, and the demo PINs."""
    return (
        "This is the demo school. Nothing is sent to Timeback. "
        f"Demo PINs: students {pins[0]}, guides {pins[1]}."
    )


class MainWindow(QMainWindow):
    """The app's one window.

    Signals:
        signed_in(object): the ``SignedIn`` student.
        signed_out(str): the reason a user was signed out.
        lesson_opened(str): the run id of a lesson that started.
    """

    signed_in = Signal(object)
    signed_out = Signal(str)
    lesson_opened = Signal(str)

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle("Timeback Companion")
        self.student: SignedIn | None = None
        self.guide: SignedIn | None = None
        self._signed_in_at = 0
        self._student_web: Any = None
        self.session: Any = None  # SessionWidget, built on first use
        self.run_sensing: Any = None  # RunSensing, set by the shell with the controller
        self.launcher: Any = None  # starts lessons in other applications (None: the default)
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        envbar = QWidget()
        envbar.setObjectName("envbar")
        bar = QHBoxLayout(envbar)
        bar.setContentsMargins(8, 4, 8, 4)
        self.env_label = QLabel(env_text(services.env_name, services.demo))
        self.env_label.setObjectName("env_label")
        self.env_label.setAccessibleDescription("Environment")
        self.user_label = QLabel("")
        self.user_label.setAccessibleDescription("Signed in")
        self.sync_label = QLabel("")
        self.sync_label.setAccessibleDescription("Sync state")
        bar.addWidget(self.env_label)
        bar.addStretch(1)
        bar.addWidget(self.user_label)
        bar.addSpacing(16)
        bar.addWidget(self.sync_label)
        outer.addWidget(envbar)
        self.banner = QLabel(banner_text(services.demo_pins))
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.setContentsMargins(8, 6, 8, 6)
        self.banner.setAccessibleDescription("Demo notice")
        self.banner.setVisible(services.demo)
        outer.addWidget(self.banner)
        # what the app says about this computer's companion service while it is away
        self.service_notice = QLabel("")
        self.service_notice.setObjectName("service_notice")
        self.service_notice.setWordWrap(True)
        self.service_notice.setContentsMargins(8, 6, 8, 6)
        self.service_notice.setAccessibleName("Service notice")
        self.service_notice.hide()
        outer.addWidget(self.service_notice)
        self.stack = QStackedWidget()
        outer.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self.signin = SignInWidget(services.signin)
        self._library: LibraryWidget | None = None
        self._summary: SummaryWidget | None = None
        self._guide_view: GuideWidget | None = None
        self.stack.addWidget(self.signin)
        self.idle_timer = QTimer(self)
        self.idle_timer.setInterval(IDLE_CHECK_MS)
        self._connect_signals()
        self.idle_timer.start()
        self.resize(1100, 700)

    def _connect_signals(self) -> None:
        self.signin.signed_in.connect(self.on_student_signed_in)
        self.signin.guide_signed_in.connect(self.on_guide_signed_in)
        self.idle_timer.timeout.connect(self.on_idle_check)

    # --- pages built on first use ---------------------------------------------------------

    @property
    def library(self) -> LibraryWidget:
        """The lesson library (built and connected on first use)."""
        if self._library is None:
            from companion.ui.library import LibraryWidget

            self._library = LibraryWidget(self.services.library_view)
            self.stack.addWidget(self._library)
            self._library.lesson_chosen.connect(self.on_lesson_chosen)
            self._library.sign_out_requested.connect(self.on_sign_out_clicked)
        return self._library

    @property
    def summary(self) -> SummaryWidget:
        """The end-of-lesson summary (built and connected on first use)."""
        if self._summary is None:
            from companion.ui.summary import SummaryWidget

            self._summary = SummaryWidget()
            self.stack.addWidget(self._summary)
            self._summary.done.connect(self.on_summary_done)
        return self._summary

    @property
    def guide_view(self) -> GuideWidget:
        """The guide's report (built and connected on first use)."""
        if self._guide_view is None:
            from companion.ui.guide import GuideWidget

            self._guide_view = GuideWidget(self.services)
            self.stack.addWidget(self._guide_view)
            self._guide_view.sign_out_requested.connect(self.on_sign_out_clicked)
            self._guide_view.sync_requested.connect(self.on_sync_requested)
        return self._guide_view

    # --- start-up ---------------------------------------------------------------------

    def on_ready(self) -> None:
        """The deferred start-up finished: the roster and the lessons are there."""
        if self._library is not None:
            self._library.view = self.services.library_view
        if self.student is None and self.guide is None:
            self.signin.reload()

    def prepare_session(self) -> None:
        """Load the library's code, build the lesson screen and start Qt WebEngine
        (together about 60 ms on this thread) now, at the end of the start-up, so that a
        student's sign-in and first lesson do not stall the window."""
        if self.session is None and self.services.controller is not None:
            import companion.ui.library  # noqa: F401 - its widget is built at the sign-in

            self.ensure_session().warm_up()

    def on_start_failed(self, message: str) -> None:
        """The deferred start-up failed: say so where the class list would be."""
        self.signin.class_status.setText(message)

    def show_service_notice(self, text: str | None) -> None:
        """Say what is wrong with this computer's companion service (None: nothing)."""
        self.service_notice.setText(text or "")
        self.service_notice.setVisible(bool(text))

    def on_sync_status(self, status: SyncStatus) -> None:
        from companion.ui.sync_bridge import describe

        self.sync_label.setText(describe(status))

    # --- signing in and out -------------------------------------------------------------

    def on_student_signed_in(self, user: SignedIn) -> None:
        self.student = user
        self._signed_in_at = self.services.clock.monotonic_ms()
        self.user_label.setText(f"Signed in: {user.name}")
        if self.services.library_view is None:
            self.library.show_message("The lessons are still loading…")
        else:
            self.library.show_student(user)
            self.stack.setCurrentWidget(self.library)
        self.signed_in.emit(user)

    def show_library(self) -> None:
        """The signed-in student's library, read again."""
        if self.student is None or self.services.library_view is None:
            return
        self.library.refresh()
        self.stack.setCurrentWidget(self.library)

    def on_guide_signed_in(self, user: SignedIn) -> None:
        self.guide = user
        self._signed_in_at = self.services.clock.monotonic_ms()
        self.user_label.setText(f"Guide: {user.name}")
        self.guide_view.show_guide(user)
        self.stack.setCurrentWidget(self.guide_view)

    def on_sign_out_clicked(self) -> None:
        self.sign_out("button")

    def sign_out(self, reason: str) -> None:
        """End any lesson as not completed, clear the student's web content, show sign-in."""
        if self.session is not None and self.session.running:
            self.session.end_not_completed()
        if self.session is not None:
            self.session.detach()
        if self._student_web is not None:
            self._student_web.dispose()
            self._student_web = None
        was = self.student or self.guide
        self.student = None
        self.guide = None
        self.user_label.setText("")
        self.signin.show_classes()
        self.stack.setCurrentWidget(self.signin)
        if was is not None:
            log.info("signed out (%s)", reason)
            self.signed_out.emit(reason)

    def idle_ms(self) -> int:
        """Milliseconds since the last input (or the sign-in, if later)."""
        last = self.services.input_source.last_input_ms()
        since = max(self._signed_in_at, last if last is not None else 0)
        return self.services.clock.monotonic_ms() - since

    def on_idle_check(self) -> None:
        """Sign out after 10 minutes without input outside a lesson."""
        if self.student is None and self.guide is None:
            return
        if self.session is not None and self.session.running:
            return
        if self.idle_ms() >= IDLE_SIGN_OUT_MS:
            self.sign_out("idle")

    # --- lessons ----------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing the window (window manager close, Alt+F4) during a lesson asks first,
        as "End lesson" does; a yes ends the run as not completed, its time reported.
        A close the app itself makes (quitting, which asked already) just ends the run."""
        session = self.session
        if session is not None and session.running:
            if event.spontaneous() and not session.confirm_quit():
                event.ignore()
                return
            if session.running:  # it may have ended while the question was open
                session.end_not_completed()
        super().closeEvent(event)

    def ensure_session(self) -> Any:
        """Build the lesson screen (imports Qt WebEngine) the first time it is needed."""
        if self.session is None:
            from companion.ui.session_window import SessionWidget

            assert self.services.controller is not None  # only once the lessons are there
            self.session = SessionWidget(self.services.controller, sensing=self.run_sensing,
                                         launcher=self.launcher)
            self.stack.addWidget(self.session)
            self.session.finished.connect(self.on_session_finished)
            self.session.abandoned.connect(self.on_session_abandoned)
        return self.session

    def on_lesson_chosen(self, lesson_id: str) -> None:
        from companion.core.session_types import LessonLocked, RunAlreadyOpen

        content = self.services.content
        if self.student is None or content is None or not self.services.lessons_ready:
            return
        bundle = content.bundles.get(lesson_id)
        if bundle is None:
            self.library.show_message("This lesson's files are missing on this computer.")
            return
        session = self.ensure_session()
        if self._student_web is None:
            from companion.ui.session_window import StudentWeb

            self._student_web = StudentWeb(
                self.student.user_id, content.bundles, self.services.bridge_script
            )
        try:
            handle = session.open_lesson(self._student_web, self.student.user_id, bundle)
        except LessonLocked as exc:
            self.library.show_message(str(exc))
            return
        except RunAlreadyOpen:
            self.library.show_message("Another lesson is still open on this computer.")
            return
        except ConnectionError as exc:  # the companion service is away (or refused)
            self.library.show_message(str(exc))
            return
        self.stack.setCurrentWidget(session)
        self.lesson_opened.emit(handle.run_id)

    def on_session_finished(self, summary: Any) -> None:
        self._run_closed()
        self.summary.show_summary(summary)
        self.stack.setCurrentWidget(self.summary)

    def on_session_abandoned(self, summary: Any) -> None:
        self._run_closed()
        self.sign_out("abandoned")
        self.signin.class_status.setText(summary.reason or "The lesson was closed.")

    def on_summary_done(self) -> None:
        if self.student is None:
            self.stack.setCurrentWidget(self.signin)
            return
        self.library.refresh()
        self.stack.setCurrentWidget(self.library)

    def on_guide_requested(self) -> None:
        """The tray's "Guide view": the guide sign-in, unless someone is signed in."""
        self.bring_forward()
        if self.student is None and self.guide is None:
            self.signin.on_guide_clicked()

    def on_sync_requested(self) -> None:
        if self.services.sync_now is not None:
            self.services.sync_now()

    def _run_closed(self) -> None:
        if self.services.on_run_closed is not None:
            self.services.on_run_closed()

    def bring_forward(self) -> None:
        """Show and raise the window (a second start, or the tray's "Open")."""
        self.showNormal()
        self.raise_()
        self.activateWindow()
