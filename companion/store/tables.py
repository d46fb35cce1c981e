"""Tables of the offline store: store metadata, the lease, the outbox and the cached roster.

Times are kept as timezone-aware UTC ``datetime`` values in Python and as fixed-width
ISO-8601 text in SQLite (``UtcDateTime``), so that text order is time order.
Roster rows keep the OneRoster fields the app uses plus the raw JSON of the record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String
from sqlalchemy import Enum as SAEnum
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from companion.core.clock import utc_now  # the default where no time is given


class UtcDateTime(TypeDecorator[datetime]):
    """A UTC ``datetime`` stored as ``YYYY-MM-DDTHH:MM:SS.ffffff+00:00`` text."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        """Naive values are taken as UTC; aware ones are converted to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Text back to an aware UTC ``datetime``."""
        if value is None:
            return None
        return datetime.fromisoformat(str(value)).astimezone(UTC)


class StoreMeta(SQLModel, table=True):
    """Key/value facts about the database itself (e.g. ``environment``)."""

    __tablename__ = "store_meta"

    key: str = Field(primary_key=True)
    value: str


class LeaseRow(SQLModel, table=True):
    """Which process owns a named piece of work (the open run and the deliveries).

    Times are seconds on the holder's clock (``time.time`` unless injected).
    """

    __tablename__ = "lease"

    name: str = Field(primary_key=True)
    holder_id: str
    pid: int
    host: str
    acquired_at: float
    heartbeat_at: float
    expires_at: float
    pid_start: str | None = None  # the holder's start token (system.processes); step 2


class DeliveryState(StrEnum):
    """Where a delivery stands (the outbox's ``state`` column holds these values).

    pending -> in_flight -> delivered | pending (retry) | settling (sent, no clear answer)
    | refused; settling -> delivered | pending (read-back proved it missing) | held (the
    read-back could not be trusted); held -> settling (a later delivery can be read back)
    | pending (released by hand, or its missing data arrived); refused -> pending by hand.
    """

    PENDING = "pending"  # waiting to be sent (``next_attempt_at``), or sent again
    IN_FLIGHT = "in_flight"  # taken for sending; the answer is not recorded yet
    SETTLING = "settling"  # sent without a clear answer: read back before any resend
    HELD = "held"  # not sent, not lost: waiting on what ``hold_reason`` says
    DELIVERED = "delivered"  # the server accepted it (or read-back found it)
    REFUSED = "refused"  # the server refused it for good; kept, never deleted


OutboxState = DeliveryState  # the older name

# Names the outbox used before the states had their own column (schema version 1).
OLD_STATE_NAMES: dict[str, DeliveryState] = {
    "acked": DeliveryState.DELIVERED,
    "dead": DeliveryState.REFUSED,
}


def delivery_state(name: str) -> DeliveryState:
    """A state by its name, old names ("acked", "dead", "in-flight") accepted."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    if key in OLD_STATE_NAMES:
        return OLD_STATE_NAMES[key]
    return DeliveryState(key)


def _state_column() -> Column[DeliveryState]:
    kind = SAEnum(DeliveryState, native_enum=False, length=9, create_constraint=False,
                  values_callable=lambda states: [s.value for s in states],
                  validate_strings=True)
    return Column("state", kind, nullable=False, index=True,
                  default=DeliveryState.PENDING)


class OutboxItem(SQLModel, table=True):
    """One delivery (one Caliper event, or one gradebook write) waiting to be sent.

    ``event_id`` is unique: the Caliper event id, or a deterministic key for other kinds.
    """

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True)
    kind: str = Field(default="caliper", index=True)
    payload: str  # JSON text
    size_bytes: int = 0  # UTF-8 length of payload
    state: DeliveryState = Field(default=DeliveryState.PENDING, sa_column=_state_column())
    attempts: int = 0
    last_error: str | None = None
    run_id: str | None = Field(default=None, index=True)
    job_id: str | None = None
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    next_attempt_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime, index=True)
    acked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Set while an in_flight row is being settled (its send may or may not have arrived):
    # until this moment "not found on the server" does not yet mean "never arrived".
    # ``next_attempt_at`` is then the time of the next read-back check.
    settle_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # Why a held row waits (readable by a person), None in every other state.
    hold_reason: str | None = None


class RosterOrg(SQLModel, table=True):
    """A OneRoster org (school, district, ...)."""

    __tablename__ = "roster_orgs"

    sourced_id: str = Field(primary_key=True)
    status: str = "active"
    date_last_modified: str | None = None
    name: str = ""
    type: str | None = None
    identifier: str | None = None
    parent_id: str | None = None
    raw_json: str = "{}"


class RosterCourse(SQLModel, table=True):
    """A OneRoster course."""

    __tablename__ = "roster_courses"

    sourced_id: str = Field(primary_key=True)
    status: str = "active"
    date_last_modified: str | None = None
    title: str = ""
    course_code: str | None = None
    org_id: str | None = None
    raw_json: str = "{}"


class RosterClass(SQLModel, table=True):
    """A OneRoster class: a course taught at a school."""

    __tablename__ = "roster_classes"

    sourced_id: str = Field(primary_key=True)
    status: str = "active"
    date_last_modified: str | None = None
    title: str = ""
    class_code: str | None = None
    class_type: str | None = None
    course_sourced_id: str | None = None
    school_sourced_id: str | None = Field(default=None, index=True)
    raw_json: str = "{}"


class RosterUser(SQLModel, table=True):
    """A OneRoster user. ``enabled_user`` is the API's string ("true"/"false")."""

    __tablename__ = "roster_users"

    sourced_id: str = Field(primary_key=True)
    status: str = "active"
    date_last_modified: str | None = None
    given_name: str = ""
    family_name: str = ""
    middle_name: str | None = None
    preferred_first_name: str | None = None
    preferred_last_name: str | None = None
    email: str | None = Field(default=None, index=True)
    username: str | None = None
    enabled_user: str = "true"
    identifier: str | None = None
    user_master_identifier: str | None = None
    primary_org_id: str | None = None
    role: str | None = None  # the primary role (e.g. "student"), from ``roles``
    roles_json: str = "[]"  # the ``roles`` list as JSON
    org_ids_json: str = "[]"  # sourcedIds of the orgs in ``roles`` and ``primaryOrg``
    raw_json: str = "{}"


class RosterEnrollment(SQLModel, table=True):
    """A OneRoster enrollment: a user in a class with a role."""

    __tablename__ = "roster_enrollments"

    sourced_id: str = Field(primary_key=True)
    status: str = "active"
    date_last_modified: str | None = None
    role: str = ""
    primary: str | None = None
    user_sourced_id: str = Field(index=True)
    class_sourced_id: str = Field(index=True)
    school_sourced_id: str | None = None
    begin_date: str | None = None
    end_date: str | None = None
    raw_json: str = "{}"
