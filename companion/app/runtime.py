"""The app's long-lived parts, without Qt: configuration → environment → database → lease
(``open_runtime``: what the sign-in window needs), then recovery, the embedded sandbox, the
Timeback clients, the roster, the demo PINs, the lessons and the sync worker
(``boot_rest``, in a background thread after the window shows).

Heavy modules (SQLModel, httpx) are imported inside the functions, so importing this
module stays cheap; the types below are for the type checker only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from companion.core.clock import Clock

if TYPE_CHECKING:
    from companion.content import Library
    from companion.content.importer import Imported
    from companion.core.elsewhere import Fetch
    from companion.core.periods import Period
    from companion.core.report import Report
    from companion.sandbox.server import SandboxHandle
    from companion.session.library import LibraryView
    from companion.session.signin import SignInService
    from companion.session.student_care import StudentCare
    from companion.store.db import Database
    from companion.store.lease import Lease, LeaseKeeper
    from companion.store.runs import EventContext
    from companion.sync.clients import TimebackClients
    from companion.sync.roster_refresh import RosterRefresher
    from companion.sync.worker import SyncWorker
    from companion.timeback import Environment

log = logging.getLogger("companion.app")

DEMO_STUDENT_PIN = "1234"
DEMO_GUIDE_PIN = "9999"


class StartError(Exception):
    """Start-up cannot go on; the message is for the person at the computer."""


class SetupNeeded(Exception):
    """This computer has no school chosen for the environment yet; the message says so."""


@dataclass
class Runtime:
    """The app's long-lived parts (Qt-free), built by ``open_runtime`` and ``boot_rest``.

    ``clock`` dates and times everything the app records; ``wall_clock`` is always the
    computer's own, for what a server dates (launch and sign-in tokens).
    """

    env_name: str
    environment: Environment
    db: Database
    lease: Lease
    clock: Clock
    wall_clock: Clock
    keeper: LeaseKeeper | None = None
    signin: SignInService | None = None
    sandbox: SandboxHandle | None = None
    timeback: TimebackClients | None = None
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
        """Stop the worker, the sandbox and the lease; close the clients and the database."""
        if self.worker is not None:
            self.worker.quit()
        if self.keeper is not None:
            self.keeper.stop()
        if self.lease is not None and self.lease.held:
            self.lease.release()
        if self.timeback is not None:
            self.timeback.close()
            self.timeback = None
        if self.sandbox is not None:
            from companion.store.meta import EMBEDDED_SANDBOX_URL, set_meta

            set_meta(self.db, EMBEDDED_SANDBOX_URL, None)
            self.sandbox.stop()
        self.db.close()


def open_runtime(env: str | None, clock: Clock) -> Runtime:
    """Config, environment, database, lease and the sign-in service: what the sign-in
    window needs."""
    from companion.config import ConfigError, load_config
    from companion.core.clock import SystemClock
    from companion.session.signin import SignInService
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
    rt = Runtime(name, environment, db, lease, clock, SystemClock(), keeper=keeper)
    if computer is not None:
        rt.school_id, rt.class_ids = computer.school_id, computer.class_ids
    try:
        rt.signin = SignInService(db, clock)
    except Exception:
        rt.close()
        raise
    return rt


def reload_computer(rt: Runtime) -> None:
    """Read the school and classes this computer serves again (after set-up)."""
    from companion.config import load_config

    computer = load_config().computer(rt.env_name)
    if computer is not None:
        rt.school_id, rt.class_ids = computer.school_id, computer.class_ids


def boot_rest(rt: Runtime, lesson_folders: list[Path] | None = None) -> Runtime:
    """The deferred start-up (runs in a worker thread): sandbox, recovery, Timeback
    clients, roster, PINs, lessons, sync worker. Raises StartError (or a Timeback error)
    with a plain message."""
    from companion.content import demo_lessons_path, load_library
    from companion.core.run_outcome import EventContext
    from companion.service.delivery import wire_delivery
    from companion.session import closing
    from companion.session.library import LibraryView
    from companion.session.signin import seed_demo_pins
    from companion.store import runs
    from companion.store.paths import data_dir, library_dir
    from companion.sync.roster_refresh import RosterRefreshError, roster_status
    from companion.timeback import UnauthorisedError, load_credentials

    if rt.demo and rt.sandbox is None:
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
        rt.ctx = EventContext(oneroster_base=rt.environment.oneroster_base)
        rt.recovered = closing.recover_orphaned_runs(rt.db, rt.lease, rt.ctx)
        care_for_journals(rt)
    if rt.timeback is not None:  # a boot again after set-up: the credentials may be new
        rt.timeback.close()
    delivery = wire_delivery(rt.db, rt.environment, credentials, lease=rt.lease, ctx=rt.ctx,
                             school_id=rt.school_id, clock=rt.clock)
    rt.timeback, rt.refresher = delivery.clients, delivery.refresher
    if delivery.refresher is not None:
        try:
            delivery.refresher.refresh_now(full=rt.demo)
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
        library = _empty_library()
    for error in library.errors:
        log.warning("lesson not loaded: %s", error)
    runs.save_lessons(rt.db, library.catalogue)
    rt.library = library
    rt.library_view = LibraryView(rt.db, library.catalogue, rt.clock)
    rt.worker = delivery.worker
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


def add_lessons(path: Path, progress: Callable[[int, int], None]) -> Imported:
    """Import a package, bundle or folder of lessons into this computer's library (the
    guide's "Add lessons"); raises BundleError with the reason it was refused."""
    from companion.content.importer import import_content
    from companion.store.paths import library_dir

    return import_content(path, library_dir(), progress=progress)


def _empty_library() -> Library:
    from companion.content import Library
    from companion.core.catalogue import Catalogue

    return Library(Catalogue((), ()))


def make_worker(rt: Runtime, clients: TimebackClients) -> SyncWorker:
    """The sync worker on our lease and the process's clients (started by the caller)."""
    from companion.service import delivery

    return delivery.make_worker(rt.db, clients, rt.lease)


def care_for_journals(rt: Runtime) -> list[str]:
    """Remove journals delivered more than ``[report] keep_journals_days`` ago (default 90);
    their runs keep summaries and per-question results. Returns the runs."""
    from companion.config import DEFAULT_KEEP_JOURNALS_DAYS, ConfigError, load_config
    from companion.session import closing
    from companion.store import summaries

    try:
        days = load_config().keep_journals_days
    except ConfigError:
        days = DEFAULT_KEEP_JOURNALS_DAYS
    closing.backfill_summaries(rt.db)
    return summaries.remove_delivered_journals(rt.db, days, rt.clock.utc_now())


def student_care(rt: Runtime) -> StudentCare:
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
    results from their other computers on the process's one gradebook client, unless the
    sync worker says this computer is offline; the answer says whether they were read, or
    why not."""
    from companion.core.elsewhere import OFFLINE_REASON, Fetch
    from companion.sync.other_computers import fetch_other_computers

    def fetch(student_ids: Sequence[str]) -> Fetch:
        if rt.worker is not None and rt.worker.status.current.state == "offline":
            return Fetch(False, OFFLINE_REASON)
        if rt.timeback is None:
            return Fetch(False, "This computer is not connected to Timeback yet.")
        return fetch_other_computers(
            rt.db, rt.timeback.gradebook, student_ids, now=rt.clock.utc_now()
        )

    return fetch
