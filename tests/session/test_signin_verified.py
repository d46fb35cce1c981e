"""Verified sign-ins (launch, Sign in with Timeback): no PIN, then an own PIN for a while;
the classes this computer serves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.core.clock import FakeClock
from companion.session.signin import VERIFIED_PIN_WINDOW_MS, SignInService
from companion.store.db import Database
from tests.session.test_signin_flows import AVA, ETHAN, load_demo


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "c.sqlite3", "sandbox") as database:
        load_demo(database)
        yield database


def test_verified_sign_in_allows_one_own_pin_within_the_window(db: Database) -> None:
    clock = FakeClock(monotonic_ms=0)
    svc = SignInService(db, clock)
    assert svc.set_own_pin(AVA, "2468").status == "needs_pin"  # no verification yet
    result = svc.verified_sign_in(AVA)
    assert result.ok and result.user is not None and result.user.user_id == AVA
    with pytest.raises(ValueError):
        svc.set_own_pin(AVA, "12")
    assert svc.set_own_pin(AVA, "2468").ok
    assert svc.sign_in(AVA, "2468").ok
    assert svc.set_own_pin(AVA, "1357").status == "needs_pin"  # used up
    svc.verified_sign_in(AVA)
    clock.advance(VERIFIED_PIN_WINDOW_MS + 1)
    assert svc.set_own_pin(AVA, "1357").status == "needs_pin"  # too late


def test_verified_sign_in_refuses_disabled_and_unknown_users(db: Database) -> None:
    svc = SignInService(db, FakeClock())
    assert svc.verified_sign_in(ETHAN).status == "disabled"
    assert svc.verified_sign_in("nobody").status == "unknown"
    assert svc.set_own_pin(ETHAN, "2468").status == "needs_pin"


def test_only_the_served_classes_are_listed(db: Database) -> None:
    svc = SignInService(db, FakeClock())
    svc.serve_classes(["demo-class-2"])
    assert [c.id for c in svc.classes()] == ["demo-class-2"]
    svc.serve_classes(None)
    assert [c.id for c in svc.classes()] == ["demo-class-1", "demo-class-2"]
