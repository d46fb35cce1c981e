"""The machine credential store: secrets of the service account, out of every student's reach.

One interface, ``MachineCredentials`` (``get``, ``put``, ``where``), three places:

- **Linux** (``FileCredentials``): one file per secret in a folder only the service
  account can open (mode 0700), each file mode 0600 and owned by the service account. A
  file that is a symlink, owned by someone else, or readable or writable by the group or
  others is refused on reading (``UnsafeCredentials``) rather than trusted. Under systemd,
  secrets given with ``LoadCredential=``/``LoadCredentialEncrypted=`` appear in
  ``$CREDENTIALS_DIRECTORY`` (``SystemdCredentials``, read-only) and are used first.
- **Windows** (``WindowsCredentials``): the service account's Credential Manager, through
  the ``CredRead``/``CredWrite`` calls of pywin32's ``win32cred`` (behind ``WinCredApi``).
- **macOS** (``KeychainCredentials``): the System keychain, through the ``security`` tool;
  the secret is written on ``security -i``'s standard input, never on a command line.

The Windows and macOS stores are type-checked here but have not run on this project's
machines (Linux only).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

SERVICE_NAME = "timeback-companion"
SYSTEMD_VARIABLE = "CREDENTIALS_DIRECTORY"
MAX_SECRET_BYTES = 64 * 1024


class CredentialsError(Exception):
    """The store cannot be used; the message says why."""


class UnsafeCredentials(CredentialsError):
    """A secret's file could be read or replaced by someone other than its owner."""


class MachineCredentials(Protocol):
    """Secrets of the service account, by name (``production.client_secret``, ...)."""

    def get(self, name: str) -> str | None:
        """The secret, or None when none is stored. CredentialsError if unsafe."""
        ...

    def put(self, name: str, value: str) -> None:
        """Store (or replace) a secret."""
        ...

    def where(self) -> str:
        """Where the secrets are, in words (for ``companion doctor``); never a secret."""
        ...


def _check_name(name: str) -> str:
    if (
        not name
        or len(name) > 100
        or not all(c.isalnum() or c in "._-" for c in name)
        or name.startswith(".")
    ):
        raise ValueError(f"not a credential name: {name!r}")
    return name


class FileCredentials:
    """Secrets as files in ``folder`` (Linux): 0700 folder, 0600 files, owner checked.

    ``owner`` (uid, gid): the account the files are written for, when an administrator
    (root) writes them for the service account; None: the account writing them.
    """

    def __init__(self, folder: Path, owner: tuple[int, int] | None = None) -> None:
        self.folder = folder
        self.owner = owner

    def where(self) -> str:
        return f"files in {self.folder} (only the service account can read them)"

    def get(self, name: str) -> str | None:
        path = self.folder / _check_name(name)
        self._check_folder(create=False)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CredentialsError(f"cannot open {path}: {exc.strerror}") from exc
        try:
            info = os.fstat(fd)
            _check_private(path, info, None if self.owner is None else self.owner[0])
            data = os.read(fd, MAX_SECRET_BYTES + 1)
        finally:
            os.close(fd)
        if len(data) > MAX_SECRET_BYTES:
            raise CredentialsError(f"{path} is too large for a secret")
        return data.decode().rstrip("\n")

    def put(self, name: str, value: str) -> None:
        path = self.folder / _check_name(name)
        self._check_folder(create=True)
        temp = path.with_name(f".{path.name}.new")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
        fd = os.open(temp, flags, 0o600)
        try:
            os.fchmod(fd, 0o600)
            if self.owner is not None:
                os.fchown(fd, *self.owner)
            os.write(fd, value.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)

    def _check_folder(self, create: bool) -> None:
        if create and not self.folder.exists():
            self.folder.mkdir(mode=0o700, parents=True)
            os.chmod(self.folder, 0o700)
            if self.owner is not None:
                os.chown(self.folder, *self.owner)
        try:
            info = os.lstat(self.folder)
        except FileNotFoundError:
            return
        if not stat.S_ISDIR(info.st_mode):
            raise UnsafeCredentials(f"{self.folder} is not a folder")
        _check_private(self.folder, info, None if self.owner is None else self.owner[0])


def _check_private(path: Path, info: os.stat_result, uid: int | None = None) -> None:
    """Refuse ``path`` unless it belongs to ``uid`` (default: this account) and is private."""
    geteuid = getattr(os, "geteuid", None)
    expected = uid if uid is not None else geteuid() if geteuid is not None else None
    if expected is not None and info.st_uid != expected:
        raise UnsafeCredentials(
            f"{path} belongs to uid {info.st_uid}, not to the service account; refusing to trust it"
        )
    if info.st_mode & 0o077:
        raise UnsafeCredentials(
            f"{path} can be opened by other accounts (mode "
            f"{stat.S_IMODE(info.st_mode):o}); refusing to use it. "
            f"Make it private: chmod go-rwx {path}"
        )


class SystemdCredentials:
    """systemd's ``$CREDENTIALS_DIRECTORY`` (``LoadCredential=``): read-only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def where(self) -> str:
        return f"systemd credentials in {self.folder}"

    def get(self, name: str) -> str | None:
        path = self.folder / _check_name(name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        return data.decode().rstrip("\n")

    def put(self, name: str, value: str) -> None:
        raise CredentialsError(
            "systemd credentials are set in the unit (LoadCredential=), not by the service"
        )


class Layered:
    """Read from the first store that has the secret; write to the last one."""

    def __init__(self, stores: Sequence[MachineCredentials]) -> None:
        self.stores = list(stores)

    def where(self) -> str:
        return ", then ".join(s.where() for s in self.stores)

    def get(self, name: str) -> str | None:
        for store in self.stores:
            value = store.get(name)
            if value is not None:
                return value
        return None

    def put(self, name: str, value: str) -> None:
        self.stores[-1].put(name, value)


class WinCredApi(Protocol):
    """The part of pywin32's ``win32cred`` used here."""

    CRED_TYPE_GENERIC: int
    CRED_PERSIST_LOCAL_MACHINE: int

    def CredRead(self, TargetName: str, Type: int) -> dict[str, object]: ...

    def CredWrite(self, Credential: dict[str, object], Flags: int) -> None: ...


class WindowsCredentials:
    """The service account's Credential Manager (not run on this project's machines)."""

    def __init__(self, api: WinCredApi, prefix: str = SERVICE_NAME) -> None:
        self._api = api
        self._prefix = prefix

    def where(self) -> str:
        return "the service account's Windows Credential Manager"

    def get(self, name: str) -> str | None:
        try:
            found = self._api.CredRead(self._target(name), self._api.CRED_TYPE_GENERIC)
        except Exception as exc:  # pywintypes.error; ERROR_NOT_FOUND is 1168
            if getattr(exc, "winerror", None) == 1168:
                return None
            raise CredentialsError(f"Credential Manager: {exc}") from exc
        blob = found.get("CredentialBlob")
        if isinstance(blob, bytes):
            return blob.decode("utf-16-le")
        return None if blob is None else str(blob)

    def put(self, name: str, value: str) -> None:
        self._api.CredWrite(
            {
                "Type": self._api.CRED_TYPE_GENERIC,
                "TargetName": self._target(name),
                "UserName": name,
                "CredentialBlob": value,
                "Persist": self._api.CRED_PERSIST_LOCAL_MACHINE,
            },
            0,
        )

    def _target(self, name: str) -> str:
        return f"{self._prefix}/{_check_name(name)}"


SYSTEM_KEYCHAIN = "/Library/Keychains/System.keychain"


class KeychainCredentials:
    """The macOS System keychain through ``security`` (not run on this project's machines)."""

    def __init__(self, keychain: str = SYSTEM_KEYCHAIN, service: str = SERVICE_NAME) -> None:
        self._keychain = keychain
        self._service = service

    def where(self) -> str:
        return f"the System keychain ({self._keychain})"

    def get(self, name: str) -> str | None:
        done = subprocess.run(
            [
                "security",
                "find-generic-password",
                "-s",
                self._service,
                "-a",
                _check_name(name),
                "-w",
                self._keychain,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode == 44:  # errSecItemNotFound
            return None
        if done.returncode != 0:
            raise CredentialsError(f"security find-generic-password: {done.stderr.strip()}")
        return done.stdout.rstrip("\n")

    def put(self, name: str, value: str) -> None:
        if any(c in value for c in '\n"\\'):
            raise ValueError("a keychain secret here is one line without quotes")
        command = (
            f'add-generic-password -U -s "{self._service}" -a "{_check_name(name)}" '
            f'-w "{value}" "{self._keychain}"\n'
        )
        done = subprocess.run(
            ["security", "-i"], input=command, capture_output=True, text=True, check=False
        )
        if done.returncode != 0 or "error" in done.stderr.lower():
            raise CredentialsError("security add-generic-password failed")


def machine_credentials(state_dir: Path) -> MachineCredentials:
    """This computer's store for the service account.

    Linux: ``$CREDENTIALS_DIRECTORY`` when systemd set it, then files in
    ``state_dir/credentials``. Windows: Credential Manager. macOS: the System keychain.
    """
    if sys.platform == "win32":  # pragma: no cover - not run here
        import win32cred  # type: ignore[import-not-found]

        api: WinCredApi = win32cred
        return WindowsCredentials(api)
    if sys.platform == "darwin":  # pragma: no cover - not run here
        return KeychainCredentials()
    stores: list[MachineCredentials] = []
    systemd = os.environ.get(SYSTEMD_VARIABLE)
    if systemd:
        stores.append(SystemdCredentials(Path(systemd)))
    stores.append(FileCredentials(state_dir / "credentials"))
    return Layered(stores)


def client_names(env: str) -> tuple[str, str]:
    """The names the organisation's client id and secret for ``env`` are stored under."""
    return f"{env}.client_id", f"{env}.client_secret"


def get_client(store: MachineCredentials, env: str) -> tuple[str, str] | None:
    """The client id and secret for ``env``, or None when either is missing."""
    id_name, secret_name = client_names(env)
    client_id, secret = store.get(id_name), store.get(secret_name)
    return None if not client_id or not secret else (client_id, secret)


def put_client(store: MachineCredentials, env: str, client_id: str, secret: str) -> None:
    """Store the client id and secret for ``env`` (the secret first, as the keyring does)."""
    id_name, secret_name = client_names(env)
    store.put(secret_name, secret)
    store.put(id_name, client_id)


def service_account() -> tuple[int, int] | None:
    """The service account's uid and gid (Unix), or None when there is no such account."""
    try:
        import pwd
    except ImportError:  # pragma: no cover - Windows
        return None
    try:
        entry = pwd.getpwnam(SERVICE_NAME)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def store_for_administrator(state_dir: Path) -> MachineCredentials:
    """The service account's store, for an administrator (``companion setup --machine``).

    Linux: the files in ``state_dir/credentials``, written for the account that owns
    ``state_dir`` (the service account; systemd's ``StateDirectory``), or for the
    ``timeback-companion`` account when the folder is not there yet. Elsewhere: the
    machine's store (``machine_credentials``). CredentialsError when no service account
    can be found.
    """
    if sys.platform in ("win32", "darwin"):  # pragma: no cover - not run here
        return machine_credentials(state_dir)
    try:
        info = os.stat(state_dir)
    except FileNotFoundError:
        owner = service_account()
        if owner is None:
            raise CredentialsError(
                f"no service account {SERVICE_NAME!r} and no {state_dir}: install the "
                "service first (its package creates both)"
            ) from None
        state_dir.mkdir(mode=0o700, parents=True)
        os.chown(state_dir, *owner)
    else:
        owner = (info.st_uid, info.st_gid)
    if os.geteuid() not in (0, owner[0]):
        raise CredentialsError(
            f"only an administrator (root) or the service account may write {state_dir}"
        )
    return FileCredentials(state_dir / "credentials", owner)
