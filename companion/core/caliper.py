"""Caliper 1.2 events in Timeback's profile, built as plain dicts ready for JSON.

Two events describe a run: TimeSpentEvents (``SpentTime``) for its settled time, window by
window, and one ActivityEvent (``Completed``) with its questions, XP and mastery. Event ids
are derived from the run id and what the event covers, so rebuilding them after a crash
gives the same ids and Timeback never receives a second copy of the same fact.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from companion.core.journal import ms_to_seconds

CALIPER_CONTEXT = "http://purl.imsglobal.org/ctx/caliper/v1p2"
PROFILE = "TimebackProfile"
MAX_ENVELOPE_EVENTS = 100  # Timeback takes at most 100 events in one envelope

SUBJECTS: tuple[str, ...] = ("Science", "Math", "Reading", "Language", "Social Studies", "None")
ROLES: tuple[str, ...] = ("student", "teacher", "admin", "guide")
CATEGORIES: tuple[str, ...] = ("active", "inactive", "waste", "unknown")
INACTIVE_SUB_TYPES: tuple[str, ...] = ("idle", "locked", "suspended")
ONEROSTER_ROSTERING = "/ims/oneroster/rostering/v1p2"


class MissingEmail(ValueError):
    """The actor has no email, which Timeback requires; the event cannot be built yet."""

    def __init__(self, user_url: str) -> None:
        super().__init__(f"user {user_url} has no email; Timeback events need one")
        self.user_url = user_url


@dataclass(frozen=True, slots=True)
class AppInfo:
    """This application as Caliper sees it: the sensor id, the edApp id and its name."""

    sensor: str
    app_id: str
    app_name: str


DEFAULT_APP = AppInfo(
    sensor="https://timeback-companion.app/sensors/desktop",
    app_id="https://timeback-companion.app",
    app_name="Timeback Companion",
)


@dataclass(frozen=True, slots=True)
class Actor:
    """The student (or other roster user) an event is about."""

    user_url: str
    email: str | None
    role: str = "student"
    name: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, not {self.role!r}")


@dataclass(frozen=True, slots=True)
class ActivityInfo:
    """The lesson and course a run belongs to. ``subject`` is one of SUBJECTS."""

    subject: str
    course_id_url: str
    course_name: str
    activity_id_url: str
    activity_name: str

    def __post_init__(self) -> None:
        if self.subject not in SUBJECTS:
            raise ValueError(f"subject must be one of {SUBJECTS}, not {self.subject!r}")


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Everything about a run that its events carry besides the measured numbers.

    ``anchor`` is the run's wall-clock start (timezone-aware); journal time is added to it.
    """

    run_id: str
    anchor: datetime
    attempt: int
    actor: Actor
    activity: ActivityInfo
    app: AppInfo = field(default=DEFAULT_APP)

    def __post_init__(self) -> None:
        uuid.UUID(self.run_id)  # raises ValueError when the run id is not a UUID
        if self.anchor.utcoffset() is None:
            raise ValueError("the run's anchor must be a timezone-aware datetime")
        if self.attempt < 1:
            raise ValueError(f"attempt must be at least 1, not {self.attempt}")


def format_timestamp(anchor: datetime, t_ms: int) -> str:
    """``anchor + t_ms`` in UTC as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (milliseconds rounded down)."""
    if anchor.utcoffset() is None:
        raise ValueError("the anchor must be a timezone-aware datetime")
    moment = anchor.astimezone(UTC) + timedelta(milliseconds=t_ms)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def new_event_id() -> str:
    """A fresh ``urn:uuid:`` id: a version 4 UUID, as Caliper 1.2 says an id SHOULD be.

    An event's id is made once, when the event is written to the outbox, and is stored with
    it; nothing rebuilds an event or its id (``companion audit`` compares events by content).
    """
    return f"urn:uuid:{uuid.uuid4()}"


IdMaker = Callable[[], str]


def user_url(oneroster_base: str, sourced_id: str) -> str:
    """The OneRoster 1.2 URL of a user: ``<base>/ims/oneroster/rostering/v1p2/users/<id>``."""
    return _rostering_url(oneroster_base, "users", sourced_id)


def course_url(oneroster_base: str, sourced_id: str) -> str:
    """The OneRoster 1.2 URL of a course: ``<base>/ims/oneroster/rostering/v1p2/courses/<id>``."""
    return _rostering_url(oneroster_base, "courses", sourced_id)


def component_url(oneroster_base: str, sourced_id: str) -> str:
    """The URL of a course component (a lesson): ``.../rostering/v1p2/courses/components/<id>``."""
    return _rostering_url(oneroster_base, "courses/components", sourced_id)


def time_spent_event(
    run: RunInfo, start_ms: int, end_ms: int, totals: Mapping[tuple[str, str | None], int],
    *, new_id: IdMaker = new_event_id,
) -> dict[str, Any]:
    """The TimeSpentEvent for the window [start_ms, end_ms) of a run.

    ``totals`` holds milliseconds per (category, sub_type), as from
    ``timespent.window_totals``; they must add up to the window's length. Every category
    gets an item (zero when absent), each dated with the window's bounds.
    Raises MissingEmail when the actor has no email.
    """
    if end_ms <= start_ms:
        raise ValueError(f"empty or reversed window [{start_ms}, {end_ms})")
    _check_totals(totals, end_ms - start_ms)
    start_date = format_timestamp(run.anchor, start_ms)
    end_date = format_timestamp(run.anchor, end_ms)
    items: list[dict[str, Any]] = []
    for category in CATEGORIES:
        keys = sorted(
            (k for k in totals if k[0] == category and totals[k] > 0),
            key=lambda k: k[1] or "",
        )
        if not keys:
            keys = [(category, None)]
        for key in keys:
            item: dict[str, Any] = {"type": category}
            if key[1] is not None:
                item["subType"] = key[1]
            item["value"] = ms_to_seconds(totals.get(key, 0))
            item["startDate"] = start_date
            item["endDate"] = end_date
            items.append(item)
    generated = {
        "id": new_id(),
        "type": "TimebackTimeSpentMetricsCollection",
        "items": items,
    }
    return _event(run, new_id(), "TimeSpentEvent", "SpentTime", end_ms, generated)


def activity_completed_event(
    run: RunInfo, end_ms: int, questions: int, correct: int, xp: Decimal, mastered: bool,
    app_scored: int = 0, content_scored: int | None = None,
    *, new_id: IdMaker = new_event_id,
) -> dict[str, Any]:
    """The ActivityEvent (``Completed``) of a run that ended at ``end_ms``.

    The metric items are totalQuestions, correctQuestions, xpEarned and masteredUnits (1 or
    0); the attempt number is a property of the collection. The event's ``extensions`` say
    how many of the questions the app scored against its key (``appScored``) and how many
    the content scored (``contentScored``; by default all the others). Raises MissingEmail
    when the actor has no email.
    """
    if questions < 0 or not 0 <= correct <= questions:
        raise ValueError(f"need 0 <= correct <= questions, got {correct} of {questions}")
    if content_scored is None:
        content_scored = questions - app_scored
    if app_scored < 0 or content_scored < 0 or app_scored + content_scored != questions:
        raise ValueError(f"app- and content-scored answers must add up to {questions}")
    if xp < 0:
        raise ValueError(f"xp must not be negative, not {xp}")
    generated = {
        "id": new_id(),
        "type": "TimebackActivityMetricsCollection",
        "attempt": run.attempt,
        "items": [
            {"type": "totalQuestions", "value": questions},
            {"type": "correctQuestions", "value": correct},
            {"type": "xpEarned", "value": _number(xp)},
            {"type": "masteredUnits", "value": 1 if mastered else 0},
        ],
    }
    event = _event(run, new_id(), "ActivityEvent", "Completed", end_ms, generated)
    event["extensions"] = {"appScored": app_scored, "contentScored": content_scored}
    return event


def envelope(
    sensor: str, send_time: datetime, events: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """A Caliper envelope carrying ``events`` (1 to ``MAX_ENVELOPE_EVENTS``; copied), sent
    by ``sensor`` at ``send_time``."""
    if not 1 <= len(events) <= MAX_ENVELOPE_EVENTS:
        raise ValueError(
            f"an envelope holds 1 to {MAX_ENVELOPE_EVENTS} events, not {len(events)}"
        )
    return {
        "sensor": sensor,
        "sendTime": format_timestamp(send_time, 0),
        "dataVersion": CALIPER_CONTEXT,
        "data": [dict(e) for e in events],
    }


def _event(
    run: RunInfo, id_: str, type_: str, action: str, end_ms: int, generated: dict[str, Any]
) -> dict[str, Any]:
    return {
        "@context": CALIPER_CONTEXT,
        "id": id_,
        "type": type_,
        "profile": PROFILE,
        "actor": _actor(run.actor),
        "action": action,
        "object": _object(run),
        "eventTime": format_timestamp(run.anchor, end_ms),
        "edApp": run.app.app_id,
        "session": f"urn:uuid:{uuid.UUID(run.run_id)}",
        "generated": generated,
    }


def _actor(actor: Actor) -> dict[str, Any]:
    if actor.email is None or not actor.email.strip():
        raise MissingEmail(actor.user_url)
    out: dict[str, Any] = {
        "id": actor.user_url,
        "type": "TimebackUser",
        "email": actor.email.strip(),
        "role": actor.role,
    }
    if actor.name:
        out["name"] = actor.name
    return out


def _object(run: RunInfo) -> dict[str, Any]:
    activity = run.activity
    return {
        "id": activity.activity_id_url,
        "type": "TimebackActivityContext",
        "subject": activity.subject,
        "app": {"id": run.app.app_id, "name": run.app.app_name},
        "course": {"id": activity.course_id_url, "name": activity.course_name},
        "activity": {"id": activity.activity_id_url, "name": activity.activity_name},
        "process": True,
    }


def _check_totals(totals: Mapping[tuple[str, str | None], int], length_ms: int) -> None:
    for (category, sub_type), ms in totals.items():
        if category not in CATEGORIES:
            raise ValueError(f"unknown time category {category!r}")
        if ms < 0:
            raise ValueError(f"negative time for {category}/{sub_type}: {ms}")
        if category == "inactive" and sub_type not in INACTIVE_SUB_TYPES:
            raise ValueError(f"inactive time needs a subType in {INACTIVE_SUB_TYPES}")
        if category == "waste" and not (
            sub_type == "focus-lost" or (sub_type or "").startswith("focus-lost:")
        ):
            raise ValueError("waste time needs the subType focus-lost or focus-lost:<app>")
    total = sum(totals.values())
    if total != length_ms:
        raise ValueError(f"totals add up to {total} ms, not the window's {length_ms}")


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _rostering_url(base: str, collection: str, sourced_id: str) -> str:
    return f"{base.rstrip('/')}{ONEROSTER_ROSTERING}/{collection}/{quote(sourced_id, safe='')}"
