"""The Qt half of the composition root: builds the window on the ``Runtime``, shows it,
then finishes start-up in a background task and hands each window what it needs through
``companion.ui.ports`` (the run, the library, sign-in, the guide's report and care,
launches, set-up, the sync status).

Signals:
    ready(): the deferred start-up finished (lessons, roster, sync worker).
    failed(str): the deferred start-up failed; the message.
    setup_opened(object): the set-up dialog was opened (it is the argument).
    fatal(str): the database or the lease could not be opened; the app cannot go on.
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from companion.app.hosting import service_socket
from companion.app.launch import LaunchBridge, LaunchServices, parse_link, start_launch_services
from companion.app.progress import ProgressSync
from companion.app.runtime import (
    DEMO_GUIDE_PIN,
    DEMO_STUDENT_PIN,
    Runtime,
    StartError,
    add_lessons,
    boot_rest,
    reload_computer,
    reload_lessons,
    report_builder,
    report_others,
    student_care,
)
from companion.app.sensing import SensingChoice
from companion.app.startup import open_for_window
from companion.content.importer import Imported
from companion.core.clock import Clock
from companion.system.external import ExternalLesson, ForegroundReader
from companion.system.sensing import FocusSource, InputSource, LockSource
from companion.ui.launch_ui import LaunchController
from companion.ui.main_window import MainWindow
from companion.ui.services import Services
from companion.ui.setup_dialog import SetupLauncher
from companion.ui.single_instance import SingleInstance
from companion.ui.styles import apply_style
from companion.ui.sync_bridge import SyncStatusBridge
from companion.ui.tasks import BackgroundTask
from companion.ui.tray import Tray

if TYPE_CHECKING:
    from companion.app.remote_shell import RemoteWiring
    from companion.session.run import SessionController

log = logging.getLogger("companion.app")

DEFAULT_LAUNCH_PORT = 47631  # companion.launch.listener.DEFAULT_PORT, without importing it


def _show_error(message: str) -> None:
    print(f"companion: {message}", file=sys.stderr)
    if QApplication.platformName() != "offscreen":
        QMessageBox.critical(None, "Timeback Companion", message)


class Shell(QObject):
    """Owns the runtime, the window, the tray and the background start-up.

    Signals:
        ready(): lessons and sync are available.
        failed(str): start-up failed after the window showed.
        setup_opened(object): the set-up dialog (a missing or refused credential, no school).
        fatal(str): the store could not be opened (``run_app`` then exits with status 1).
    """

    ready = Signal()
    failed = Signal(str)
    setup_opened = Signal(object)
    fatal = Signal(str)

    def __init__(
        self,
        app: QApplication,
        env: str | None,
        *,
        clock: Clock | None = None,
        input_source: InputSource | None = None,
        focus_source: FocusSource | None = None,
        lock_source: LockSource | None = None,
        foreground: ForegroundReader | None = None,
        launch_lesson: Callable[[ExternalLesson], object] | None = None,
        single_instance: bool = True,
        tray: bool = True,
        launch_port: int | None = DEFAULT_LAUNCH_PORT,
        open_browser: Callable[[str], object] | None = None,
        urls: Sequence[str] = (),
        start_sync: bool = True,
        report_error: Callable[[str], None] = _show_error,
    ) -> None:
        super().__init__()
        self.app = app
        self.env = env
        if clock is None:
            from companion.core.clock import SystemClock

            clock = SystemClock()
        self.clock: Clock = clock
        self.sensing = SensingChoice(clock, input_source, focus_source, lock_source, foreground)
        self._launch_lesson = launch_lesson  # starts external lessons; None: system launch
        self._single = single_instance
        self._tray_wanted = tray
        self._start_sync = start_sync
        self._launch_port = launch_port
        self._open_browser: Callable[[str], object] = open_browser or _system_browser
        self._urls = list(urls)
        self.report_error = report_error
        self.runtime: Runtime | None = None
        self.window: MainWindow | None = None
        self.services: Services | None = None
        self.instance: SingleInstance | None = None
        self.tray: Tray | None = None
        self.sync_bridge: SyncStatusBridge | None = None
        self.launch: LaunchController | None = None
        self.progress: ProgressSync | None = None
        self.setup: SetupLauncher | None = None
        self.boot_task: BackgroundTask | None = None
        self.open_task: BackgroundTask | None = None
        self.launch_task: BackgroundTask | None = None
        self._controller: SessionController | None = None
        self.remote: RemoteWiring | None = None  # when the machine service is used

    def start(self) -> int | None:
        """Show the sign-in window; None when running, else an exit status.

        Only the config file and a read-only look at the cached class list come before the
        window; the database, the lease and the rest open in background tasks after it.
        """
        from companion.app.startup import ConfigError, quick_classes, read_start_config
        from companion.store.paths import database_path

        apply_style(self.app)
        try:
            start = read_start_config(self.env)
        except (ConfigError, ValueError) as exc:
            self.report_error(f"The configuration cannot be used: {exc}")
            return 1
        env_name = start.env_name
        if self._single:
            from companion.ui.single_instance import server_name

            self.instance = SingleInstance(server_name(env_name), self)
            if not self.instance.acquire(self._urls):
                print("Timeback Companion is already running; brought it forward.")
                return 0
        self.services = Services(
            env_name=env_name,
            demo=env_name == "sandbox",
            clock=self.clock,
            input_source=self.sensing.input_source(),
            demo_pins=(DEMO_STUDENT_PIN, DEMO_GUIDE_PIN),
        )
        self.window = MainWindow(self.services)
        self.launch = LaunchController(self.window, parse_link, self._open_browser, self)
        self.progress = ProgressSync(self.window, self)
        self.setup = SetupLauncher(self.window, self)
        self._connect_signals()
        socket_path = service_socket()
        if socket_path is not None:  # this computer's service keeps the data and the rules
            self._start_remote(socket_path)
            return None
        self.window.signin.set_classes(quick_classes(database_path(env_name), start.class_ids))
        self.window.show()
        self.sensing.install(self.app)
        served = start.class_ids
        self.open_task = BackgroundTask(
            lambda: open_for_window(self.env, self.clock, served), "open", self)
        self.open_task.succeeded.connect(self.on_opened)
        self.open_task.failed.connect(self.on_open_failed)
        self.open_task.start()
        return None

    def _start_remote(self, socket_path: Path) -> None:
        """The windows as a client of the machine service (``remote_shell``)."""
        from companion.app.remote_shell import RemoteWiring

        assert self.window is not None and self.services is not None
        self.window.show()
        self.sensing.install(self.app)
        self.remote = RemoteWiring(socket_path, self.window, self.services, self.sensing,
                                   self.clock, self)
        self.remote.ready.connect(self.ready)
        self.remote.start()

    def _connect_signals(self) -> None:
        assert self.window is not None and self.launch is not None
        assert self.progress is not None and self.setup is not None
        if self.instance is not None:
            self.instance.activated.connect(self.window.bring_forward)
            self.instance.url_received.connect(self.launch.on_url)
        self.failed.connect(self.window.on_start_failed)
        self.window.signin.timeback_requested.connect(self.launch.on_timeback_requested)
        self.window.signed_in.connect(self.progress.on_signed_in)
        self.setup.opened.connect(self.setup_opened)
        self.setup.configured.connect(self.on_setup_done)

    def on_opened(self, rt: Runtime) -> None:
        """The store is open: hand the sign-in service to the window, then boot the rest."""
        assert self.services is not None and self.window is not None
        self.runtime = rt
        self.services.signin = rt.signin
        self.window.signin.service = rt.signin
        if self.window.signin.stack.currentIndex() == 0:
            self.window.signin.reload()
        self._boot()

    def on_open_failed(self, exc: object) -> None:
        message = str(exc) if isinstance(exc, StartError) else f"Start-up failed: {exc}"
        log.error(message)
        self.report_error(message)
        self.failed.emit(message)
        self.fatal.emit(message)

    def _boot(self) -> None:
        if self.boot_task is not None:
            self.boot_task.wait(30)
        rt = self.runtime
        assert rt is not None
        self.boot_task = BackgroundTask(lambda: boot_rest(rt), "boot", self)
        self.boot_task.succeeded.connect(self.on_booted)
        self.boot_task.failed.connect(self.on_boot_failed)
        self.boot_task.start()

    # --- deferred start-up ------------------------------------------------------------

    def on_booted(self, rt: Runtime) -> None:
        """The lessons, the roster and the worker are there: give the windows the run,
        the library, the guide's parts and the sync status."""
        from companion.content import bridge_script_path
        from companion.session.run import SessionController
        from companion.system.sensing import NoLockSensing

        assert self.services is not None and self.window is not None
        assert rt.library is not None and rt.library_view is not None and rt.ctx is not None
        sensing = self.sensing.for_runs(self.window)
        self.window.run_sensing = sensing
        self.window.launcher = self._launch_lesson
        # the run reads its sources through ``sensing.observe``, chosen per run
        controller = SessionController(
            rt.db, self.clock, rt.ctx, rt.library.catalogue, sensing.qt_input,
            sensing.window_focus, NoLockSensing(), observe=sensing.observe,
        )
        self._controller = controller
        s = self.services
        s.content = rt.library
        s.library_view = rt.library_view
        s.controller = controller
        s.bridge_script = bridge_script_path().read_text(encoding="utf-8")
        s.report, s.report_tz = report_builder(rt)
        s.report_others = report_others(rt)
        s.student_data = student_care(rt)
        s.add_lessons = lambda path, progress: self._add_lessons(rt, path, progress)
        s.on_lessons_added = lambda: self.on_lessons_added(rt)
        if rt.worker is not None:
            self.sync_bridge = SyncStatusBridge(rt.worker.status, self)
            self.sync_bridge.changed.connect(self.window.on_sync_status)
            self.window.on_sync_status(rt.worker.status.current)
            s.sync_now = rt.worker.sync_now
            s.on_run_closed = rt.worker.notify_run_closed
            if self._start_sync:
                rt.worker.start(start_delay=not rt.demo)
        if self._tray_wanted:
            self._make_tray(rt)
        assert self.progress is not None and self.launch is not None
        self.progress.runtime = rt
        if self.launch_task is None and self._launch_port is not None:
            self._start_launches(rt, self._launch_port)
        for url in self._urls:
            self.launch.on_url(url)
        self._urls = []
        self.window.prepare_session()
        # Everything built so far lives until the app quits: keep it out of the cyclic
        # garbage collector's full passes, which otherwise stop every thread (the window's
        # too) for tens of ms while the worker and the sandbox allocate.
        gc.freeze()
        self.window.on_ready()
        self.ready.emit()

    def _start_launches(self, rt: Runtime, port: int) -> None:
        """Bind and start the launch listener in a background task; the window's launch
        controller is given it (``attach``) on success."""
        assert self.launch is not None
        bridge = LaunchBridge(self)
        bridge.launched.connect(self.launch.on_launched)
        bridge.signed_in.connect(self.launch.on_signed_in)
        open_browser = self._open_browser
        task = BackgroundTask(
            lambda: start_launch_services(rt, bridge, port=port, open_browser=open_browser),
            "launch-listener", self)
        task.succeeded.connect(self.on_launches_started)
        task.failed.connect(self.launch.on_services_failed)
        self.launch_task = task
        task.start()

    def on_launches_started(self, services: LaunchServices | None) -> None:
        assert self.launch is not None
        self.launch.on_services_started(services)

    def _add_lessons(self, rt: Runtime, path: Path,
                     progress: Callable[[int, int], None]) -> Imported:
        """Import (in the dialog's worker thread), then read the library again there."""
        imported = add_lessons(path, progress)
        reload_lessons(rt)
        return imported

    def on_lessons_added(self, rt: Runtime) -> None:
        """Lessons were added: the windows and the next run use the new library."""
        s = self.services
        controller = self._controller
        if s is None or self.window is None or controller is None:
            return
        if controller.run is not None:
            log.warning("lessons were added during a run; they appear at the next start")
            return
        assert rt.library is not None
        controller.replace_catalogue(rt.library.catalogue)
        s.content = rt.library
        s.library_view = rt.library_view
        self.window.on_ready()

    def on_boot_failed(self, exc: object) -> None:
        from companion.app.setup import setup_reason

        rt = self.runtime
        reason = None
        if rt is not None and not rt.demo and isinstance(exc, BaseException):
            reason = setup_reason(exc, rt.env_name)
        if reason is not None:
            self.open_setup(reason)
            return
        message = f"Start-up did not finish: {exc}"
        log.error(message)
        self.failed.emit(message)

    # --- set-up -----------------------------------------------------------------------

    def open_setup(self, reason: str) -> None:
        """Show the set-up dialog with ``reason`` (start-up failed, or the tray asked)."""
        from companion.app.setup import SetupFlow

        rt, clock = self.runtime, self.clock
        assert rt is not None and self.setup is not None
        self.setup.open(lambda: SetupFlow(rt.env_name, rt.environment, rt.db, clock), reason)

    def on_setup_done(self) -> None:
        assert self.runtime is not None and self.services is not None
        assert self.window is not None and self.runtime.signin is not None
        reload_computer(self.runtime)
        self.runtime.signin.serve_classes(self.runtime.class_ids)
        if self.services.lessons_ready:
            self.window.signin.reload()
        else:
            self.window.signin.class_status.setText("Loading the class list…")
            self._boot()

    def _make_tray(self, rt: Runtime) -> None:
        assert self.window is not None
        self.tray = Tray.create(self)
        if self.tray is None:
            return
        self.tray.attach(self.window, self.app.quit)
        self.tray.setup_requested.connect(self.on_setup_requested)
        self.tray.setup_action.setVisible(not rt.demo)
        if self.sync_bridge is not None:
            self.sync_bridge.changed.connect(self.tray.on_sync_status)

    def on_setup_requested(self) -> None:
        self.open_setup("Set-up from the tray: change the credentials, school or classes.")

    def close(self) -> None:
        """End an open lesson as not completed, stop everything, close the database."""
        if self.window is not None:
            self.window.sign_out("quit")
        if self.open_task is not None:
            self.open_task.wait(30)
            if self.runtime is None and self.open_task.result is not None:
                self.runtime = self.open_task.result
        if self.boot_task is not None:
            self.boot_task.wait(30)
        if self.launch_task is not None:
            self.launch_task.wait(15)
            if self.launch is not None and self.launch.services is None \
                    and isinstance(self.launch_task.result, LaunchServices):
                self.launch_task.result.stop()  # started after the window stopped listening
        if self.launch is not None:
            self.launch.stop()
        if self.progress is not None:
            self.progress.wait()
        if self.sync_bridge is not None:
            self.sync_bridge.close()
        if self.instance is not None:
            self.instance.close()
        if self.remote is not None:
            self.remote.close()
        if self.runtime is not None:
            self.runtime.close()
            self.runtime = None


def _system_browser(url: str) -> object:
    import webbrowser  # imported when first used: it is slow to import

    return webbrowser.open(url)
