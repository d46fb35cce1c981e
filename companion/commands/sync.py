"""``companion sync [--once]``: deliver pending learning events now, in the foreground.

It sends only while holding the database's lease: beside a running app it says so and
exits (or, with ``--wait``, waits for the lease). Progress goes to stderr ("sent 300/1000"),
a summary to stdout. For the sandbox environment a running sandbox is needed: ``--url``,
else ``COMPANION_SANDBOX_URL`` or the config file's ``[environments.sandbox] base_url``.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, TextIO

import httpx

from companion.commands._sandbox import SANDBOX_URL_VAR, running_app_sandbox_url
from companion.config import ConfigError, load_config
from companion.core.caliper import DEFAULT_APP
from companion.store import outbox
from companion.store.db import Database, StoreError
from companion.store.paths import database_path
from companion.sync.settings import SyncSettings
from companion.sync.status import SyncState, SyncStatus
from companion.sync.worker import SyncWorker
from companion.system.processes import ThisComputer
from companion.timeback import (
    Environment,
    TimebackError,
    auth_for,
    caliper_client,
    gradebook_client,
    sandbox_environment,
)

EXIT_OK, EXIT_FAILED, EXIT_LEASE = 0, 1, 3


def register(subparsers: Any, name: str, help_text: str) -> None:
    """Add the ``sync`` subcommand."""
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text)
    p.add_argument("--once", action="store_true",
                   help="one pass: stop at the first failure instead of retrying")
    p.add_argument("--url", default=None, help="the sandbox's base URL (sandbox only)")
    p.add_argument("--wait", action="store_true",
                   help="if the app is delivering, wait for it to stop instead of exiting")
    p.add_argument("--settle", type=float, default=None, metavar="SECONDS",
                   help="how long an uncertain send may take to appear (default 600)")
    p.set_defaults(func=run)


def _sandbox_url(args: argparse.Namespace, configured: str | None) -> str | None:
    return args.url or os.environ.get(SANDBOX_URL_VAR) or configured or running_app_sandbox_url()


def _environment(args: argparse.Namespace, err: TextIO) -> Environment | None:
    config = load_config()
    name: str = args.env or config.environment
    if name != "sandbox":
        return config.environment_for(name)
    url = _sandbox_url(args, config.url_overrides.get("sandbox", {}).get("base_url"))
    if not url:
        print("error: the sandbox is not running (no --url, no COMPANION_SANDBOX_URL and no "
              "[environments.sandbox] base_url in the config). Start it in another terminal "
              "with `companion sandbox` and pass its address: "
              "companion sync --url http://127.0.0.1:8787", file=err)
        return None
    return sandbox_environment(url)


def _progress(err: TextIO, total: int) -> Any:
    last: list[str] = []

    def show(status: SyncStatus) -> None:
        line = f"sent {status.sent}/{total}"
        if status.state not in (SyncState.SENDING, SyncState.IDLE):
            line += f" ({status.state.value}{': ' + status.reason if status.reason else ''})"
        if not last or last[-1] != line:
            last.append(line)
            print(line, file=err, flush=True)

    return show


def run(
    args: argparse.Namespace,
    *,
    transport: httpx.BaseTransport | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Deliver; 0 when nothing is left undelivered, 1 on failure or when what is left is
    held (it says what and why), 3 when the lease is held."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        environment = _environment(args, err)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return EXIT_FAILED
    if environment is None:
        return EXIT_FAILED
    try:
        db = Database.open(database_path(environment.name), environment.name)
    except StoreError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_FAILED
    try:
        return _deliver(args, db, environment, transport, out, err)
    finally:
        db.close()


def _deliver(args: argparse.Namespace, db: Database, environment: Environment,
             transport: httpx.BaseTransport | None, out: TextIO, err: TextIO) -> int:
    try:
        auth = auth_for(environment)
    except TimebackError as exc:
        print(f"error: {exc.message}", file=err)
        return EXIT_FAILED
    settings = SyncSettings(start_delay_max_s=0,
                            **({"settle_s": args.settle} if args.settle is not None else {}))
    with caliper_client(environment, auth, sensor=DEFAULT_APP.sensor,
                        transport=transport) as client, gradebook_client(
                            environment, auth, transport=transport) as gradebook:
        worker = SyncWorker(db, client, settings=settings, on_unauthorised=auth.invalidate,
                            processes=ThisComputer(),
                            results_api=gradebook)
        try:
            if not worker.acquire():
                holder = worker.status.current.lease_holder
                if not args.wait:
                    print(f"Not sending: {holder} is delivering this computer's events "
                          "(the app is running). Use --wait to wait for it.", file=err)
                    return EXIT_LEASE
                print(f"Waiting: {holder} is delivering events...", file=err)
            counts = outbox.counts(db)
            total = sum(counts[state.value] for state in outbox.UNDONE)
            worker.status.subscribe(_progress(err, total))
            try:
                status = worker.run_until_idle(give_up_when_failing=args.once)
            except KeyboardInterrupt:
                status = worker.status.current
        finally:
            worker.close()
    left = status.pending + status.in_flight + status.settling
    print(f"{status.sent} sent, {left} left to send, {status.held} held, "
          f"{status.dead} refused (see `companion outbox list`)", file=out)
    for group in status.waiting:
        if group.state == "held":
            print(f"held: {group.text()}", file=out)
    if status.reason and status.state is not SyncState.IDLE:
        print(f"last problem: {status.reason}", file=out)
    return EXIT_OK if left == 0 and status.held == 0 else EXIT_FAILED
