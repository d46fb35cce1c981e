"""Credentials in the OS keyring (a fake backend implementing keyring's interface) and the
``companion setup`` command."""

from __future__ import annotations

import argparse
import base64
import getpass
import io
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import keyring
import keyring.errors
import pytest
from jaraco.classes import properties
from keyring.backend import KeyringBackend
from keyring.backends import fail

from companion.cli import main
from companion.commands import setup
from companion.timeback import (
    SANDBOX_CREDENTIALS,
    Credentials,
    CredentialsMissingError,
    KeyringUnavailableError,
    delete_credentials,
    load_credentials,
    service_name,
    store_credentials,
)


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring backend, used only where a test sets it explicitly."""

    @properties.classproperty
    def priority(cls) -> float:
        # Not viable for keyring's own backend discovery, so that merely defining this
        # class never makes it the session's default keyring.
        raise RuntimeError("test backend; set it with keyring.set_keyring")

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.store:
            raise keyring.errors.PasswordDeleteError(username)
        del self.store[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    yield
    keyring.set_keyring(previous)


def test_round_trip(memory_keyring: MemoryKeyring) -> None:
    store_credentials("staging", Credentials("id-1", "secret-1"))
    assert load_credentials("staging") == Credentials("id-1", "secret-1")
    assert set(memory_keyring.store) == {("timeback-companion-staging", "client_id"),
                                         ("timeback-companion-staging", "client_secret")}
    with pytest.raises(CredentialsMissingError, match="companion --env production setup"):
        load_credentials("production")
    delete_credentials("staging")
    delete_credentials("staging")  # twice is fine
    assert memory_keyring.store == {}


def test_sandbox_never_touches_the_keyring(no_keyring: None) -> None:
    assert load_credentials("sandbox") == SANDBOX_CREDENTIALS
    with pytest.raises(ValueError):
        store_credentials("sandbox", Credentials("a", "b"))


def test_no_keyring_is_a_clear_error(no_keyring: None) -> None:
    with pytest.raises(KeyringUnavailableError, match="never stored in a file"):
        store_credentials("staging", Credentials("a", "b"))
    with pytest.raises(KeyringUnavailableError):
        load_credentials("staging")


GOOD = Credentials("school-client", "right-secret")


def _idp(request: httpx.Request) -> httpx.Response:
    assert request.url.path == "/oauth2/token"
    user, _, password = base64.b64decode(
        request.headers["Authorization"].removeprefix("Basic ")).decode().partition(":")
    if (user, password) == (GOOD.client_id, GOOD.client_secret):
        return httpx.Response(200, json={"access_token": "t", "expires_in": 3600,
                                         "token_type": "Bearer"})
    return httpx.Response(401, json={"error": "invalid_client"})


def _run(argv: list[str], stdin_text: str, transport: httpx.BaseTransport | None = None
         ) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default=None)
    sub = parser.add_subparsers()
    setup.register(sub, "setup", "help")
    args = parser.parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    code = setup.run(args, transport=transport or httpx.MockTransport(_idp),
                     stdin=io.StringIO(stdin_text), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_setup_verifies_then_stores(memory_keyring: MemoryKeyring) -> None:
    code, out, _ = _run(["--env", "staging", "setup", "--client-id", "school-client"],
                        "right-secret\n")
    assert code == 0 and "timeback-companion-staging" in out
    assert load_credentials("staging") == GOOD


def test_setup_with_wrong_secret_stores_nothing(memory_keyring: MemoryKeyring) -> None:
    code, _, err = _run(["--env", "production", "setup", "--client-id", "school-client"],
                        "wrong\n")
    assert code == 1 and "refused this client id or secret; nothing stored" in err
    assert memory_keyring.store == {}


def test_setup_offline_says_so_and_stores_nothing(memory_keyring: MemoryKeyring) -> None:
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=request)

    code, _, err = _run(["--env", "staging", "setup", "--client-id", "x"], "y\n",
                        httpx.MockTransport(offline))
    assert code == 1 and "cannot reach the server" in err and memory_keyring.store == {}


def test_setup_needs_client_id_when_piped(memory_keyring: MemoryKeyring) -> None:
    code, _, err = _run(["--env", "staging", "setup"], "secret\n")
    assert code == 2 and "--client-id" in err


def test_setup_without_keyring(no_keyring: None) -> None:
    code, _, err = _run(["--env", "staging", "setup", "--client-id", "x"], "y\n")
    assert code == 1 and "keyring" in err


def test_setup_for_sandbox_stores_nothing(no_keyring: None) -> None:
    code, out, _ = _run(["setup"], "")
    assert code == 0 and "built in" in out


def test_cli_dispatches_to_setup(no_keyring: None, capsys: pytest.CaptureFixture[str]) -> None:
    # (not "--env sandbox setup": cli.py picks the first argv word naming a command, so the
    # value "sandbox" selects the sandbox command; reported to the lead)
    assert main(["setup"]) == 0
    assert "built in" in capsys.readouterr().out


def test_service_names() -> None:
    assert service_name("production") == "timeback-companion-production"


def _real_backend_usable() -> bool:
    backend = keyring.get_keyring()
    backends = list(getattr(backend, "backends", [backend]))
    return bool(backends) and not any(
        type(b).__module__.startswith(("keyring.backends.fail", "keyrings.alt"))
        for b in backends)


def test_real_os_keyring_round_trip() -> None:
    if not _real_backend_usable():
        pytest.skip(f"no usable OS keyring backend here ({keyring.get_keyring()})")
    environment = f"test-{uuid.uuid4().hex[:12]}"  # never a real environment's entries
    try:
        store_credentials(environment, Credentials("real-id", "real-secret"))
        assert load_credentials(environment) == Credentials("real-id", "real-secret")
    finally:
        delete_credentials(environment)
    with pytest.raises(CredentialsMissingError):
        load_credentials(environment)


class _Terminal(io.StringIO):
    """A stdin that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_setup_prompts_without_echo_on_a_terminal(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "", stream: object = None) -> str:
        prompts.append(prompt)
        return GOOD.client_secret

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", default=None)
    setup.register(parser.add_subparsers(), "setup", "help")
    args = parser.parse_args(["--env", "staging", "setup"])
    err = io.StringIO()
    code = setup.run(args, transport=httpx.MockTransport(_idp),
                     stdin=_Terminal("school-client\n"), stdout=io.StringIO(), stderr=err)
    assert code == 0 and prompts == ["Client secret: "] and "Client id: " in err.getvalue()
    assert load_credentials("staging") == GOOD


def _credentials_file(tmp_path: Path, mode: int, text: str | None = None) -> Path:
    where = tmp_path / "credentials.toml"
    where.write_text(text if text is not None else
                     'client_id = "school-client"\nclient_secret = "right-secret"\n')
    os.chmod(where, mode)
    return where


def test_setup_from_an_owner_only_file_verifies_then_stores(
    memory_keyring: MemoryKeyring, tmp_path: Path,
) -> None:
    where = _credentials_file(tmp_path, 0o600)
    code, out, err = _run(["--env", "staging", "setup", "--from", str(where)], "")
    assert (code, err) == (0, "")
    assert "Checking the credentials" in out
    assert load_credentials("staging") == GOOD


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX's")
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_setup_refuses_a_file_others_can_read(
    memory_keyring: MemoryKeyring, tmp_path: Path, mode: int,
) -> None:
    where = _credentials_file(tmp_path, mode)
    code, _, err = _run(["--env", "staging", "setup", "--from", str(where)], "")
    assert code == 2
    assert f"can be read by other users (mode {mode:04o})" in err
    assert f"chmod 600 {where}" in err and "nothing stored" in err
    assert memory_keyring.store == {}


def test_setup_from_standard_input_with_no_check_stores_offline(
    memory_keyring: MemoryKeyring,
) -> None:
    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=request)

    code, out, _ = _run(["--env", "production", "setup", "--from", "-", "--no-check"],
                        'client_id = "school-client"\nclient_secret = "right-secret"\n',
                        httpx.MockTransport(offline))
    assert code == 0 and "without checking them (companion doctor checks them)" in out
    assert load_credentials("production") == GOOD


def test_setup_from_a_bad_file_says_what_is_wrong(
    memory_keyring: MemoryKeyring, tmp_path: Path,
) -> None:
    for text, problem in (('client_id = "a"\n', "must be non-empty strings"),
                          ('client_id = "a"\nclient_secret = "b"\npassword = "c"\n',
                           "unknown key(s): password"),
                          ("client_id = \n", "not valid TOML")):
        where = _credentials_file(tmp_path, 0o600, text)
        code, _, err = _run(["--env", "staging", "setup", "--from", str(where)], "")
        assert code == 2 and problem in err, err
    code, _, err = _run(["--env", "staging", "setup", "--from", str(tmp_path / "none")], "")
    assert code == 2 and "cannot read" in err
    assert memory_keyring.store == {}
