"""The composition root: configuration → environment → database → lease → recovery →
(sandbox, roster, demo PINs) → lessons → sync worker → the sign-in window.

Only what the sign-in window needs happens before it shows (Qt, the config file and a
read-only look at the cached class list, see ``companion.ui.startup``). The database and the
lease (``open_runtime``), then the embedded sandbox, the roster pull, the lesson library and
the sync worker (``boot_rest``) start in background threads right after, and the window
hears of them by signal. Heavy modules (SQLModel, httpx) are imported inside the functions,
so importing this module stays cheap; the types below are for the type checker only.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from companion.content import Library
    from companion.core.catalogue import Catalogue
    from companion.core.clock import Clock
    from companion.core.elsewhere import Fetch
    from companion.core.periods import Period
    from companion.core.report import Report
    from companion.sandbox.server import SandboxHandle
    from companion.session.library import LibraryView
    from companion.store.db import Database
    from companion.store.lease import Lease, LeaseKeeper
    from companion.store.runs import EventContext
    from companion.sync.roster_refresh import RosterRefresher
    from companion.sync.worker import SyncWorker
    from companion.timeback import Credentials, Environment

log = logging.getLogger("companion.app")

DEMO_STUDENT_PIN = "1234"
DEMO_GUIDE_PIN = "9999"
OFFSCREEN_CHROMIUM_FLAGS = "--disable-gpu --disable-logging --log-level=3"


class StartError(Exception):
    """Start-up cannot go on; the message is for the person at the computer."""


@dataclass
class Runtime:
    """The app's long-lived parts (Qt-free), built by ``open_runtime`` and ``boot_rest``."""

    env_name: str
    environment: Environment
    db: Database
    lease: Lease
    clock: Clock
    keeper: LeaseKeeper | None = None
    sandbox: SandboxHandle | None = None
    ctx: EventContext | None = None
    library: Library | None = None
    library_view: LibraryView | None = None
    worker: SyncWorker | None = None
    refresher: RosterRefresher | None = None
    school_id: str | None = None
    class_ids: tuple[str, ...] = ()
    recovered: list[str] = field(default_factory=list)

    @property
    def demo(self) -> bool:
        """True on the embedded sandbox with its demo school."""
        return self.env_name == "sandbox"

    def close(self) -> None:
        """Stop the worker, the sandbox and the lease; close the database."""
        if self.worker is not None:
            self.worker.quit()
        if self.keeper is not None:
            self.keeper.stop()
        if self.lease is not None and self.lease.held:
            self.lease.release()
        if self.sandbox is not None:
            from companion.store.meta import EMBEDDED_SANDBOX_URL, set_meta

            set_meta(self.db, EMBEDDED_SANDBOX_URL, None)
            self.sandbox.stop()
        self.db.close()


def open_runtime(env: str | None, clock: Clock) -> Runtime:
    """Config, environment, database and lease: what the sign-in window needs."""
    from companion.config import ConfigError, load_config
    from companion.store.db import Database, StoreError
    from companion.store.lease import Lease, LeaseKeeper
    from companion.store.paths import database_path
    from companion.system.processes import ThisComputer

    try:
        config = load_config()
        name = env or config.environment
        environment = config.environment_for(name)
    except (ConfigError, ValueError) as exc:
        raise StartError(f"The configuration cannot be used: {exc}") from exc
    computer = config.computer(name)
    try:
        db = Database.open(database_path(name), name)
    except StoreError as exc:
        raise StartError(f"The database cannot be opened: {exc}") from exc
    lease = Lease(db, processes=ThisComputer())
    if not lease.try_acquire():
        holder = lease.holder()
        where = f"pid {holder.pid} on {holder.host}" if holder else "another process"
        db.close()
        raise StartError(
            f"Another Timeback Companion ({where}) is using this computer's {name} data. "
            "Close it first, or wait half a minute if it has just stopped."
        )
    keeper = LeaseKeeper(lease)
    keeper.start()
    rt = Runtime(name, environment, db, lease, clock, keeper=keeper)
    if computer is not None:
        rt.school_id, rt.class_ids = computer.school_id, computer.class_ids
    return rt


def reload_computer(rt: Runtime) -> None:
    """Read the school and classes this computer serves again (after set-up)."""
    from companion.config import load_config

    computer = load_config().computer(rt.env_name)
    if computer is not None:
        rt.school_id, rt.class_ids = computer.school_id, computer.class_ids


def boot_rest(rt: Runtime, lesson_folders: list[Path] | None = None) -> Runtime:
    """The deferred start-up (runs in a worker thread): sandbox, recovery, roster, PINs,
    lessons, sync worker. Raises StartError (or a Timeback error) with a plain message."""
    from companion.content import demo_lessons_path, load_library
    from companion.core.catalogue import Catalogue
    from companion.session.library import LibraryView
    from companion.session.signin import seed_demo_pins
    from companion.store import runs
    from companion.store.paths import data_dir, library_dir
    from companion.sync.roster_refresh import RosterRefresher, RosterRefreshError, roster_status
    from companion.timeback import (
        OneRosterClient,
        UnauthorisedError,
        auth_for,
        load_credentials,
        oneroster_client,
    )
    from companion.ui.setup_flow import SetupNeeded

    if rt.demo:
        from companion.sandbox.seed import DEMO_SCHOOL_ID
        from companion.sandbox.server import start_in_thread
        from companion.store.meta import EMBEDDED_SANDBOX_URL, set_meta
        from companion.timeback import sandbox_environment

        rt.sandbox = start_in_thread(port=0, seed="demo")
        rt.environment = sandbox_environment(rt.sandbox.base_url)
        # so that `companion doctor`, `sync` and `content push` find it while the app runs
        set_meta(rt.db, EMBEDDED_SANDBOX_URL, rt.sandbox.base_url)
        rt.school_id = DEMO_SCHOOL_ID
    credentials = load_credentials(rt.env_name)  # CredentialsMissing / KeyringUnavailable
    if not rt.demo:
        rt.school_id = rt.school_id or roster_status(rt.db).school_id
        if not rt.school_id:
            raise SetupNeeded(f"This computer has not been set up for {rt.env_name} yet: "
                              "choose the school and the classes it serves.")
    if rt.ctx is None:
        rt.ctx = runs.EventContext(oneroster_base=rt.environment.oneroster_base)
        rt.recovered = runs.recover_orphaned_runs(rt.db, rt.lease, rt.ctx)
        care_for_journals(rt)
    if rt.school_id:
        env = rt.environment

        def client_factory() -> OneRosterClient:
            return oneroster_client(env, auth_for(env, credentials))

        def release_waiting_runs(_result: object, rt: Runtime = rt) -> None:
            # runs that waited for roster data (an email) get their events now
            if rt.ctx is not None and runs.build_pending_events(rt.db, rt.ctx) and rt.worker:
                rt.worker.notify_run_closed()

        refresher = RosterRefresher(rt.db, client_factory, rt.school_id, rt.clock,
                                    after_refresh=release_waiting_runs)
        rt.refresher = refresher
        try:
            refresher.refresh_now(full=rt.demo)
        except RosterRefreshError as exc:
            if rt.demo:
                raise
            if isinstance(exc.__cause__, UnauthorisedError):
                raise exc.__cause__ from exc  # a changed secret: set-up asks again
            log.warning("roster refresh failed, using the cached roster: %s", exc)
    if rt.demo:
        seed_demo_pins(rt.db, DEMO_STUDENT_PIN, DEMO_GUIDE_PIN, now=rt.clock.utc_now())
    folders = [demo_lessons_path()] if rt.demo else []
    folders += lesson_folders or []
    if library_dir().is_dir():  # lessons added with `companion content import`
        folders.append(library_dir())
    # an external lesson's "{sandbox}" url placeholder is filled only on the sandbox
    placeholders = {"sandbox": rt.sandbox.base_url} if rt.sandbox is not None else {}
    library = (load_library(folders, data_dir() / "lesson-cache", placeholders=placeholders)
               if folders else None)
    if library is None:
        library = _empty_library(Catalogue((), ()))
    for error in library.errors:
        log.warning("lesson not loaded: %s", error)
    runs.save_lessons(rt.db, library.catalogue)
    rt.library = library
    rt.library_view = LibraryView(rt.db, library.catalogue, rt.clock)
    rt.worker = make_worker(rt, credentials)
    return rt


def reload_lessons(rt: Runtime) -> None:
    """Read the lesson library again (after lessons were added on this computer): the demo
    lessons on the demo, and this computer's library. Runs in a worker thread; the UI
    takes ``rt.library`` and ``rt.library_view`` over on its own thread."""
    from companion.content import demo_lessons_path, load_library
    from companion.session.library import LibraryView
    from companion.store import runs
    from companion.store.paths import data_dir, library_dir

    folders = [demo_lessons_path()] if rt.demo else []
    if library_dir().is_dir():
        folders.append(library_dir())
    placeholders = {"sandbox": rt.sandbox.base_url} if rt.sandbox is not None else {}
    library = load_library(folders, data_dir() / "lesson-cache", placeholders=placeholders)
    for error in library.errors:
        log.warning("lesson not loaded: %s", error)
    runs.save_lessons(rt.db, library.catalogue)
    rt.library_view = LibraryView(rt.db, library.catalogue, rt.clock)
    rt.library = library


def add_lessons(path: Path, progress: Callable[[int, int], None]) -> Any:
    """Import a package, bundle or folder of lessons into this computer's library (the
    guide's "Add lessons"); raises BundleError with the reason it was refused."""
    from companion.content.importer import import_content
    from companion.store.paths import library_dir

    return import_content(path, library_dir(), progress=progress)


def _empty_library(catalogue: Catalogue) -> Library:
    from companion.content import Library

    return Library(catalogue)


def make_worker(rt: Runtime, credentials: Credentials) -> SyncWorker:
    """The sync worker on our lease (started by the caller)."""
    from companion.core.caliper import DEFAULT_APP
    from companion.sync.worker import SyncWorker
    from companion.timeback import auth_for, caliper_client, gradebook_client

    auth = auth_for(rt.environment, credentials)
    api = caliper_client(rt.environment, auth, sensor=DEFAULT_APP.sensor)
    gradebook = gradebook_client(rt.environment, auth)
    return SyncWorker(rt.db, api, lease=rt.lease, on_unauthorised=auth.invalidate,
                      results_api=gradebook)


def care_for_journals(rt: Runtime) -> list[str]:
    """Remove journals delivered more than ``[report] keep_journals_days`` ago (default 90);
    their runs keep summaries and per-question results. Returns the runs."""
    from companion.config import DEFAULT_KEEP_JOURNALS_DAYS, ConfigError, load_config
    from companion.store import summaries

    try:
        days = load_config().keep_journals_days
    except ConfigError:
        days = DEFAULT_KEEP_JOURNALS_DAYS
    summaries.backfill(rt.db)
    return summaries.remove_delivered_journals(rt.db, days, rt.clock.utc_now())


def student_care(rt: Runtime) -> Any:
    """Export and erase of one student's data, for the guide's view."""
    from companion.session.student_care import StudentCare

    return StudentCare(rt.db)


def report_builder(rt: Runtime) -> tuple[Callable[[Period, str | None], Report], tzinfo | None]:
    """The guide's report for the windows: ``build(period, class_id)`` and its time zone
    (the configuration's ``[report] time_zone``, else this computer's)."""
    from companion.config import ConfigError, load_config
    from companion.core.periods import PeriodError, time_zone
    from companion.session.library import DEFAULT_DAILY_GOAL_XP
    from companion.session.report import build_report

    try:
        tz = time_zone(load_config().time_zone)
    except (ConfigError, PeriodError) as exc:
        log.warning("report time zone: %s; using this computer's", exc)
        tz = None
    goal = float(rt.library_view.daily_goal_xp if rt.library_view else DEFAULT_DAILY_GOAL_XP)
    catalogue = rt.library.catalogue if rt.library is not None else None

    def build(period: Period, class_id: str | None) -> Report:
        return build_report(rt.db, period, tz=tz, class_id=class_id, catalogue=catalogue,
                            goal_minutes=goal)

    return build, tz


def report_others(rt: Runtime) -> Callable[[Sequence[str]], Fetch]:
    """``fetch(student_ids)`` for the guide's report (a worker thread): read the students'
    results from their other computers, unless the sync worker says this computer is
    offline; the answer says whether they were read, or why not."""
    from companion.core.elsewhere import OFFLINE_REASON, Fetch
    from companion.sync.other_computers import fetch_other_computers
    from companion.timeback import TimebackError, auth_for, gradebook_client, load_credentials

    def fetch(student_ids: Sequence[str]) -> Fetch:
        if rt.worker is not None and rt.worker.status.current.state == "offline":
            return Fetch(False, OFFLINE_REASON)
        try:
            credentials = load_credentials(rt.env_name)
        except TimebackError as exc:
            return Fetch(False, str(exc))
        auth = auth_for(rt.environment, credentials)
        with gradebook_client(rt.environment, auth) as client:
            return fetch_other_computers(rt.db, client, student_ids, now=rt.clock.utc_now())

    return fetch


def has_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a window can be shown: always outside Linux/BSD; there, an X or Wayland
    display, or a Qt platform chosen on purpose (QT_QPA_PLATFORM)."""
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    if platform in ("win32", "darwin", "cygwin"):
        return True
    return any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


QUIET_CHROMIUM = "--log-level=3"  # fatal messages only
QUIET_QT_RULES = "qt.vulkan*=false;qt.rhi.*=false;qt.qpa.gl=false;qt.glx=false;qt.xcb.glx*=false"


_qt_log = logging.getLogger("companion.qt")


def qt_message_to_log(kind: Any, context: Any, message: str) -> None:
    """Qt's and the web engine's messages go to the log file, not the terminal: notes about
    the GPU, Vulkan or D-Bus on a classroom computer are for support, not for the student.
    Critical and fatal ones are still printed."""
    from PySide6.QtCore import QtMsgType

    level = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.DEBUG,
             QtMsgType.QtWarningMsg: logging.INFO}.get(kind, logging.ERROR)
    category = getattr(context, "category", None) or "default"
    _qt_log.log(level, "[%s] %s", category, message)
    if level >= logging.ERROR:
        print(message, file=sys.stderr)


def prepare_qt(offscreen: bool) -> None:
    """Environment and attributes Qt needs before the QApplication exists."""
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        # Offscreen there is no GPU: keep Chromium from trying (and from logging about it).
        os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", OFFSCREEN_CHROMIUM_FLAGS)
        os.environ.setdefault("QSG_RHI_BACKEND", "null")
    from companion.ui.lesson_policy import CHROMIUM_FLAGS

    flags = os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", "")
    if CHROMIUM_FLAGS not in flags:  # lesson pages' WebRTC: no UDP that is not proxied
        flags = f"{flags} {CHROMIUM_FLAGS}".strip()
    if "--log-level" not in flags:  # Chromium's notes about the GPU and D-Bus: nobody can act
        flags = f"{flags} {QUIET_CHROMIUM}"
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = flags
    # Qt's own notes about Vulkan and GLX on machines without them, likewise (a
    # QT_LOGGING_RULES the user set still wins: theirs come after ours)
    rules = os.environ.get("QT_LOGGING_RULES", "")
    os.environ["QT_LOGGING_RULES"] = ";".join(r for r in (QUIET_QT_RULES, rules) if r)
    from PySide6.QtCore import QCoreApplication, Qt, qInstallMessageHandler

    qInstallMessageHandler(qt_message_to_log)
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    from companion.ui.web import register_scheme

    register_scheme()


def say_cannot_start(message: str, window: bool) -> None:
    """Say on stderr (and, with ``window``, in a message box) why the app cannot start.

    Called before any WebEngine object exists: the box is a plain widget.
    """
    print(f"error: {message}", file=sys.stderr)
    if not window:
        return
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    QMessageBox.critical(None, "Timeback Companion cannot start", message)


def run_app(env: str | None, self_test: bool = False) -> int:
    """Run the desktop app (or, with ``self_test``, a scripted demo lesson offscreen);
    returns the exit status."""
    if not self_test and not has_display():
        print("No display was found, so the window cannot be shown. Running the self-test "
              "offscreen instead (set QT_QPA_PLATFORM=offscreen to run the app headless).",
              file=sys.stderr)
        self_test = True
    from companion.system.webengine import root_refusal

    refusal = root_refusal()
    if refusal is not None:
        headless = os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal")
        say_cannot_start(refusal, window=not (self_test or headless))
        return 1
    prepare_qt(offscreen=self_test)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    if self_test:
        from companion.ui.selftest import run_self_test

        return run_self_test(app, env)
    from companion.ui.shell import Shell

    urls = [arg for arg in sys.argv[1:] if arg.lower().startswith("timeback-companion://")]
    shell = Shell(app, env, urls=urls)
    shell.fatal.connect(lambda _message: app.exit(1))
    status = shell.start()
    if status is not None:
        return status
    try:
        return app.exec()
    finally:
        shell.close()

