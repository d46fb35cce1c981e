"""The cached roster: full replace, delta changes, readers and who may sign in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from companion.store import roster
from companion.store.db import Database

HREF = "https://api.example/ims/oneroster"


def ref(kind: str, sourced_id: str) -> dict[str, str]:
    return {"href": f"{HREF}/{kind}s/{sourced_id}", "sourcedId": sourced_id, "type": kind}


def org(sid: str, name: str) -> dict[str, Any]:
    return {"sourcedId": sid, "status": "active", "name": name, "type": "school",
            "identifier": f"ID-{sid}", "dateLastModified": "2026-01-01T00:00:00.000Z"}


def course(sid: str, title: str) -> dict[str, Any]:
    return {"sourcedId": sid, "status": "active", "title": title, "courseCode": sid.upper(),
            "org": ref("org", "school-1")}


def klass(sid: str, title: str) -> dict[str, Any]:
    return {"sourcedId": sid, "status": "active", "title": title, "classType": "scheduled",
            "course": ref("course", "course-math"), "school": ref("org", "school-1")}


def user(sid: str, given: str, family: str, role: str = "student", **extra: Any) -> dict[str, Any]:
    record = {
        "sourcedId": sid,
        "status": "active",
        "dateLastModified": "2026-01-02T00:00:00.000Z",
        "givenName": given,
        "familyName": family,
        "email": f"{given.lower()}@school.example",
        "username": given.lower(),
        "enabledUser": "true",
        "identifier": f"S-{sid}",
        "userMasterIdentifier": f"M-{sid}",
        "primaryOrg": ref("org", "school-1"),
        "roles": [{"roleType": "primary", "role": role, "org": ref("org", "school-1")}],
    }
    record.update(extra)
    return record


def enrollment(sid: str, user_id: str, class_id: str, role: str = "student") -> dict[str, Any]:
    return {"sourcedId": sid, "status": "active", "role": role, "primary": "true",
            "user": ref("user", user_id), "class": ref("class", class_id),
            "school": ref("org", "school-1")}


def full_roster() -> dict[str, list[dict[str, Any]]]:
    return {
        "orgs": [org("school-1", "Alpha School")],
        "courses": [course("course-math", "Math 3")],
        "classes": [klass("class-b", "Math B"), klass("class-a", "Math A")],
        "users": [
            user("u-zoe", "Zoe", "Young", preferredFirstName="Z"),
            user("u-amy", "Amy", "Adams"),
            user("u-tom", "Tom", "Teacher", role="teacher"),
            user("u-off", "Olly", "Off", enabledUser="false"),
        ],
        "enrollments": [
            enrollment("e1", "u-zoe", "class-a"),
            enrollment("e2", "u-amy", "class-a"),
            enrollment("e3", "u-tom", "class-a", role="teacher"),
            enrollment("e4", "u-off", "class-b"),
        ],
    }


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox")
    yield database
    database.close()


def ids(users: list[Any]) -> list[str]:
    return [u.sourced_id for u in users]


def test_full_pull_is_cached_with_the_fields_that_matter(db: Database) -> None:
    counts = roster.replace_roster(db, **full_roster())
    assert (counts.users, counts.enrollments, counts.marked_deleted) == (4, 4, 0)
    assert [c.sourced_id for c in roster.classes(db)] == ["class-a", "class-b"]
    assert [c.sourced_id for c in roster.classes(db, school_id="elsewhere")] == []
    math_a = roster.get_class(db, "class-a")
    assert math_a is not None
    assert (math_a.course_sourced_id, math_a.school_sourced_id) == ("course-math", "school-1")

    assert ids(roster.users_in_class(db, "class-a")) == ["u-amy", "u-tom", "u-zoe"]
    assert ids(roster.users_in_class(db, "class-a", role="student")) == ["u-amy", "u-zoe"]

    zoe = roster.get_user(db, "u-zoe")
    assert zoe is not None
    assert (zoe.preferred_first_name, zoe.email, zoe.username) == ("Z", "zoe@school.example", "zoe")
    assert (zoe.identifier, zoe.user_master_identifier) == ("S-u-zoe", "M-u-zoe")
    assert (zoe.role, zoe.primary_org_id, zoe.enabled_user) == ("student", "school-1", "true")
    assert json.loads(zoe.org_ids_json) == ["school-1"]
    assert json.loads(zoe.raw_json) == full_roster()["users"][0]
    assert roster.user_can_sign_in(zoe)

    off = roster.get_user(db, "u-off")
    assert off is not None and not roster.user_can_sign_in(off)
    assert roster.get_user(db, "nobody") is None


def test_rows_missing_from_a_full_pull_become_tobedeleted(db: Database) -> None:
    roster.replace_roster(db, **full_roster())
    pull = full_roster()
    pull["users"] = [u for u in pull["users"] if u["sourcedId"] != "u-amy"]
    pull["enrollments"] = [e for e in pull["enrollments"] if e["sourcedId"] != "e2"]
    pull["classes"] = [c for c in pull["classes"] if c["sourcedId"] != "class-b"]
    counts = roster.replace_roster(db, **pull)
    assert counts.marked_deleted == 3

    assert ids(roster.users_in_class(db, "class-a")) == ["u-tom", "u-zoe"]
    assert [c.sourced_id for c in roster.classes(db)] == ["class-a"]
    amy = roster.get_user(db, "u-amy")
    assert amy is not None and amy.status == "tobedeleted"
    assert not roster.user_can_sign_in(amy)

    roster.replace_roster(db, **full_roster())  # Amy is back
    amy = roster.get_user(db, "u-amy")
    assert amy is not None and amy.status == "active" and roster.user_can_sign_in(amy)


def test_failed_pull_leaves_the_previous_cache_whole(db: Database) -> None:
    roster.replace_roster(db, **full_roster())
    pull = full_roster()
    pull["users"] = [user("u-zoe", "Zoey", "Young"), user("u-new", "Nia", "New")]
    pull["enrollments"] = [*pull["enrollments"], {"sourcedId": "broken", "role": "student"}]
    with pytest.raises(ValueError, match="broken"):
        roster.replace_roster(db, **pull)

    zoe = roster.get_user(db, "u-zoe")
    assert zoe is not None and zoe.given_name == "Zoe"
    assert roster.get_user(db, "u-new") is None
    amy = roster.get_user(db, "u-amy")
    assert amy is not None and amy.status == "active"
    with pytest.raises(ValueError, match="sourcedId"):
        roster.replace_roster(db, orgs=[{"name": "no id"}], users=[], classes=[],
                              enrollments=[], courses=[])
    assert [c.sourced_id for c in roster.classes(db)] == ["class-a", "class-b"]


def test_delta_pull_changes_only_what_it_names(db: Database) -> None:
    roster.replace_roster(db, **full_roster())
    counts = roster.apply_changes(
        db,
        users=[user("u-zoe", "Zoey", "Young"), {**user("u-amy", "Amy", "Adams"),
                                                "status": "tobedeleted"}],
        classes=[klass("class-c", "Math C")],
    )
    assert (counts.users, counts.classes, counts.marked_deleted) == (2, 1, 0)
    zoe = roster.get_user(db, "u-zoe")
    assert zoe is not None and zoe.given_name == "Zoey"
    assert zoe.preferred_first_name is None  # the record as now returned replaces the old one
    assert ids(roster.users_in_class(db, "class-a")) == ["u-tom", "u-zoe"]
    assert [c.sourced_id for c in roster.classes(db)] == ["class-a", "class-b", "class-c"]
    tom = roster.get_user(db, "u-tom")
    assert tom is not None and tom.status == "active"


def test_enabled_user_may_come_as_a_boolean(db: Database) -> None:
    roster.apply_changes(db, users=[user("u-b", "Bo", "Bool", enabledUser=False),
                                    user("u-c", "Cy", "Caps", enabledUser="FALSE")])
    for sid in ("u-b", "u-c"):
        found = roster.get_user(db, sid)
        assert found is not None and found.enabled_user == "false"
        assert not roster.user_can_sign_in(found)
