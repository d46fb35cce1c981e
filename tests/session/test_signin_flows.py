"""Sign-in on the cached roster: PINs, a guide for the first PIN, rate limits, disabled users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.core.clock import FakeClock
from companion.sandbox.seed import DEMO_GUIDE_ID, seed_demo
from companion.session.signin import SignInService, seed_demo_pins
from companion.store import pins as pin_store
from companion.store import roster
from companion.store.db import Database

AVA = "demo-student-01"  # class 1
ZOE = "demo-student-03"  # class 1
ETHAN = "demo-student-13"  # class 1, enabledUser "false"
LIAM = "demo-student-02"  # class 2


def load_demo(db: Database) -> None:
    data = seed_demo()
    roster.replace_roster(
        db, data["orgs"], data["users"], data["classes"], data["enrollments"], data["courses"]
    )


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "companion-sandbox.sqlite3"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    with Database.open(db_path, "sandbox") as database:
        load_demo(database)
        yield database


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(db: Database, clock: FakeClock) -> SignInService:
    svc = SignInService(db, clock)
    assert svc.set_guide_pin(DEMO_GUIDE_ID, "9999").ok
    return svc


def test_classes_and_the_name_grid(service: SignInService) -> None:
    classes = service.classes()
    assert [(c.id, c.title, c.student_count) for c in classes] == [
        ("demo-class-1", "Math Lab A", 7),
        ("demo-class-2", "Math Lab B", 7),
    ]
    grid = service.students("demo-class-1")
    names = [s.display_name for s in grid]
    assert names == sorted(names, key=str.casefold)
    odd = ("01", "03", "05", "07", "09", "11", "13")
    assert {s.id for s in grid} == {f"demo-student-{n}" for n in odd}
    by_id = {s.id: s for s in grid}
    assert by_id[AVA].display_name == "Ava" and by_id[AVA].can_sign_in
    assert not by_id[ETHAN].can_sign_in
    assert not any(s.has_pin for s in grid)
    assert "demo-guide-1" not in by_id  # teachers are not on the student grid


def test_repeated_first_names_get_the_family_initial(db: Database, clock: FakeClock) -> None:
    base = {"status": "active", "enabledUser": "true",
            "roles": [{"roleType": "primary", "role": "student"}]}
    users = [
        {**base, "sourcedId": "s1", "givenName": "Sam", "familyName": "Lee"},
        {**base, "sourcedId": "s2", "givenName": "Samuel", "preferredFirstName": "Sam",
         "familyName": "Ng"},
        {**base, "sourcedId": "s3", "givenName": "Ann", "familyName": "Ito"},
    ]
    enrollments = [
        {"sourcedId": f"e{u['sourcedId']}", "role": "student",
         "user": {"sourcedId": u["sourcedId"]}, "class": {"sourcedId": "c9"}}
        for u in users
    ]
    roster.apply_changes(db, users=users, enrollments=enrollments,
                         classes=[{"sourcedId": "c9", "title": "Small class"}])
    grid = SignInService(db, clock).students("c9")
    assert [s.display_name for s in grid] == ["Ann", "Sam L.", "Sam N."]


def test_first_pin_needs_a_guide(service: SignInService, db: Database) -> None:
    first = service.sign_in(AVA, "1234")
    assert first.status == "needs_pin" and first.user is None

    refused = service.set_pin(AVA, "1234", DEMO_GUIDE_ID, "0000")
    assert refused.status == "wrong_pin" and refused.user is None
    assert service.sign_in(AVA, "1234").status == "needs_pin"  # still no PIN

    not_a_guide = service.set_pin(AVA, "1234", ZOE, "9999")
    assert not_a_guide.status == "unknown"

    accepted = service.set_pin(AVA, "1234", DEMO_GUIDE_ID, "9999")
    assert accepted.ok and accepted.user is not None
    assert accepted.user.user_id == AVA and accepted.user.role == "student"
    assert accepted.user.email == "ava.johnson@demo.school"
    assert accepted.user.name == "Ava Johnson"

    again = service.sign_in(AVA, "1234")
    assert again.ok and again.user is not None and again.user.user_id == AVA
    assert {s.id for s in service.students("demo-class-1") if s.has_pin} == {AVA}
    row = pin_store.get(db, AVA)
    assert row is not None and row.hash is not None and b"1234" not in row.hash


def test_new_pin_must_be_four_to_six_digits(service: SignInService) -> None:
    with pytest.raises(ValueError):
        service.set_pin(AVA, "12", DEMO_GUIDE_ID, "9999")


def test_wrong_pins_lock_out_and_the_lockout_survives_a_restart(
    db_path: Path, db: Database, clock: FakeClock, service: SignInService
) -> None:
    assert service.set_pin(AVA, "1234", DEMO_GUIDE_ID, "9999").ok
    results = [service.sign_in(AVA, "1111") for _ in range(5)]
    assert [r.status for r in results] == ["wrong_pin"] * 4 + ["locked_out"]
    assert [r.remaining_attempts for r in results[:4]] == [4, 3, 2, 1]
    assert results[4].retry_after_s == 30
    # during the lockout even the right PIN is refused, without checking it
    clock.advance(10_000)
    during = service.sign_in(AVA, "1234")
    assert during.status == "locked_out" and during.retry_after_s == 20
    db.close()

    with Database.open(db_path, "sandbox") as reopened:
        again = SignInService(reopened, clock)
        assert again.sign_in(AVA, "1234").status == "locked_out"
        clock.advance(20_000)
        # a wrong PIN right after a lockout locks for longer (60 s)
        longer = again.sign_in(AVA, "1111")
        assert longer.status == "locked_out" and longer.retry_after_s == 60
        clock.advance(60_000)
        ok = again.sign_in(AVA, "1234")
        assert ok.ok
        row = pin_store.get(reopened, AVA)
        assert row is not None and row.failures == 0 and row.locked_until is None
        assert again.sign_in(AVA, "1111").remaining_attempts == 4  # counting starts afresh


def test_guide_pin_failures_are_rate_limited_too(service: SignInService) -> None:
    statuses = [service.set_pin(AVA, "1234", DEMO_GUIDE_ID, "0000").status for _ in range(5)]
    assert statuses == ["wrong_pin"] * 4 + ["locked_out"]
    blocked = service.set_pin(AVA, "1234", DEMO_GUIDE_ID, "9999")
    assert blocked.status == "locked_out"
    assert service.sign_in(AVA, "1234").status == "needs_pin"
    assert service.sign_in_guide(DEMO_GUIDE_ID, "9999").status == "locked_out"


def test_disabled_and_deleted_students_cannot_sign_in(
    service: SignInService, db: Database
) -> None:
    assert service.set_pin(ETHAN, "1234", DEMO_GUIDE_ID, "9999").status == "disabled"
    seed_demo_pins(db)  # even with a PIN, a disabled account stays shut
    assert service.sign_in(ETHAN, "1234").status == "disabled"

    assert service.sign_in(LIAM, "1234").ok
    data = seed_demo()
    users = [u for u in data["users"] if u["sourcedId"] != LIAM]
    enrollments = [e for e in data["enrollments"] if e["user"]["sourcedId"] != LIAM]
    roster.replace_roster(db, data["orgs"], users, data["classes"], enrollments, data["courses"])
    assert service.sign_in(LIAM, "1234").status == "disabled"
    assert LIAM not in {s.id for s in service.students("demo-class-2")}
    assert service.sign_in("nobody", "1234").status == "unknown"


def test_guide_sign_in(service: SignInService) -> None:
    guides = service.guides()
    assert [(g.id, g.display_name, g.has_pin) for g in guides] == [(DEMO_GUIDE_ID, "Maria", True)]
    ok = service.sign_in_guide(DEMO_GUIDE_ID, "9999")
    assert ok.ok and ok.user is not None
    assert (ok.user.role, ok.user.name) == ("teacher", "Maria Alvarez")
    assert service.sign_in_guide(DEMO_GUIDE_ID, "9998").status == "wrong_pin"
    assert service.sign_in_guide(AVA, "9999").status == "unknown"  # students are not guides


def test_changing_a_guide_pin_needs_the_current_one(service: SignInService) -> None:
    assert service.set_guide_pin(DEMO_GUIDE_ID, "5555").status == "wrong_pin"
    assert service.set_guide_pin(DEMO_GUIDE_ID, "5555", current_pin="1111").status == "wrong_pin"
    assert service.set_guide_pin(DEMO_GUIDE_ID, "5555", current_pin="9999").ok
    assert service.sign_in_guide(DEMO_GUIDE_ID, "5555").ok
    assert service.set_guide_pin(AVA, "5555").status == "unknown"


def test_reset_clears_a_students_pin(service: SignInService) -> None:
    assert service.set_pin(AVA, "1234", DEMO_GUIDE_ID, "9999").ok
    assert service.reset_pin(AVA, DEMO_GUIDE_ID, "0000").status == "wrong_pin"
    assert service.sign_in(AVA, "1234").ok
    assert service.reset_pin(AVA, DEMO_GUIDE_ID, "9999").ok
    assert service.sign_in(AVA, "1234").status == "needs_pin"


def test_seed_demo_pins(db: Database, clock: FakeClock) -> None:
    seeded = seed_demo_pins(db, student_pin="1234", guide_pin="9999", now=clock.utc_now())
    assert seeded == 15  # fourteen students and the guide
    svc = SignInService(db, clock)
    assert all(s.has_pin for s in svc.students("demo-class-2"))
    assert svc.sign_in(ZOE, "1234").ok
    assert svc.sign_in(ZOE, "9999").status == "wrong_pin"
    assert svc.sign_in_guide(DEMO_GUIDE_ID, "9999").ok
    assert seed_demo_pins(db) == 0  # existing PINs are kept
