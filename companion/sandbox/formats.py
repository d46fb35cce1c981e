"""String formats the sandbox checks: timestamps, durations, IRIs, urn:uuid ids, emails."""

from __future__ import annotations

import re
from datetime import datetime

_UTC_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]00:00)$"
)
_DURATION = re.compile(
    r"^-?P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_URN_UUID = re.compile(
    r"^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_utc_timestamp(value: object) -> bool:
    """ISO 8601 date and time in UTC, e.g. 2024-04-24T14:12:00.000Z."""
    if not isinstance(value, str) or not _UTC_TIMESTAMP.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_duration(value: object) -> bool:
    """An ISO 8601 duration such as PT55M13S."""
    return isinstance(value, str) and bool(_DURATION.match(value))


def is_iri(value: object) -> bool:
    """An absolute IRI (a scheme, a colon, no spaces)."""
    return isinstance(value, str) and bool(_IRI.match(value))


def is_urn_uuid(value: object) -> bool:
    """A UUID expressed as a URN: urn:uuid:<8-4-4-4-12 hex>."""
    return isinstance(value, str) and bool(_URN_UUID.match(value))


def is_email(value: object) -> bool:
    """A plausible email address."""
    return isinstance(value, str) and bool(_EMAIL.match(value))
