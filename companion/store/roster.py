"""The cached roster: orgs, users, classes, enrollments and courses from OneRoster.

Records come in as the OneRoster JSON dicts the API returns. A full pull replaces the cache
in one transaction (rows missing from it become ``tobedeleted``); a delta pull upserts only
what changed. Sign-in works from this cache when offline.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlmodel import Session, col, func, select

from companion.store.db import Database
from companion.store.tables import (
    RosterClass,
    RosterCourse,
    RosterEnrollment,
    RosterOrg,
    RosterUser,
)

TO_BE_DELETED = "tobedeleted"

Record = Mapping[str, Any]
RosterRow = RosterOrg | RosterCourse | RosterClass | RosterUser | RosterEnrollment


@dataclass(frozen=True)
class RosterCounts:
    """How many records of each kind were written, and how many rows were marked deleted."""

    orgs: int = 0
    users: int = 0
    classes: int = 0
    enrollments: int = 0
    courses: int = 0
    marked_deleted: int = 0


def _sourced_id(record: Record) -> str:
    value = record.get("sourcedId")
    if not isinstance(value, str) or not value:
        raise ValueError(f"OneRoster record without a sourcedId: {dict(record)!r:.200}")
    return value


def _ref(value: Any) -> str | None:
    """The sourcedId of a OneRoster reference (``{"sourcedId": ..., "href": ...}``)."""
    if isinstance(value, Mapping):
        ref = value.get("sourcedId")
        return str(ref) if ref else None
    return None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _common(record: Record) -> dict[str, Any]:
    return {
        "sourced_id": _sourced_id(record),
        "status": str(record.get("status") or "active"),
        "date_last_modified": _text(record.get("dateLastModified")),
        "raw_json": json.dumps(record, ensure_ascii=False, separators=(",", ":")),
    }


def org_fields(record: Record) -> dict[str, Any]:
    """Column values of a ``RosterOrg`` from a OneRoster org."""
    return {
        **_common(record),
        "name": str(record.get("name") or ""),
        "type": _text(record.get("type")),
        "identifier": _text(record.get("identifier")),
        "parent_id": _ref(record.get("parent")),
    }


def course_fields(record: Record) -> dict[str, Any]:
    """Column values of a ``RosterCourse`` from a OneRoster course."""
    return {
        **_common(record),
        "title": str(record.get("title") or ""),
        "course_code": _text(record.get("courseCode")),
        "org_id": _ref(record.get("org")),
    }


def class_fields(record: Record) -> dict[str, Any]:
    """Column values of a ``RosterClass`` from a OneRoster class."""
    return {
        **_common(record),
        "title": str(record.get("title") or ""),
        "class_code": _text(record.get("classCode")),
        "class_type": _text(record.get("classType")),
        "course_sourced_id": _ref(record.get("course")),
        "school_sourced_id": _ref(record.get("school")),
    }


def _enabled(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "true" if value is None else str(value).strip().lower()


def user_fields(record: Record) -> dict[str, Any]:
    """Column values of a ``RosterUser`` from a OneRoster user."""
    roles = [r for r in record.get("roles") or [] if isinstance(r, Mapping)]
    first = roles[0] if roles else None
    primary = next((r for r in roles if r.get("roleType") == "primary"), first)
    primary_org = _ref(record.get("primaryOrg"))
    org_ids = [primary_org] if primary_org else []
    for role in roles:
        org = _ref(role.get("org"))
        if org and org not in org_ids:
            org_ids.append(org)
    return {
        **_common(record),
        "given_name": str(record.get("givenName") or ""),
        "family_name": str(record.get("familyName") or ""),
        "middle_name": _text(record.get("middleName")),
        "preferred_first_name": _text(record.get("preferredFirstName")),
        "preferred_last_name": _text(record.get("preferredLastName")),
        "email": _text(record.get("email")),
        "username": _text(record.get("username")),
        "enabled_user": _enabled(record.get("enabledUser")),
        "identifier": _text(record.get("identifier")),
        "user_master_identifier": _text(record.get("userMasterIdentifier")),
        "primary_org_id": primary_org,
        "role": _text(primary.get("role")) if primary else _text(record.get("role")),
        "roles_json": json.dumps(roles, ensure_ascii=False, separators=(",", ":")),
        "org_ids_json": json.dumps(org_ids),
    }


def enrollment_fields(record: Record) -> dict[str, Any]:
    """Column values of a ``RosterEnrollment`` from a OneRoster enrollment."""
    user_id = _ref(record.get("user"))
    class_id = _ref(record.get("class"))
    if user_id is None or class_id is None:
        raise ValueError(f"enrollment {record.get('sourcedId')!r} lacks its user or class")
    primary = record.get("primary")
    return {
        **_common(record),
        "role": str(record.get("role") or ""),
        "primary": _enabled(primary) if primary is not None else None,
        "user_sourced_id": user_id,
        "class_sourced_id": class_id,
        "school_sourced_id": _ref(record.get("school")),
        "begin_date": _text(record.get("beginDate")),
        "end_date": _text(record.get("endDate")),
    }


_KINDS: tuple[tuple[str, type[RosterRow], Callable[[Record], dict[str, Any]]], ...] = (
    ("orgs", RosterOrg, org_fields),
    ("courses", RosterCourse, course_fields),
    ("classes", RosterClass, class_fields),
    ("users", RosterUser, user_fields),
    ("enrollments", RosterEnrollment, enrollment_fields),
)
# The kinds in the order they are applied, each with the function that turns a record
# into column values.
KIND_FIELDS: tuple[tuple[str, Callable[[Record], dict[str, Any]]], ...] = tuple(
    (kind, to_fields) for kind, _, to_fields in _KINDS
)


def _upsert(
    session: Session,
    table: type[RosterRow],
    to_fields: Callable[[Record], dict[str, Any]],
    records: Iterable[Record],
) -> set[str]:
    """Insert or update each record by sourcedId; returns the ids seen."""
    seen: set[str] = set()
    for record in records:
        fields = to_fields(record)
        row = session.get(table, fields["sourced_id"])
        if row is None:
            session.add(table(**fields))
        else:
            for name, value in fields.items():
                setattr(row, name, value)
        seen.add(fields["sourced_id"])
    session.flush()
    return seen


def _mark_missing(session: Session, table: type[RosterRow], seen: set[str]) -> int:
    """Mark every row not in ``seen`` as tobedeleted; returns how many changed."""
    rows = cast(Sequence[RosterRow], session.exec(select(table)).all())
    changed = 0
    for row in rows:
        if row.sourced_id not in seen and row.status != TO_BE_DELETED:
            row.status = TO_BE_DELETED
            changed += 1
    return changed


def _apply(db: Database, batches: Mapping[str, Iterable[Record]], full: bool) -> RosterCounts:
    def run(session: Session) -> RosterCounts:
        counts: dict[str, int] = {}
        marked = 0
        for kind, table, to_fields in _KINDS:
            seen = _upsert(session, table, to_fields, batches.get(kind, ()))
            counts[kind] = len(seen)
            if full:
                marked += _mark_missing(session, table, seen)
        return RosterCounts(marked_deleted=marked, **counts)

    return db.write(run)


def replace_roster(
    db: Database,
    orgs: Iterable[Record],
    users: Iterable[Record],
    classes: Iterable[Record],
    enrollments: Iterable[Record],
    courses: Iterable[Record],
) -> RosterCounts:
    """Apply a FULL pull in one transaction; cached rows missing from it become tobedeleted.

    If anything fails (e.g. a record without a sourcedId) the previous cache is kept whole.
    """
    batches = {
        "orgs": list(orgs),
        "users": list(users),
        "classes": list(classes),
        "enrollments": list(enrollments),
        "courses": list(courses),
    }
    return _apply(db, batches, full=True)


def apply_changes(
    db: Database,
    orgs: Iterable[Record] = (),
    users: Iterable[Record] = (),
    classes: Iterable[Record] = (),
    enrollments: Iterable[Record] = (),
    courses: Iterable[Record] = (),
) -> RosterCounts:
    """Apply a delta pull (records changed since the last pull) in one transaction."""
    batches = {
        "orgs": list(orgs),
        "users": list(users),
        "classes": list(classes),
        "enrollments": list(enrollments),
        "courses": list(courses),
    }
    return _apply(db, batches, full=False)


def user_can_sign_in(user: RosterUser) -> bool:
    """False for a user marked tobedeleted or with ``enabledUser`` "false"."""
    return user.status != TO_BE_DELETED and user.enabled_user.strip().lower() != "false"


def get_user(db: Database, sourced_id: str) -> RosterUser | None:
    """One cached user (whatever its status)."""
    with db.read() as session:
        return session.get(RosterUser, sourced_id)


def get_class(db: Database, sourced_id: str) -> RosterClass | None:
    """One cached class (whatever its status)."""
    with db.read() as session:
        return session.get(RosterClass, sourced_id)


def classes(db: Database, school_id: str | None = None) -> list[RosterClass]:
    """Classes not marked tobedeleted, by title; optionally only one school's."""
    statement = select(RosterClass).where(RosterClass.status != TO_BE_DELETED)
    if school_id is not None:
        statement = statement.where(RosterClass.school_sourced_id == school_id)
    statement = statement.order_by(col(RosterClass.title), col(RosterClass.sourced_id))
    with db.read() as session:
        return list(session.exec(statement).all())


def users_in_class(db: Database, class_id: str, role: str | None = None) -> list[RosterUser]:
    """Users enrolled in a class (live enrollments and users), by family then given name.

    ``role`` filters on the enrollment role (e.g. "student", "teacher").
    """
    statement = (
        select(RosterUser)
        .join(
            RosterEnrollment,
            col(RosterEnrollment.user_sourced_id) == col(RosterUser.sourced_id),
        )
        .where(RosterEnrollment.class_sourced_id == class_id)
        .where(RosterEnrollment.status != TO_BE_DELETED)
        .where(RosterUser.status != TO_BE_DELETED)
    )
    if role is not None:
        statement = statement.where(RosterEnrollment.role == role)
    statement = statement.order_by(
        col(RosterUser.family_name), col(RosterUser.given_name), col(RosterUser.sourced_id)
    ).distinct()
    with db.read() as session:
        return list(session.exec(statement).all())


def live_users(db: Database) -> list[RosterUser]:
    """Every cached user not marked tobedeleted, by given name then sourcedId."""
    statement = (
        select(RosterUser)
        .where(RosterUser.status != TO_BE_DELETED)
        .order_by(col(RosterUser.given_name), col(RosterUser.sourced_id))
    )
    with db.read() as session:
        return list(session.exec(statement).all())


def user_by_email(db: Database, email: str) -> RosterUser | None:
    """A cached user whose email is ``email``, compared without case (whatever its status)."""
    statement = select(RosterUser).where(func.lower(col(RosterUser.email)) == email.lower())
    with db.read() as session:
        return session.exec(statement).first()


def live_counts(db: Database) -> tuple[int, int]:
    """(users, classes) in the cache not marked tobedeleted."""
    with db.read() as session:
        users = session.exec(select(func.count()).select_from(RosterUser)
                             .where(RosterUser.status != TO_BE_DELETED)).one()
        classes = session.exec(select(func.count()).select_from(RosterClass)
                               .where(RosterClass.status != TO_BE_DELETED)).one()
    return int(users), int(classes)


def snapshot(db: Database) -> dict[str, dict[str, tuple[str, str]]]:
    """Per kind (orgs, courses, classes, users, enrollments), sourcedId -> (status,
    raw_json) of every cached row."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    with db.read() as session:
        for kind, table, _ in _KINDS:
            rows = session.exec(select(table.sourced_id, table.status, table.raw_json)).all()
            out[kind] = {sid: (status, raw) for sid, status, raw in rows}
    return out
