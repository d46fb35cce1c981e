"""``companion service``: the machine service, headless, as its own OS account.

It owns the environment's database in ``--data-dir`` (``$STATE_DIRECTORY`` under systemd)
and holds its lease (one owner of the open runs and the deliveries), the service account's
secrets (``companion.system.machine_credentials``) and, when the organisation's credentials
are there, delivery and the roster refresh (``companion.service.delivery``), whether or not
an app is open. It serves every account of this computer on the Unix socket ``--socket``
(``$RUNTIME_DIRECTORY/service.sock`` under systemd). It prints ``listening on PATH`` on
stdout once clients can connect, and stops on SIGTERM or SIGINT.

On the sandbox the credentials are the sandbox's own, and events go to the sandbox the
configuration names (``COMPANION_SANDBOX_URL``, or ``COMPANION_SANDBOX_BASE_URL`` / the
config file's ``base_url``). ``--demo-school`` fills an empty sandbox database with the demo
school, its PINs (students 1234, guides 9999) and the demo lessons, and, when no sandbox is
named, starts one inside the service, as the app does for the demo: for the demo and the
tests, never for a school.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from companion.core.answer_key import AnswerKey
from companion.core.clock import Clock
from companion.core.environments import Environment
from companion.service.authority import StoreAuthority
from companion.service.delivery import ServiceDelivery
from companion.service.endpoint import Housekeeper, UnixEndpoint
from companion.service.handler import DEFAULT_SLACK_MS, Service
from companion.service.tokens import TokenSigner
from companion.store.db import Database
from companion.store.lease import Lease, LeaseKeeper, ProcessProbe
from companion.store.runs import EventContext
from companion.system.machine_credentials import MachineCredentials, machine_credentials

if TYPE_CHECKING:
    from companion.sandbox.server import SandboxHandle

log = logging.getLogger("companion.service")

DEFAULT_DATA_DIR = Path("/var/lib/timeback-companion")
DEFAULT_SOCKET = Path("/run/timeback-companion/service.sock")
TOKEN_KEY = "service-token-key"
DEMO_STUDENT_PIN = "1234"
DEMO_GUIDE_PIN = "9999"


def register(subparsers: Any, name: str, help_text: str) -> None:
    """Add the ``service`` subcommand."""
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text)
    p.add_argument(
        "--socket",
        type=Path,
        default=None,
        help=f"the socket to listen on (default $RUNTIME_DIRECTORY/service.sock, "
        f"else {DEFAULT_SOCKET})",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"the service's data folder (default $STATE_DIRECTORY, else {DEFAULT_DATA_DIR})",
    )
    p.add_argument(
        "--demo-school",
        action="store_true",
        help="fill an empty sandbox database with the demo school and lessons",
    )
    p.add_argument(
        "--housekeeping",
        type=float,
        default=15.0,
        metavar="SECONDS",
        help="how often abandoned lessons are closed and settled time reported",
    )
    p.set_defaults(func=run)


class CannotStart(Exception):
    """The service cannot start on this data folder; the message says why."""


@dataclass
class Hosted:
    """A service built on a data folder, and what must be closed after it."""

    service: Service
    db: Database
    credentials: MachineCredentials
    lesson_ids: list[str] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)
    delivery: ServiceDelivery | None = None

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()
        self.closers.clear()
        self.db.close()


def token_key(store: MachineCredentials) -> bytes:
    """The service's token key from its credential store, made on first use."""
    found = store.get(TOKEN_KEY)
    if found:
        return bytes.fromhex(found)
    key = secrets.token_bytes(32)
    store.put(TOKEN_KEY, key.hex())
    return key


def build_service(
    data_dir: Path,
    env: str,
    clock: Clock,
    *,
    demo_school: bool = False,
    slack_ms: int | None = None,
    environment: Environment | None = None,
    school_id: str | None = None,
) -> Hosted:
    """The service on ``data_dir``: database and its lease, lessons, PINs, credentials, and
    with an ``environment`` to deliver to, delivery and the roster refresh (not started:
    ``Hosted.delivery.start()``). CannotStart when another process owns the database."""
    from companion.content import demo_lessons_path, load_library
    from companion.system.processes import ThisComputer
    from companion.timeback import sandbox_environment

    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    db = Database.open(data_dir / f"companion-{env}.sqlite3", env)
    closers: list[Callable[[], None]] = []
    try:
        held = HeldLease.take(db, ThisComputer())
        closers.append(held.close)
        store = machine_credentials(data_dir)
        if demo_school:
            _seed_demo(db, clock)
        folders = [demo_lessons_path()] if demo_school else []
        if (data_dir / "library").is_dir():
            folders.append(data_dir / "library")
        library = load_library(folders, data_dir / "lesson-cache")
        for problem in library.errors:
            log.warning("lesson not loaded: %s", problem)
        keys: dict[str, AnswerKey] = {
            lesson_id: bundle.answer_key
            for lesson_id, bundle in library.bundles.items()
            if bundle.answer_key is not None
        }
        if environment is not None:
            base = environment.oneroster_base
        elif env == "sandbox":
            base = sandbox_environment().oneroster_base
        else:
            base = _configured_base(env)
        ctx = EventContext(oneroster_base=base)
        delivery = None
        if environment is not None:
            school = school_id or _school(db, env, demo_school)
            delivery = _delivery(db, store, environment, held.lease, ctx, school, clock)
        if delivery is not None:
            closers.append(delivery.close)
        secret_name = f"{env}.client_secret"
        authority = StoreAuthority(
            db,
            clock,
            ctx,
            library.catalogue,
            keys=keys,
            sync_now=None if delivery is None else delivery.sync_now,
            run_closed=None if delivery is None else delivery.run_closed,
            credentials_present=lambda: store.get(secret_name) is not None,
        )
        signer = TokenSigner(token_key(store), clock)
        slack = DEFAULT_SLACK_MS if slack_ms is None else slack_ms
        service = Service(authority, clock, signer, version=_version(), slack_ms=slack)
    except BaseException:
        for closer in reversed(closers):
            closer()
        db.close()
        raise
    lesson_ids = [lesson.id for lesson in library.catalogue.lessons]
    return Hosted(service, db, store, lesson_ids, closers, delivery)


@dataclass
class HeldLease:
    """The database's lease, held and renewed on a thread until ``close``."""

    lease: Lease
    keeper: LeaseKeeper

    @classmethod
    def take(cls, db: Database, processes: ProcessProbe) -> HeldLease:
        """CannotStart when another process holds it (a holder that is gone is not one)."""
        lease = Lease(db, processes=processes)
        if not lease.try_acquire():
            holder = lease.holder()
            where = f"pid {holder.pid} on {holder.host}" if holder else "another process"
            raise CannotStart(f"{where} owns {db.path}; stop it first")
        keeper = LeaseKeeper(lease)
        keeper.start()
        return cls(lease, keeper)

    def close(self) -> None:
        self.keeper.stop()
        if self.lease.held:
            self.lease.release()


def _delivery(
    db: Database,
    store: MachineCredentials,
    environment: Environment,
    lease: Lease,
    ctx: EventContext,
    school_id: str | None,
    clock: Clock,
) -> ServiceDelivery | None:
    """Delivery on the machine store's credentials (the sandbox's are built in); None,
    said in the log, when there are none yet."""
    from companion.service.delivery import wire_delivery
    from companion.system.machine_credentials import get_client
    from companion.timeback import SANDBOX_CREDENTIALS, Credentials

    if environment.name == "sandbox":
        credentials = SANDBOX_CREDENTIALS
    else:
        found = get_client(store, environment.name)
        if found is None:
            log.warning(
                "no %s credentials in %s: events wait in the outbox until an administrator "
                "runs `companion --env %s setup --machine`",
                environment.name,
                store.where(),
                environment.name,
            )
            return None
        credentials = Credentials(*found)
    wired = wire_delivery(
        db, environment, credentials, lease=lease, ctx=ctx, school_id=school_id, clock=clock
    )
    return ServiceDelivery(wired)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"timeback-companion {version('timeback-companion')}"
    except PackageNotFoundError:
        return "timeback-companion"


def delivery_target(env: str, demo_school: bool) -> tuple[Environment, SandboxHandle | None]:
    """Where the service delivers: the configured environment (on the sandbox,
    ``COMPANION_SANDBOX_URL`` first); for the demo with no sandbox named, a sandbox started
    here with the demo school (stop it after the service)."""
    from companion.commands._sandbox import SANDBOX_URL_VAR
    from companion.config import load_config
    from companion.core.environments import env_var_name
    from companion.timeback import sandbox_environment

    config = load_config()
    if env != "sandbox":
        return config.environment_for(env), None
    url = os.environ.get(SANDBOX_URL_VAR)
    if url:
        return sandbox_environment(url), None
    named = "base_url" in config.url_overrides.get("sandbox", {}) or os.environ.get(
        env_var_name("sandbox", "base_url")
    )
    if named or not demo_school:
        return config.environment_for("sandbox"), None
    from companion.sandbox.server import start_in_thread

    handle = start_in_thread(port=0, seed="demo")
    return sandbox_environment(handle.base_url), handle


def _school(db: Database, env: str, demo_school: bool) -> str | None:
    """The school whose roster the service refreshes: this computer's (set-up), else the
    one last pulled; for the demo, the demo school when its roster is the one here."""
    from companion.config import ConfigError, load_config
    from companion.sandbox.seed import DEMO_SCHOOL_ID
    from companion.store import roster
    from companion.sync.roster_refresh import roster_status

    try:
        computer = load_config().computer(env)
    except ConfigError as exc:
        log.warning("the configuration cannot be read: %s", exc)
        computer = None
    if computer is not None:
        return computer.school_id
    recorded = roster_status(db).school_id
    if recorded:
        return recorded
    if demo_school and roster.classes(db, school_id=DEMO_SCHOOL_ID):
        return DEMO_SCHOOL_ID
    return None


def _configured_base(env: str) -> str:
    from companion.config import load_config

    return load_config().environment_for(env).oneroster_base


def _seed_demo(db: Database, clock: Clock) -> None:
    from companion.sandbox.seed import seed_demo
    from companion.session.signin import seed_demo_pins
    from companion.store import roster

    if db.env != "sandbox":
        raise ValueError("the demo school is only for the sandbox environment")
    if not roster.classes(db):
        data = seed_demo()
        roster.replace_roster(
            db, data["orgs"], data["users"], data["classes"], data["enrollments"], data["courses"]
        )
    seed_demo_pins(db, DEMO_STUDENT_PIN, DEMO_GUIDE_PIN, now=clock.utc_now())


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM/SIGINT; 0 after a clean stop, 1 when it cannot start."""
    from companion.core.clock import SystemClock

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    data_dir = args.data_dir or Path(os.environ.get("STATE_DIRECTORY") or DEFAULT_DATA_DIR)
    runtime = os.environ.get("RUNTIME_DIRECTORY")
    socket_path = args.socket or (Path(runtime) / "service.sock" if runtime else DEFAULT_SOCKET)
    env = args.env or "sandbox"
    sandbox: SandboxHandle | None = None
    try:
        environment, sandbox = delivery_target(env, args.demo_school)
        hosted = build_service(
            data_dir, env, SystemClock(), demo_school=args.demo_school, environment=environment
        )
    except Exception as exc:
        if sandbox is not None:
            sandbox.stop()
        print(f"error: the service cannot start: {exc}", file=sys.stderr)
        return 1
    if sandbox is not None:
        hosted.closers.insert(0, sandbox.stop)  # stopped after delivery
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    endpoint = UnixEndpoint(hosted.service, socket_path)
    keeper = Housekeeper(hosted.service, args.housekeeping)
    try:
        endpoint.start()
    except OSError as exc:
        print(f"error: cannot listen on {socket_path}: {exc}", file=sys.stderr)
        hosted.close()
        return 1
    keeper.start()
    if hosted.delivery is not None:
        hosted.delivery.start()
    print(f"listening on {socket_path}", flush=True)
    try:
        stop.wait()
    finally:
        keeper.stop()
        endpoint.close()
        hosted.close()
    return 0
