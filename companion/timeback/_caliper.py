"""Caliper client: send and validate envelopes, read events back, read job status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from companion.core import caliper
from companion.core.clock import Clock, SystemClock

from ._errors import MalformedResponseError, NotFoundError, RejectedError
from ._transport import ServiceClient, json_object

CALIPER_DATA_VERSION = caliper.CALIPER_CONTEXT
MAX_EVENTS = caliper.MAX_ENVELOPE_EVENTS
JOB_STATES = frozenset({"waiting", "active", "completed", "failed"})
# RFC 3986 path-segment characters besides the unreserved ones: kept as they are, so that
# "urn:uuid:..." reaches a server that does not percent-decode paths.
PATH_SAFE = ":@!$&'()*+,;="


@dataclass(frozen=True)
class SendResult:
    """The server accepted an envelope; ``job_id`` is None for servers that give none."""

    message: str
    job_id: str | None


@dataclass(frozen=True)
class EventError:
    """Why the server refused one event of an envelope."""

    event_index: int | None
    event_id: str | None
    field: str | None
    message: str


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of /caliper/event/validate."""

    valid: bool
    message: str
    errors: tuple[EventError, ...] = ()


@dataclass(frozen=True)
class EventPage:
    """One page of stored events."""

    events: tuple[dict[str, Any], ...]
    total_count: int | None
    offset: int | None
    limit: int | None


@dataclass(frozen=True)
class JobEventResult:
    """What a job did with one event."""

    event_id: str
    status: str  # "stored" | "rejected"
    message: str | None


@dataclass(frozen=True)
class JobStatus:
    """An ingestion job's state and, once done, its per-event results."""

    job_id: str
    state: str  # waiting | active | completed | failed
    results: tuple[JobEventResult, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.state in ("completed", "failed")


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds and a Z, as Caliper wants."""
    return caliper.format_timestamp(moment, 0)


def _event_errors(raw: Any) -> tuple[EventError, ...]:
    if not isinstance(raw, list):
        return ()
    out = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        index = item.get("eventIndex")
        out.append(EventError(
            event_index=index if isinstance(index, int) and not isinstance(index, bool) else None,
            event_id=item.get("eventId") if isinstance(item.get("eventId"), str) else None,
            field=item.get("field") if isinstance(item.get("field"), str) else None,
            message=str(item.get("message", "")),
        ))
    return tuple(out)


class CaliperClient(ServiceClient):
    """Talks to the Caliper service at ``base_url`` (the host root) as ``sensor``."""

    def __init__(
        self,
        base_url: str,
        *,
        sensor: str,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(base_url, auth=auth, transport=transport, timeout=timeout)
        self.sensor = sensor
        self._clock: Clock = clock or SystemClock()

    def envelope(self, events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The envelope for 1..100 events, stamped with the clock's time."""
        return caliper.envelope(self.sensor, self._clock.utc_now(), events)

    def send(self, events: Sequence[Mapping[str, Any]]) -> SendResult:
        """Send up to 100 events; RejectedError (with ``errors``) if the server refuses them."""
        response = self._http.request("POST", "/caliper/event", json_body=self.envelope(events))
        body = json_object(response)
        job_id = body.get("jobId")
        if job_id is not None and not isinstance(job_id, str | int):
            raise MalformedResponseError(f"jobId is not a string: {job_id!r}")
        if body.get("status") != "success":
            error = MalformedResponseError(
                f"Caliper answered {response.status_code} without status 'success': "
                f"{str(body)[:200]}", url=str(response.request.url)
            )
            error.job_id = None if job_id is None else str(job_id)
            raise error
        return SendResult(message=str(body.get("message", "")),
                          job_id=None if job_id is None else str(job_id))

    def validate(self, events: Sequence[Mapping[str, Any]]) -> ValidationResult:
        """Ask the server to check events without storing them."""
        try:
            response = self._http.request(
                "POST", "/caliper/event/validate", json_body=self.envelope(events)
            )
        except RejectedError as exc:
            if exc.status_code != 400:
                raise
            body = exc.body if isinstance(exc.body, dict) else {}
            return ValidationResult(
                valid=False,
                message=str(body.get("message", exc.message)),
                errors=_event_errors(body.get("errors")),
            )
        body = json_object(response)
        if body.get("status") != "success":
            raise MalformedResponseError(f"validate answered without status 'success': {body}")
        return ValidationResult(valid=True, message=str(body.get("message", "")))

    def get_event(self, event_id: str) -> dict[str, Any] | None:
        """The stored event with this id (``urn:uuid:...``), or None if there is none (yet)."""
        try:
            path = f"/caliper/events/{quote(event_id, safe=PATH_SAFE)}"
            response = self._http.request("GET", path)
        except NotFoundError:
            return None
        body = json_object(response)
        event = body.get("event")
        if not isinstance(event, dict):
            raise MalformedResponseError(f"the answer for event {event_id} has no event object")
        return event

    def list_events(
        self,
        *,
        actor_id: str | None = None,
        actor_email: str | None = None,
        sensor: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> EventPage:
        """One page of stored events, filtered by actor, sensor and time range."""
        params: dict[str, Any] = {}
        for key, value in (
            ("actorId", actor_id),
            ("actorEmail", actor_email),
            ("sensor", sensor),
            ("startDate", format_time(start) if start else None),
            ("endDate", format_time(end) if end else None),
            ("limit", limit),
            ("offset", offset),
        ):
            if value is not None:
                params[key] = value
        body = json_object(self._http.request("GET", "/caliper/events", params=params))
        events = body.get("events")
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise MalformedResponseError("the event list has no 'events' array of objects")

        def count(key: str) -> int | None:
            value = body.get(key)
            return value if isinstance(value, int) and not isinstance(value, bool) else None

        return EventPage(tuple(events), count("totalCount"), count("offset"), count("limit"))

    def job_status(self, job_id: str) -> JobStatus:
        """The state of an ingestion job; NotFoundError if the server does not know it."""
        path = f"/jobs/{quote(job_id, safe=PATH_SAFE)}/status"
        body = json_object(self._http.request("GET", path))
        state = body.get("state")
        if state not in JOB_STATES:
            raise MalformedResponseError(f"job {job_id} has an unknown state: {state!r}")
        results = []
        for item in body.get("result") or []:
            if not isinstance(item, dict) or not isinstance(item.get("eventId"), str) \
                    or item.get("status") not in ("stored", "rejected"):
                raise MalformedResponseError(f"job {job_id} has a bad result entry: {item!r}")
            message = item.get("message")
            results.append(JobEventResult(item["eventId"], item["status"],
                                          message if isinstance(message, str) else None))
        return JobStatus(str(body.get("jobId", job_id)), state, tuple(results), body)
