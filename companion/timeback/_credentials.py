"""Client credentials per environment: built in for the sandbox, the OS keyring otherwise.

Secrets live only in the OS keyring (service ``timeback-companion-<env>``, two entries:
``client_id`` and ``client_secret``), never in files or SQLite. If the keyring has no
usable backend, or only a plaintext one, we say so and store nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from ._errors import CredentialsMissingError, KeyringUnavailableError

SERVICE_PREFIX = "timeback-companion"
_ID_KEY = "client_id"
_SECRET_KEY = "client_secret"


@dataclass(frozen=True)
class Credentials:
    """An OAuth2 client id and secret (the secret is kept out of ``repr``)."""

    client_id: str
    client_secret: str = field(repr=False)


SANDBOX_CREDENTIALS = Credentials("sandbox-client", "sandbox-secret")


def service_name(environment: str) -> str:
    """The keyring service name for an environment, e.g. ``timeback-companion-staging``."""
    return f"{SERVICE_PREFIX}-{environment}"


def ensure_keyring() -> KeyringBackend:
    """The active keyring backend, or KeyringUnavailableError if it cannot keep secrets."""
    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    backends = list(getattr(backend, "backends", [backend]))  # a ChainerBackend wraps others
    modules = [type(b).__module__ for b in backends]
    if not backends or any(m.startswith("keyring.backends.fail") for m in modules):
        raise KeyringUnavailableError(
            "no OS keyring is available to keep the Timeback secret "
            f"(keyring backend: {name}). Install or unlock one (Windows Credential Manager, "
            "macOS Keychain, or a Secret Service such as GNOME Keyring or KWallet); "
            "the secret is never stored in a file."
        )
    if any(m.startswith("keyrings.alt") for m in modules):
        raise KeyringUnavailableError(
            f"the keyring backend {name} stores secrets in plain files; refusing to use it"
        )
    return backend


def load_credentials(environment: str) -> Credentials:
    """The credentials for ``environment``.

    Raises CredentialsMissingError when none are stored and KeyringUnavailableError when
    there is no usable keyring. The sandbox never touches the keyring.
    """
    if environment == "sandbox":
        return SANDBOX_CREDENTIALS
    backend = ensure_keyring()
    service = service_name(environment)
    try:
        client_id = backend.get_password(service, _ID_KEY)
        secret = backend.get_password(service, _SECRET_KEY)
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailableError(f"could not read the keyring: {exc}") from exc
    if not client_id or not secret:
        raise CredentialsMissingError(
            f"no Timeback credentials stored for {environment}; "
            f"run: companion --env {environment} setup"
        )
    return Credentials(client_id, secret)


def store_credentials(environment: str, credentials: Credentials) -> None:
    """Keep ``credentials`` for ``environment`` in the OS keyring (not for the sandbox)."""
    if environment == "sandbox":
        raise ValueError("the sandbox's credentials are built in and are never stored")
    if not credentials.client_id or not credentials.client_secret:
        raise ValueError("client id and secret must not be empty")
    backend = ensure_keyring()
    service = service_name(environment)
    try:
        backend.set_password(service, _SECRET_KEY, credentials.client_secret)
        backend.set_password(service, _ID_KEY, credentials.client_id)
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailableError(f"could not write to the keyring: {exc}") from exc


def delete_credentials(environment: str) -> None:
    """Remove the stored credentials for ``environment``; nothing stored is not an error."""
    if environment == "sandbox":
        return
    backend = ensure_keyring()
    service = service_name(environment)
    for key in (_ID_KEY, _SECRET_KEY):
        try:
            backend.delete_password(service, key)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailableError(f"could not write to the keyring: {exc}") from exc
