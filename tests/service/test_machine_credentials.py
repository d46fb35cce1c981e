"""The service account's secrets on Linux: private files, owner checked, systemd first."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from companion.system.machine_credentials import (
    CredentialsError,
    FileCredentials,
    Layered,
    SystemdCredentials,
    UnsafeCredentials,
    get_client,
    machine_credentials,
    put_client,
    store_for_administrator,
)


def test_a_secret_is_written_private_and_read_back(tmp_path: Path) -> None:
    store = FileCredentials(tmp_path / "credentials")
    assert store.get("production.client_secret") is None
    store.put("production.client_secret", "s3cret")
    path = tmp_path / "credentials" / "production.client_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "credentials").stat().st_mode) == 0o700
    assert store.get("production.client_secret") == "s3cret"
    store.put("production.client_secret", "changed")
    assert store.get("production.client_secret") == "changed"
    assert "s3cret" not in store.where() and "changed" not in store.where()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_file_others_could_read_is_refused(tmp_path: Path, mode: int) -> None:
    store = FileCredentials(tmp_path / "credentials")
    store.put("staging.client_secret", "s3cret")
    os.chmod(tmp_path / "credentials" / "staging.client_secret", mode)
    with pytest.raises(UnsafeCredentials, match="other accounts"):
        store.get("staging.client_secret")


def test_a_folder_others_could_open_is_refused(tmp_path: Path) -> None:
    store = FileCredentials(tmp_path / "credentials")
    store.put("staging.client_id", "id")
    os.chmod(tmp_path / "credentials", 0o755)
    with pytest.raises(UnsafeCredentials):
        store.get("staging.client_id")


def test_a_symlink_is_not_followed(tmp_path: Path) -> None:
    store = FileCredentials(tmp_path / "credentials")
    store.put("a", "x")
    (tmp_path / "elsewhere").write_text("planted")
    os.chmod(tmp_path / "elsewhere", 0o600)
    (tmp_path / "credentials" / "b").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(CredentialsError):
        store.get("b")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a file to another account")
def test_a_file_owned_by_another_account_is_refused(tmp_path: Path) -> None:
    store = FileCredentials(tmp_path / "credentials")
    store.put("production.client_secret", "planted")
    os.chown(tmp_path / "credentials" / "production.client_secret", 65534, 65534)
    with pytest.raises(UnsafeCredentials, match="belongs to uid 65534"):
        store.get("production.client_secret")


def test_names_cannot_leave_the_folder(tmp_path: Path) -> None:
    store = FileCredentials(tmp_path / "credentials")
    for name in ("../x", ".hidden", "a/b", ""):
        with pytest.raises(ValueError):
            store.put(name, "x")


def test_systemd_credentials_come_first_and_are_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    systemd = tmp_path / "systemd"
    systemd.mkdir()
    (systemd / "production.client_secret").write_text("from-unit\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(systemd))
    store = machine_credentials(tmp_path / "state")
    assert isinstance(store, Layered)
    assert isinstance(store.stores[0], SystemdCredentials)
    assert store.get("production.client_secret") == "from-unit"
    store.put("service-token-key", "ab")  # written to the service's own files
    assert (tmp_path / "state" / "credentials" / "service-token-key").read_text() == "ab"
    with pytest.raises(CredentialsError):
        store.stores[0].put("x", "y")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="chown needs root")
def test_an_administrator_writes_the_secrets_for_the_account_that_owns_the_folder(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.chown(state, 65534, 65534)  # the service account's folder (nobody here)
    store = store_for_administrator(state)
    put_client(store, "production", "school-client", "s3cret")
    for name in ("production.client_id", "production.client_secret", ""):
        info = (state / "credentials" / name).stat()
        assert (info.st_uid, info.st_gid) == (65534, 65534)
        assert stat.S_IMODE(info.st_mode) == (0o600 if name else 0o700)
    # root reading it as its own is refused: only the folder's account may trust it
    with pytest.raises(UnsafeCredentials, match="belongs to uid 65534"):
        get_client(FileCredentials(state / "credentials"), "production")
    assert get_client(store, "production") == ("school-client", "s3cret")


def test_setup_stores_for_the_machine_only_when_asked_or_as_its_administrator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from argparse import Namespace

    from companion.commands.setup import for_the_machine

    assert for_the_machine(Namespace(machine=True), environ={}) is True
    assert for_the_machine(Namespace(machine=False), environ={}) is False
    # with the data folder redirected (tests, support), nothing machine-wide
    assert for_the_machine(Namespace(machine=None), environ={"COMPANION_DATA_DIR": "/x"}) is False
    monkeypatch.setattr("companion.commands.setup.service_account", lambda: None)
    assert for_the_machine(Namespace(machine=None), environ={}) is False  # no service here
    monkeypatch.setattr("companion.commands.setup.service_account", lambda: (os.geteuid(), 0))
    assert for_the_machine(Namespace(machine=None), environ={}) is True  # its own account
