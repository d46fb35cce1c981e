"""What a launch, a Sign in with Timeback or a ``timeback-companion://`` link does in the
window: bring it forward, sign the student in (Timeback verified who it is: no PIN), and
open the named lesson or the library. After Sign in with Timeback the student is offered a
PIN for quicker sign-in on this computer next time.

The window is given the launch side through ``ui.ports.Launches`` once the composition
root has started it (``attach``), and a parser for links (``ui.ports.ParseLink``).

Signals:
    handled(str): what a launch or link came to: "opened", "library", "locked",
        "unknown_lesson", "refused" or "browser".
    pin_offered(object): the ``OwnPinDialog`` offered after Sign in with Timeback.
    services_ready(): the launch listener started (or failed to; launches are then off).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from companion.core.launch_types import LaunchRequest, OpenLesson, SignInResult, UrlRefused
from companion.core.pins import valid_pin
from companion.ui.ports import Launches, ParseLink, SignIn
from companion.ui.signin import pin_field
from companion.ui.tasks import BackgroundTask

if TYPE_CHECKING:
    from companion.ui.main_window import MainWindow

log = logging.getLogger("companion.ui.launch")


class OwnPinDialog(QDialog):
    """"Set a PIN for this computer?" after a verified sign-in.

    Signals:
        pin_set(): the PIN was stored.
    """

    pin_set = Signal()

    def __init__(self, service: SignIn, user_id: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("A PIN for this computer")
        self._service = service
        self._user_id = user_id
        self.pin_edit = pin_field("New PIN")
        self.repeat_edit = pin_field("New PIN again")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setAccessibleDescription("PIN message")
        self.buttons = QDialogButtonBox()
        self.set_button = self.buttons.addButton("Set PIN", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        form = QFormLayout()
        form.addRow("New PIN", self.pin_edit)
        form.addRow("Again", self.repeat_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Set a PIN to sign in faster on this computer next time."))
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.set_button.clicked.connect(self.on_set_clicked)
        self.buttons.rejected.connect(self.reject)

    def on_set_clicked(self) -> None:
        pin = self.pin_edit.text()
        if not valid_pin(pin):
            self.message.setText("A PIN is 4 to 6 digits.")
            return
        if pin != self.repeat_edit.text():
            self.message.setText("The two PINs are not the same.")
            return
        result = self._service.set_own_pin(self._user_id, pin)
        if not result.ok:
            self.message.setText(result.message or "The PIN was not set.")
            return
        self.pin_set.emit()
        self.accept()


class LaunchController(QObject):
    """Turns launches, sign-ins and links into window actions (UI thread only).

    Signals:
        handled(str): the outcome of a launch or link.
        pin_offered(object): the PIN dialog shown after Sign in with Timeback.
        services_ready(): the listener started (or could not; launches are then off).
    """

    handled = Signal(str)
    pin_offered = Signal(object)
    services_ready = Signal()

    def __init__(self, window: MainWindow, parse_link: ParseLink,
                 open_browser: Callable[[str], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self._parse_link = parse_link
        self._open_browser = open_browser
        self.services: Launches | None = None
        self._pending_urls: list[str] = []
        self._task: BackgroundTask | None = None
        self.pin_dialog: OwnPinDialog | None = None

    def on_services_started(self, services: Launches | None) -> None:
        """The composition root started the launch side (None: no launches here)."""
        if services is not None:
            self.attach(services)
        self.services_ready.emit()

    def on_services_failed(self, exc: object) -> None:
        log.warning("launches are off: %s", exc)
        self.services_ready.emit()

    def stop(self) -> None:
        """Stop the listener (on quit)."""
        if self.services is not None:
            self.services.stop()
            self.services = None

    def attach(self, services: Launches) -> None:
        """The launch services are running: enable Sign in with Timeback, handle waiting
        links."""
        self.services = services
        self.window.signin.set_timeback_available(True)
        pending, self._pending_urls = self._pending_urls, []
        for url in pending:
            self.on_url(url)

    # --- slots ------------------------------------------------------------------------

    def on_launched(self, request: LaunchRequest) -> None:
        self.window.bring_forward()
        if not self._sign_in(request.user_id):
            self.handled.emit("refused")
            return
        if request.lesson_id is None:
            self.window.show_library()
            self.handled.emit("library")
            return
        self.handled.emit(self.open_lesson(request.lesson_id))

    def on_signed_in(self, result: SignInResult) -> None:
        self.window.bring_forward()
        if not self._sign_in(result.user_id):
            self.handled.emit("refused")
            return
        self.window.show_library()
        self.handled.emit("library")
        signin = self.window.services.signin
        assert signin is not None  # a launch arrives only once the store is open
        dialog = OwnPinDialog(signin, result.user_id, self.window)
        self.pin_dialog = dialog
        dialog.open()
        self.pin_offered.emit(dialog)

    def on_timeback_requested(self) -> None:
        """The sign-in screen's "Sign in with Timeback": open the browser (off the UI
        thread: it writes a nonce and starts a process)."""
        if self.services is None:
            return
        self._task = BackgroundTask(self.services.begin_sign_in, "signin-begin", self)
        self._task.failed.connect(self.on_begin_failed)
        self._task.start()
        self.window.signin.class_status.setText(
            "Finish signing in in the browser window that opened.")

    def on_begin_failed(self, exc: object) -> None:
        self.window.signin.class_status.setText(f"Sign in with Timeback did not start: {exc}")

    def on_url(self, url: str) -> None:
        """A ``timeback-companion://`` link (from a second start or the command line)."""
        self.window.bring_forward()
        try:
            action = self._parse_link(url)
        except UrlRefused as exc:
            self.window.signin.class_status.setText(f"This link cannot be used: {exc.message}")
            self.handled.emit("refused")
            return
        if isinstance(action, OpenLesson):
            if self.window.student is None:
                self.window.signin.class_status.setText("Sign in first, then open the lesson.")
                self.handled.emit("refused")
                return
            self.handled.emit(self.open_lesson(action.lesson_id))
            return
        if self.services is None:
            self._pending_urls.append(url)
            return
        target = self.services.login_url(action)
        open_browser = self._open_browser
        self._task = BackgroundTask(lambda: open_browser(target), "launch-browser", self)
        self._task.start()
        self.handled.emit("browser")

    # --- helpers ----------------------------------------------------------------------

    def _sign_in(self, user_id: str) -> bool:
        w = self.window
        if w.student is not None and w.student.user_id == user_id:
            return True
        if w.student is not None or w.guide is not None:
            w.sign_out("launch")
        signin = w.services.signin
        if signin is None:
            return False
        result = signin.verified_sign_in(user_id)
        if not result.ok or result.user is None:
            w.signin.class_status.setText(result.message or "This student cannot sign in.")
            return False
        w.on_student_signed_in(result.user)
        return True

    def open_lesson(self, lesson_id: str) -> str:
        """Open ``lesson_id`` for the signed-in student, or say why not on the library."""
        w = self.window
        if w.session is not None and w.session.running:
            w.library.show_message("Another lesson is still open.")
            return "refused"
        w.show_library()
        state = w.library.state_of(lesson_id)
        if state is None:
            w.library.show_message(
                f"The lesson “{lesson_id}” is not on this computer. Choose one here.")
            return "unknown_lesson"
        if not w.library.request(lesson_id):
            return "locked"
        return "opened"
