"""A tiny declarative rule language for JSON objects, and its checker.

A :class:`ObjectRule` lists required properties, constant values, enumerations and the kind of
each property. Kinds are strings ("string", "number", "integer", "boolean", "object",
"datetime", "duration", "iri", "urn_uuid", "email", "string_or_object") or a nested rule, or
``ListOf`` a kind. ``check`` yields ``(field path, message)`` for every violation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

from companion.sandbox import formats

Kind = Union[str, "ObjectRule", "ListOf"]
Violation = tuple[str, str]


@dataclass(frozen=True)
class ListOf:
    """An array whose every item has the given kind."""

    item: Kind


@dataclass(frozen=True)
class ObjectRule:
    """What a JSON object must look like."""

    name: str
    required: tuple[str, ...] = ()
    consts: Mapping[str, Any] = field(default_factory=dict)
    enums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    kinds: Mapping[str, Kind] = field(default_factory=dict)
    closed: bool = False


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def check_kind(value: Any, kind: Kind, path: str) -> Iterator[Violation]:
    """Violations of one value against a kind."""
    found: list[Violation] = []
    _kind(value, kind, path, found)
    return iter(found)


def check_object(value: Mapping[str, Any], rule: ObjectRule, path: str = ""
                 ) -> Iterator[Violation]:
    """Violations of a JSON object against a rule."""
    found: list[Violation] = []
    _object(value, rule, path, found)
    return iter(found)


def _kind(value: Any, kind: Kind, path: str, found: list[Violation]) -> None:
    """Append the violations of one value against a kind to ``found``."""
    if isinstance(kind, str):
        if not _SCALAR_CHECKS[kind](value):
            found.append((path, f"must be {_SCALAR_NAMES[kind]}"))
        return
    if isinstance(kind, ObjectRule):
        if not isinstance(value, dict):
            found.append((path, f"must be an object ({kind.name})"))
        else:
            _object(value, kind, path, found)
        return
    if not isinstance(value, list):
        found.append((path, "must be an array"))
        return
    for index, item in enumerate(value):
        _kind(item, kind.item, f"{path}[{index}]", found)


def _object(value: Mapping[str, Any], rule: ObjectRule, path: str,
            found: list[Violation]) -> None:
    """Append the violations of a JSON object against a rule to ``found``.

    A property's path is only spelled out where it is needed (a violation or a nested value).
    """
    for name in rule.required:
        if value.get(name) is None:
            found.append((_join(path, name), "is required"))
    consts, enums, kinds = rule.consts, rule.enums, rule.kinds
    for name, item in value.items():
        if item is None:
            continue
        if name in consts and item != consts[name]:
            found.append((_join(path, name), f"must be {consts[name]!r}"))
        elif name in enums and item not in enums[name]:
            found.append((_join(path, name), f"must be one of {', '.join(enums[name])}"))
        elif name in kinds:
            kind = kinds[name]
            if isinstance(kind, str):
                if not _SCALAR_CHECKS[kind](item):
                    found.append((_join(path, name), f"must be {_SCALAR_NAMES[kind]}"))
            else:
                _kind(item, kind, _join(path, name), found)
        elif rule.closed and name not in consts and name not in enums:
            found.append((_join(path, name), "is not a recognised property"))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_SCALAR_CHECKS: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "datetime": formats.is_utc_timestamp,
    "duration": formats.is_duration,
    "iri": formats.is_iri,
    "urn_uuid": formats.is_urn_uuid,
    "email": formats.is_email,
    "string_or_object": lambda v: isinstance(v, str | dict),
}
_SCALAR_NAMES = {
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "a boolean",
    "object": "an object",
    "array": "an array",
    "datetime": "an ISO 8601 UTC timestamp such as 2024-04-24T14:12:00.000Z",
    "duration": "an ISO 8601 duration such as PT5M",
    "iri": "an IRI",
    "urn_uuid": "a UUID expressed as a URN (urn:uuid:...)",
    "email": "an email address",
    "string_or_object": "a string or an object",
}
