"""The windows on the machine service: what ``Shell`` hands them when the app is a client.

No database, lease, credentials, sandbox or delivery in this process: sign-in, the library
and the run go to the service (``remote``, ``remote_run``); the lessons' files are read here
to show them. A timer probes the service every few seconds; when it stops answering, the
window says so (``MainWindow.show_service_notice``) and the sign-in screen says why nobody
can sign in, and when it is back what waited is handed over and the class list comes back.

Signals:
    changed(bool, object): the service stopped (False) or is back (True), and what to say.
    ready(): the lessons are loaded and the run is there.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from companion.app.remote import NO_SIGN_IN, RemoteLibrary, RemoteSignIn, ServiceLink
from companion.app.remote_run import RemoteRun
from companion.core.signin_types import SignedIn
from companion.service.client import ServiceClient, unix_socket
from companion.ui.tasks import BackgroundTask

if TYPE_CHECKING:
    from companion.app.sensing import SensingChoice
    from companion.content import Library
    from companion.core.clock import Clock
    from companion.ui.main_window import MainWindow
    from companion.ui.services import Services

log = logging.getLogger("companion.app")

PROBE_MS = 2000
CONNECT_TIMEOUT_S = 5.0


class RemoteWiring(QObject):
    """The service's side of the windows, on the UI thread.

    Signals:
        changed(bool, object): up or not, and the notice text (None when up).
        ready(): the lessons and the run are handed to the windows.
    """

    changed = Signal(bool, object)
    ready = Signal()

    def __init__(
        self,
        socket_path: Path,
        window: MainWindow,
        services: Services,
        sensing: SensingChoice,
        clock: Clock,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.socket_path = socket_path
        self.window = window
        self.services = services
        self.sensing = sensing
        self.clock = clock
        self.link = ServiceLink(ServiceClient(unix_socket(socket_path, CONNECT_TIMEOUT_S)))
        self.signin = RemoteSignIn(self.link)
        self.run: RemoteRun | None = None
        self.library_task: BackgroundTask | None = None
        self._student: str | None = None
        self.timer = QTimer(self)
        self.timer.setInterval(PROBE_MS)
        self.timer.timeout.connect(self.on_probe)
        self.link.subscribe(lambda up, text: self.changed.emit(up, text))  # any thread
        self.changed.connect(self.on_changed)

    def start(self) -> None:
        """Hand sign-in to the window, read the lessons in the background, start probing."""
        log.info("using the companion service at %s", self.socket_path)
        self.services.signin = self.signin
        self.window.signin.service = self.signin
        self.window.signin.reload()
        self.window.signed_in.connect(self.on_signed_in)
        self.window.signed_out.connect(self.on_signed_out)
        env_name = self.services.env_name
        self.library_task = BackgroundTask(lambda: _load_lessons(env_name), "lessons", self)
        self.library_task.succeeded.connect(self.on_lessons)
        self.library_task.failed.connect(self.on_lessons_failed)
        self.library_task.start()
        self.timer.start()
        self.on_probe()

    def on_lessons(self, library: Library) -> None:
        from companion.content import bridge_script_path
        from companion.system.sensing import NoLockSensing

        sensing = self.sensing.for_runs(self.window)
        self.window.run_sensing = sensing
        self.run = RemoteRun(
            self.link,
            self.clock,
            library.catalogue,
            sensing.qt_input,
            sensing.window_focus,
            NoLockSensing(),
            observe=sensing.observe,
        )
        s = self.services
        s.content = library
        s.library_view = RemoteLibrary(self.link, library.catalogue)
        s.controller = self.run
        s.bridge_script = bridge_script_path().read_text(encoding="utf-8")
        self.window.on_ready()
        self.ready.emit()

    def on_lessons_failed(self, exc: object) -> None:
        message = f"The lessons could not be read: {exc}"
        log.error(message)
        self.window.on_start_failed(message)

    def on_probe(self) -> None:
        self.link.probe()

    def on_changed(self, up: bool, text: object) -> None:
        self.window.show_service_notice(None if up else str(text))
        signin = self.window.signin
        if up:
            if self.window.student is None and self.window.guide is None:
                signin.reload()
        elif signin.stack.currentIndex() == 0:
            signin.class_status.setText(NO_SIGN_IN)

    def on_signed_in(self, user: SignedIn) -> None:
        self._student = user.user_id

    def on_signed_out(self, _reason: str) -> None:
        student, self._student = self._student, None
        if student is not None and self.run is not None:
            self.run.sign_out(student)
        elif student is not None:
            self.signin.sign_out(student)

    def close(self) -> None:
        """Stop probing; hand over what waits if the service answers; hang up."""
        self.timer.stop()
        if self.library_task is not None:
            self.library_task.wait(30)
        self.link.probe()
        if self.run is not None and self.run.waiting:
            log.warning(
                "%d lessons could not be handed to the service before quitting", self.run.waiting
            )
        self.link.client.close()


def _load_lessons(env_name: str) -> Library:
    """The lessons this app can show: the demo lessons on the sandbox (the service's
    ``--demo-school`` offers the same)."""
    import platformdirs

    from companion.content import Library, demo_lessons_path, load_library
    from companion.core.catalogue import Catalogue

    if env_name != "sandbox":
        return Library(Catalogue((), ()))
    cache = Path(platformdirs.user_cache_dir("timeback-companion", appauthor=False))
    library = load_library([demo_lessons_path()], cache / "lesson-cache")
    for problem in library.errors:
        log.warning("lesson not loaded: %s", problem)
    return library
