"""``companion service``: the machine service, headless, as its own OS account.

It owns the environment's database in ``--data-dir`` (``$STATE_DIRECTORY`` under systemd),
the service account's secrets (``companion.system.machine_credentials``) and, when
credentials are there, delivery; it serves every account of this computer on the Unix
socket ``--socket`` (``$RUNTIME_DIRECTORY/service.sock`` under systemd). It prints
``listening on PATH`` on stdout once clients can connect, and stops on SIGTERM or SIGINT.

``--demo-school`` fills an empty sandbox database with the demo school, its PINs (students
1234, guides 9999) and the demo lessons: for the demo and the tests, never for a school.
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
from typing import Any

from companion.core.answer_key import AnswerKey
from companion.core.clock import Clock
from companion.service.authority import StoreAuthority
from companion.service.endpoint import Housekeeper, UnixEndpoint
from companion.service.handler import Service
from companion.service.tokens import TokenSigner
from companion.store.db import Database
from companion.system.machine_credentials import MachineCredentials, machine_credentials

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


@dataclass
class Hosted:
    """A service built on a data folder, and what must be closed after it."""

    service: Service
    db: Database
    credentials: MachineCredentials
    lesson_ids: list[str] = field(default_factory=list)
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for closer in reversed(self.closers):
            closer()
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
) -> Hosted:
    """The service on ``data_dir``: database, lessons, PINs, credentials, delivery."""
    from companion.content import demo_lessons_path, load_library
    from companion.store.runs import EventContext
    from companion.timeback import sandbox_environment

    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    db = Database.open(data_dir / f"companion-{env}.sqlite3", env)
    store = machine_credentials(data_dir)
    try:
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
        ctx = EventContext(
            oneroster_base=sandbox_environment().oneroster_base
            if env == "sandbox"
            else _configured_base(env)
        )
        authority = StoreAuthority(
            db,
            clock,
            ctx,
            library.catalogue,
            keys=keys,
            credentials_present=lambda: store.get(f"{env}.client_secret") is not None,
        )
        signer = TokenSigner(token_key(store), clock)
        extra = {} if slack_ms is None else {"slack_ms": slack_ms}
        service = Service(authority, clock, signer, version=_version(), **extra)
    except BaseException:
        db.close()
        raise
    return Hosted(service, db, store, [lesson.id for lesson in library.catalogue.lessons])


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"timeback-companion {version('timeback-companion')}"
    except PackageNotFoundError:
        return "timeback-companion"


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
    try:
        hosted = build_service(data_dir, env, SystemClock(), demo_school=args.demo_school)
    except Exception as exc:
        print(f"error: the service cannot start: {exc}", file=sys.stderr)
        return 1
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
    print(f"listening on {socket_path}", flush=True)
    try:
        stop.wait()
    finally:
        keeper.stop()
        endpoint.close()
        hosted.close()
    return 0
