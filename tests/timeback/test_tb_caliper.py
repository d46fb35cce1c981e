"""Caliper client: envelopes, send, validate, read back, list, job status."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from companion.core.caliper import envelope
from companion.core.clock import FakeClock
from companion.timeback import (
    CALIPER_DATA_VERSION,
    CaliperClient,
    MalformedResponseError,
    NotFoundError,
    RejectedError,
)

BASE = "https://caliper.example.test"
EVENT_ID = "urn:uuid:0b9d2c2e-1d5e-4c43-9d6a-2f0f3b7d7a11"


def _event(n: int = 0) -> dict[str, Any]:
    return {"id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}", "type": "Event"}


def _client(handler: Any, clock: FakeClock | None = None) -> CaliperClient:
    return CaliperClient(BASE, sensor="https://companion.example/sensor",
                         transport=httpx.MockTransport(handler), clock=clock or FakeClock())


def test_send_returns_the_job_id_and_builds_the_envelope() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "success", "message": "queued",
                                         "jobId": "job-42"})

    clock = FakeClock(datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=UTC))
    with _client(handler, clock) as client:
        result = client.send([_event(1), _event(2)])
    assert (result.job_id, result.message) == ("job-42", "queued")
    assert (seen[0].method, seen[0].url.path) == ("POST", "/caliper/event")
    body = json.loads(seen[0].content)
    assert body == {"sensor": "https://companion.example/sensor",
                    "sendTime": "2026-01-05T09:00:00.123Z",
                    "dataVersion": CALIPER_DATA_VERSION, "data": [_event(1), _event(2)]}


def test_the_client_sends_the_envelope_core_builds() -> None:
    clock = FakeClock(datetime(2026, 1, 5, 9, 0, 0, 987654, tzinfo=UTC))
    with _client(lambda r: httpx.Response(500), clock) as client:
        built = client.envelope([_event(1)])
    assert built == envelope("https://companion.example/sensor", clock.utc_now(), [_event(1)])
    assert built["sendTime"] == "2026-01-05T09:00:00.987Z"


def test_older_answer_without_job_id() -> None:
    with _client(lambda r: httpx.Response(200, json={"status": "success",
                                                     "message": "ok"})) as client:
        assert client.send([_event()]).job_id is None


def test_envelope_size_limits() -> None:
    with _client(lambda r: httpx.Response(500)) as client:
        with pytest.raises(ValueError):
            client.send([])
        with pytest.raises(ValueError):
            client.send([_event(i) for i in range(101)])
        assert len(client.envelope([_event(i) for i in range(100)])["data"]) == 100


def test_rejected_send_carries_event_errors() -> None:
    errors = [{"eventIndex": 0, "eventId": EVENT_ID, "field": "actor", "message": "required"}]
    with _client(lambda r: httpx.Response(400, json={"status": "error", "message": "invalid",
                                                     "errors": errors})) as client, \
            pytest.raises(RejectedError) as info:
        client.send([_event()])
    assert info.value.errors == errors
    assert "invalid" in str(info.value) and not info.value.retryable


def test_send_without_success_status_is_malformed() -> None:
    with _client(lambda r: httpx.Response(200, json={"status": "weird"})) as client, \
            pytest.raises(MalformedResponseError):
        client.send([_event()])


def test_validate() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/caliper/event/validate"
        data = json.loads(request.content)["data"]
        if data[0]["type"] == "Event":
            return httpx.Response(200, json={"status": "success", "message": "valid"})
        return httpx.Response(400, json={"status": "error", "message": "1 invalid event",
                                         "errors": [{"eventIndex": 0, "eventId": "x",
                                                     "field": "type", "message": "unknown"}]})

    with _client(handler) as client:
        assert client.validate([_event()]).valid
        bad = client.validate([{"id": "x", "type": "Nope"}])
    assert not bad.valid and bad.message == "1 invalid event"
    assert [(e.event_index, e.event_id, e.field, e.message) for e in bad.errors] == [
        (0, "x", "type", "unknown")]


def test_get_event_keeps_colons_in_the_path_and_returns_none_when_missing() -> None:
    paths: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path)
        if request.url.path == f"/caliper/events/{EVENT_ID}":
            return httpx.Response(200, json={"status": "success", "event": {"id": EVENT_ID}})
        return httpx.Response(404, json={"status": "error", "message": "not found"})

    with _client(handler) as client:
        assert client.get_event(EVENT_ID) == {"id": EVENT_ID}
        assert client.get_event("urn:uuid:missing") is None
    # RFC 3986: ":" is a path character, so a server that does not decode paths finds it
    assert paths[0] == b"/caliper/events/urn:uuid:0b9d2c2e-1d5e-4c43-9d6a-2f0f3b7d7a11"
    with _client(handler) as client:
        client.get_event("urn:uuid:a b/c?d#e%f")
    assert paths[-1] == b"/caliper/events/urn:uuid:a%20b%2Fc%3Fd%23e%25f"


def test_list_events_sends_filters() -> None:
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"status": "success", "message": "", "events": [
            {"id": EVENT_ID}], "totalCount": 1, "offset": 0, "limit": 50})

    with _client(handler) as client:
        page = client.list_events(actor_id="urn:x", actor_email="a@b.test", sensor="s",
                                  start=datetime(2026, 1, 1, tzinfo=UTC),
                                  end=datetime(2026, 1, 2, tzinfo=UTC), limit=50, offset=0)
    assert dict(seen[0].params) == {
        "actorId": "urn:x", "actorEmail": "a@b.test", "sensor": "s",
        "startDate": "2026-01-01T00:00:00.000Z", "endDate": "2026-01-02T00:00:00.000Z",
        "limit": "50", "offset": "0"}
    assert (page.events, page.total_count, page.limit) == (({"id": EVENT_ID},), 1, 50)


def test_job_status() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/jobs/job-1/status":
            return httpx.Response(200, json={"jobId": "job-1", "state": "completed", "result": [
                {"eventId": EVENT_ID, "status": "stored", "message": "ok"},
                {"eventId": "urn:uuid:b", "status": "rejected", "message": "bad actor"}]})
        if request.url.path == "/jobs/job-2/status":
            return httpx.Response(200, json={"jobId": "job-2", "state": "exploded"})
        return httpx.Response(404, json={"status": "error", "message": "unknown job"})

    with _client(handler) as client:
        status = client.job_status("job-1")
        with pytest.raises(MalformedResponseError):
            client.job_status("job-2")
        with pytest.raises(NotFoundError):
            client.job_status("nope")
    assert status.finished and status.state == "completed"
    assert [(r.event_id, r.status) for r in status.results] == [
        (EVENT_ID, "stored"), ("urn:uuid:b", "rejected")]
