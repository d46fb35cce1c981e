"""A "staging" environment pointed at a running sandbox, and an in-memory keyring."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
import pytest
from keyring.backend import KeyringBackend

from companion.sandbox.server import SandboxHandle
from companion.timeback import env_var_name


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps passwords in a dict (what the OS keyring would hold)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.passwords.pop((service, username), None)


@contextmanager
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Install a ``MemoryKeyring`` for the duration."""
    before = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(before)


def point_staging_at(monkeypatch: pytest.MonkeyPatch, sandbox: SandboxHandle) -> None:
    """Make "staging" resolve to the sandbox's token, OneRoster and Caliper URLs."""
    base = sandbox.base_url.rstrip("/")
    monkeypatch.setenv(env_var_name("staging", "token_url"), f"{base}/oauth2/token")
    monkeypatch.setenv(env_var_name("staging", "oneroster_base"), base)
    monkeypatch.setenv(env_var_name("staging", "caliper_base"), base)
