"""Typed OneRoster records. Each keeps the server's dict in ``raw``; fields we rely on are
checked when the record is built, and a record of the wrong shape is a MalformedResponseError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ._errors import MalformedResponseError

Raw = dict[str, Any]


def _str(raw: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise MalformedResponseError(f"record lacks {key!r}: {str(dict(raw))[:200]}")
        return None
    if not isinstance(value, str):
        raise MalformedResponseError(f"{key!r} is not a string: {value!r}")
    return value


def _ref(raw: Mapping[str, Any], key: str) -> str | None:
    """The sourcedId of a GUIDRef (``{"sourcedId": ..., "type": ...}``) field."""
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise MalformedResponseError(f"{key!r} is not a reference object: {value!r}")
    return _str(value, "sourcedId")


def _refs(raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise MalformedResponseError(f"{key!r} is not a list: {value!r}")
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("sourcedId"), str):
            raise MalformedResponseError(f"{key!r} holds a bad reference: {item!r}")
        out.append(item["sourcedId"])
    return tuple(out)


def _strings(raw: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = raw.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedResponseError(f"{key!r} is not a list of strings: {value!r}")
    return tuple(value)


def _flag(raw: Mapping[str, Any], key: str) -> bool | None:
    """A OneRoster boolean, sent as the string 'true' or 'false'."""
    value = raw.get(key)
    if value is None:
        return None
    if value in ("true", "false"):
        return bool(value == "true")
    raise MalformedResponseError(f"{key!r} is not 'true'/'false': {value!r}")


def _sourced_id(raw: Mapping[str, Any]) -> str:
    value = _str(raw, "sourcedId", required=True)
    assert value is not None
    return value


@dataclass(frozen=True)
class Role:
    """One of a user's roles at an org."""

    role: str
    role_type: str | None
    org_sourced_id: str | None


@dataclass(frozen=True)
class User:
    """A OneRoster user (student, teacher, ...)."""

    sourced_id: str
    status: str | None
    date_last_modified: str | None
    enabled_user: bool | None
    given_name: str | None
    family_name: str | None
    preferred_first_name: str | None
    email: str | None
    username: str | None
    identifier: str | None
    user_master_identifier: str | None
    roles: tuple[Role, ...]
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Raw) -> User:
        roles_raw = raw.get("roles") or []
        if not isinstance(roles_raw, list):
            raise MalformedResponseError(f"roles is not a list: {roles_raw!r}")
        roles = []
        for item in roles_raw:
            if not isinstance(item, dict) or not isinstance(item.get("role"), str):
                raise MalformedResponseError(f"bad role entry: {item!r}")
            roles.append(Role(item["role"], _str(item, "roleType"), _ref(item, "org")))
        return cls(
            sourced_id=_sourced_id(raw),
            status=_str(raw, "status"),
            date_last_modified=_str(raw, "dateLastModified"),
            enabled_user=_flag(raw, "enabledUser"),
            given_name=_str(raw, "givenName"),
            family_name=_str(raw, "familyName"),
            preferred_first_name=_str(raw, "preferredFirstName"),
            email=_str(raw, "email"),
            username=_str(raw, "username"),
            identifier=_str(raw, "identifier"),
            user_master_identifier=_str(raw, "userMasterIdentifier"),
            roles=tuple(roles),
            raw=raw,
        )

    @property
    def role_names(self) -> frozenset[str]:
        """The role values (``student``, ``teacher``, ...)."""
        return frozenset(r.role for r in self.roles)


@dataclass(frozen=True)
class Org:
    """A OneRoster org (a school, district, ...)."""

    sourced_id: str
    status: str | None
    name: str | None
    type: str | None
    identifier: str | None
    parent_sourced_id: str | None
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Raw) -> Org:
        return cls(
            sourced_id=_sourced_id(raw),
            status=_str(raw, "status"),
            name=_str(raw, "name"),
            type=_str(raw, "type"),
            identifier=_str(raw, "identifier"),
            parent_sourced_id=_ref(raw, "parent"),
            raw=raw,
        )


@dataclass(frozen=True)
class Class:
    """A OneRoster class (a section of a course at a school)."""

    sourced_id: str
    status: str | None
    title: str | None
    class_code: str | None
    class_type: str | None
    course_sourced_id: str | None
    school_sourced_id: str | None
    term_sourced_ids: tuple[str, ...]
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Raw) -> Class:
        return cls(
            sourced_id=_sourced_id(raw),
            status=_str(raw, "status"),
            title=_str(raw, "title"),
            class_code=_str(raw, "classCode"),
            class_type=_str(raw, "classType"),
            course_sourced_id=_ref(raw, "course"),
            school_sourced_id=_ref(raw, "school") or _ref(raw, "org"),
            term_sourced_ids=_refs(raw, "terms"),
            raw=raw,
        )


@dataclass(frozen=True)
class Enrollment:
    """A user's enrollment in a class, with a role."""

    sourced_id: str
    status: str | None
    role: str | None
    primary: bool | None
    user_sourced_id: str | None
    class_sourced_id: str | None
    school_sourced_id: str | None
    begin_date: str | None
    end_date: str | None
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Raw) -> Enrollment:
        return cls(
            sourced_id=_sourced_id(raw),
            status=_str(raw, "status"),
            role=_str(raw, "role"),
            primary=_flag(raw, "primary"),
            user_sourced_id=_ref(raw, "user"),
            class_sourced_id=_ref(raw, "class"),
            school_sourced_id=_ref(raw, "school"),
            begin_date=_str(raw, "beginDate"),
            end_date=_str(raw, "endDate"),
            raw=raw,
        )


@dataclass(frozen=True)
class Course:
    """A OneRoster course."""

    sourced_id: str
    status: str | None
    title: str | None
    course_code: str | None
    org_sourced_id: str | None
    grades: tuple[str, ...]
    subjects: tuple[str, ...]
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Raw) -> Course:
        return cls(
            sourced_id=_sourced_id(raw),
            status=_str(raw, "status"),
            title=_str(raw, "title"),
            course_code=_str(raw, "courseCode"),
            org_sourced_id=_ref(raw, "org"),
            grades=_strings(raw, "grades"),
            subjects=_strings(raw, "subjects"),
            raw=raw,
        )


@dataclass(frozen=True)
class AcademicSession:
    """A term, semester, school year or grading period."""

    sourced_id: str
    status: str | None
    title: str | None
    type: str | None
    start_date: str | None
    end_date: str | None
    school_year: str | None
    parent_sourced_id: str | None
    raw: Raw = field(repr=False, compare=False)

    @classmethod
    def from_raw(cls, raw: Raw) -> AcademicSession:
        year = raw.get("schoolYear")
        return cls(
            sourced_id=_sourced_id(raw),
            status=_str(raw, "status"),
            title=_str(raw, "title"),
            type=_str(raw, "type"),
            start_date=_str(raw, "startDate"),
            end_date=_str(raw, "endDate"),
            school_year=str(year) if isinstance(year, str | int) else None,
            parent_sourced_id=_ref(raw, "parent"),
            raw=raw,
        )


@dataclass(frozen=True)
class Roster:
    """One school's roster: the org, its classes, their enrollments, users and courses."""

    org: Org
    classes: tuple[Class, ...]
    enrollments: tuple[Enrollment, ...]
    users: tuple[User, ...]
    courses: tuple[Course, ...]


R = TypeVar("R")


def build(factory: Callable[[Raw], R], raw: Any) -> R:
    """Build a record from a server dict, or MalformedResponseError."""
    if not isinstance(raw, dict):
        raise MalformedResponseError(f"expected a record object, got {type(raw).__name__}")
    return factory(raw)
