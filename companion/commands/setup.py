"""``companion setup``: store and verify Timeback client credentials for an environment.

The secret is prompted for without echo, or read from stdin when stdin is not a terminal
(for scripts). The credentials are verified by fetching a token before anything is stored;
they go to the OS keyring only, never to a file.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any, TextIO

import httpx

from companion.config import ConfigError, load_config
from companion.timeback import (
    Credentials,
    KeyringUnavailableError,
    TimebackError,
    UnauthorisedError,
    ensure_keyring,
    service_name,
    store_credentials,
    verify_credentials,
)


def register(subparsers: Any, name: str, help_text: str) -> None:
    """Add the ``setup`` subcommand."""
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text)
    p.add_argument("--client-id", help="OAuth2 client id (prompted for if omitted)")
    p.add_argument("--scope", default=None, help="OAuth2 scope to ask for (optional)")
    p.set_defaults(func=run)


def _read_secret(stdin: TextIO, stderr: TextIO) -> str:
    if stdin.isatty():
        return getpass.getpass("Client secret: ", stream=stderr)
    return stdin.readline().strip()


def run(
    args: argparse.Namespace,
    *,
    transport: httpx.BaseTransport | None = None,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Store verified credentials; 0 on success, 1 on failure (nothing stored), 2 on misuse."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        config = load_config()
        name: str = args.env or config.environment
        environment = config.environment_for(name)
    except (ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=err)
        return 1
    if not environment.uses_keyring:
        print("The sandbox's credentials are built in; nothing to store.", file=out)
        return 0
    try:
        ensure_keyring()
    except KeyringUnavailableError as exc:
        print(f"error: {exc}", file=err)
        return 1

    client_id = (args.client_id or "").strip()
    if not client_id:
        if not stdin.isatty():
            print("error: give --client-id when the secret comes from stdin", file=err)
            return 2
        print("Client id: ", end="", file=err, flush=True)
        client_id = stdin.readline().strip()
    secret = _read_secret(stdin, err)
    if not client_id or not secret:
        print("error: client id and secret must not be empty; nothing stored", file=err)
        return 2

    credentials = Credentials(client_id, secret)
    print(f"Checking the credentials with {environment.token_url} ...", file=out)
    try:
        verify_credentials(environment, credentials, scope=args.scope, transport=transport)
    except UnauthorisedError:
        print(
            f"error: {environment.name} refused this client id or secret; nothing stored",
            file=err,
        )
        return 1
    except TimebackError as exc:
        print(f"error: could not check the credentials: {exc}; nothing stored", file=err)
        return 1
    try:
        store_credentials(environment.name, credentials)
    except KeyringUnavailableError as exc:
        print(f"error: {exc}", file=err)
        return 1
    print(
        f"Stored the {environment.name} credentials for client {client_id!r} in the OS "
        f"keyring (service {service_name(environment.name)!r}).",
        file=out,
    )
    return 0
