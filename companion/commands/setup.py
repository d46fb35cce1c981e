"""``companion setup``: store and verify Timeback client credentials for an environment.

The secret is prompted for without echo, or read from stdin when stdin is not a terminal
(for scripts). The credentials are verified by fetching a token before anything is stored;
they go to the OS keyring only, never to a file a student could read.

On a classroom computer with the machine service, an administrator runs it with
``--machine`` (the default when it runs as root, or as the service account, on a computer
that has the service account and no ``COMPANION_DATA_DIR``/``COMPANION_CONFIG_DIR``): the
credentials then go to the service account's machine store
(``companion.system.machine_credentials``: on Linux files only that account can read, in
``--state-dir``, by default ``$STATE_DIRECTORY`` or ``/var/lib/timeback-companion``), where
``companion service`` reads them.

For scripted roll-out, ``--from FILE`` reads them from a TOML file only its owner can read
(an administrator's; a file others may read is refused), or ``--from -`` from standard
input::

    client_id = "..."
    client_secret = "..."
    scope = "..."          # optional

``--no-check`` stores them without the network check (computers prepared offline);
``companion doctor`` checks them later.
"""

from __future__ import annotations

import argparse
import getpass
import os
import stat
import sys
import tomllib
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, TextIO

import httpx

from companion.config import ConfigError, load_config
from companion.system.machine_credentials import (
    CredentialsError,
    MachineCredentials,
    put_client,
    service_account,
    store_for_administrator,
)
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
    p.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        default=None,
        help="read client_id and client_secret from a TOML file only its owner "
        "can read, or '-' for standard input",
    )
    p.add_argument(
        "--machine",
        action="store_true",
        default=None,
        help="store them for the machine service (an administrator's set-up of a classroom "
        "computer); the default as root on a computer with the service account",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help=f"the service's data folder (default $STATE_DIRECTORY, else {DEFAULT_STATE_DIR})",
    )
    p.add_argument(
        "--no-check",
        action="store_true",
        help="store without checking them with the server (companion doctor checks later)",
    )
    p.set_defaults(func=run)


DEFAULT_STATE_DIR = Path("/var/lib/timeback-companion")


def for_the_machine(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the credentials go to the machine service's store: ``--machine``, or an
    administrator (root) or the service account itself on a computer with the service
    account, unless the data or config folder is redirected (tests, support)."""
    chosen = getattr(args, "machine", None)
    if chosen is not None:
        return bool(chosen)
    source = os.environ if environ is None else environ
    if source.get("COMPANION_DATA_DIR") or source.get("COMPANION_CONFIG_DIR"):
        return False
    account = service_account() if os.name == "posix" else None
    return account is not None and os.geteuid() in (0, account[0])


def state_dir(args: argparse.Namespace) -> Path:
    """The machine service's data folder."""
    given: Path | None = getattr(args, "state_dir", None)
    return given or Path(os.environ.get("STATE_DIRECTORY") or DEFAULT_STATE_DIR)


class CredentialsFileError(Exception):
    """The credentials file is missing, readable by others or malformed."""


def readable_by_others(mode: int) -> bool:
    """True if a file with ``mode`` can be read (or changed) by its group or anyone."""
    return bool(mode & (stat.S_IRWXG | stat.S_IRWXO))


def read_credentials_file(name: str, stdin: TextIO) -> tuple[str, str, str | None]:
    """client id, secret and scope from ``name`` (``-``: ``stdin``)."""
    if name == "-":
        text = stdin.read()
        where = "standard input"
    else:
        path = Path(name)
        try:
            with path.open("rb") as handle:
                mode = os.fstat(handle.fileno()).st_mode
                if os.name == "posix" and readable_by_others(mode):
                    raise CredentialsFileError(
                        f"{path} can be read by other users (mode {stat.S_IMODE(mode):04o}); "
                        f"only its owner may read a credentials file: chmod 600 {path}"
                    )
                raw = handle.read()
        except OSError as exc:
            raise CredentialsFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
        text = raw.decode("utf-8", errors="replace")
        where = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CredentialsFileError(f"{where}: not valid TOML: {exc}") from exc
    unknown = set(data) - {"client_id", "client_secret", "scope"}
    if unknown:
        raise CredentialsFileError(f"{where}: unknown key(s): {', '.join(sorted(unknown))}")
    client_id, secret, scope = (data.get("client_id"), data.get("client_secret"), data.get("scope"))
    if (
        not isinstance(client_id, str)
        or not client_id.strip()
        or not isinstance(secret, str)
        or not secret.strip()
    ):
        raise CredentialsFileError(
            f"{where}: client_id and client_secret must be non-empty strings"
        )
    if scope is not None and not isinstance(scope, str):
        raise CredentialsFileError(f"{where}: scope must be a string")
    return client_id.strip(), secret.strip(), scope


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
    machine = for_the_machine(args)
    store: Callable[[Credentials, str], int]
    if machine:
        try:
            target = store_for_administrator(state_dir(args))
        except (CredentialsError, OSError) as exc:
            print(f"error: the machine store cannot be used: {exc}", file=err)
            return 1
        store = partial(_store_for_service, target, environment.name, out=out, err=err)
    else:
        try:
            ensure_keyring()
        except KeyringUnavailableError as exc:
            print(f"error: {exc}", file=err)
            return 1
        store = partial(_store, environment.name, out=out, err=err)

    scope: str | None = args.scope
    from_file: str | None = getattr(args, "from_file", None)
    if from_file is not None:
        try:
            client_id, secret, file_scope = read_credentials_file(from_file, stdin)
        except CredentialsFileError as exc:
            print(f"error: {exc}; nothing stored", file=err)
            return 2
        scope = scope or file_scope
    else:
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
    if getattr(args, "no_check", False):
        return store(credentials, " without checking them (companion doctor checks them)")
    print(f"Checking the credentials with {environment.token_url} ...", file=out)
    try:
        verify_credentials(environment, credentials, scope=scope, transport=transport)
    except UnauthorisedError:
        print(
            f"error: {environment.name} refused this client id or secret; nothing stored",
            file=err,
        )
        return 1
    except TimebackError as exc:
        print(f"error: could not check the credentials: {exc}; nothing stored", file=err)
        return 1
    return store(credentials, "")


def _store_for_service(
    target: MachineCredentials,
    env: str,
    credentials: Credentials,
    how: str,
    *,
    out: TextIO,
    err: TextIO,
) -> int:
    try:
        put_client(target, env, credentials.client_id, credentials.client_secret)
    except (CredentialsError, OSError) as exc:
        print(f"error: could not write the machine store: {exc}", file=err)
        return 1
    print(
        f"Stored the {env} credentials for client {credentials.client_id!r} for the machine "
        f"service: {target.where()}{how}. Restart it: systemctl restart timeback-companion",
        file=out,
    )
    return 0


def _store(env: str, credentials: Credentials, how: str, *, out: TextIO, err: TextIO) -> int:
    try:
        store_credentials(env, credentials)
    except KeyringUnavailableError as exc:
        print(f"error: {exc}", file=err)
        return 1
    print(
        f"Stored the {env} credentials for client {credentials.client_id!r} in the OS "
        f"keyring (service {service_name(env)!r}){how}.",
        file=out,
    )
    return 0
