"""Commands find the sandbox of a running app through the address it records."""

from __future__ import annotations

from companion.commands._sandbox import given_sandbox_url, running_app_sandbox_url
from companion.store import paths
from companion.store.db import Database
from companion.store.meta import EMBEDDED_SANDBOX_URL, get_meta, set_meta


def test_no_database_no_address() -> None:
    assert running_app_sandbox_url() is None
    assert given_sandbox_url(None, {}) is None


def test_the_recorded_address_is_found_and_the_given_one_wins() -> None:
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        set_meta(db, EMBEDDED_SANDBOX_URL, "http://127.0.0.1:40001")
    assert running_app_sandbox_url() == "http://127.0.0.1:40001"
    assert given_sandbox_url(None, {}) == "http://127.0.0.1:40001"
    env = {"COMPANION_SANDBOX_URL": "http://127.0.0.1:40002"}
    assert given_sandbox_url(None, env) == "http://127.0.0.1:40002"
    assert given_sandbox_url("http://127.0.0.1:40003", env) == "http://127.0.0.1:40003"


def test_removing_the_address() -> None:
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        set_meta(db, EMBEDDED_SANDBOX_URL, "http://127.0.0.1:40001")
        set_meta(db, EMBEDDED_SANDBOX_URL, None)
        assert get_meta(db, EMBEDDED_SANDBOX_URL) is None
    assert running_app_sandbox_url() is None
