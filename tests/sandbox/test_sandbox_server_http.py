"""The sandbox over real HTTP on loopback, driven by a plain httpx client."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource

from companion.sandbox.faults import Fault
from companion.sandbox.server import SandboxHandle, start_in_thread

OR = "/ims/oneroster/rostering/v1p2"


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread(processing_delay_s=30.0) as handle:
        yield handle


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.base_url, timeout=10,
                      headers=sandbox.admin_headers) as c:
        token = c.post("/oauth2/token", data={"grant_type": "client_credentials"},
                       auth=("sandbox-client", "sandbox-secret")).json()["access_token"]
        c.headers["Authorization"] = f"Bearer {token}"
        yield c


def time_spent_event(event_id: str | None = None, **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "@context": "http://purl.imsglobal.org/ctx/caliper/v1p2",
        "id": event_id or f"urn:uuid:{uuid.uuid4()}",
        "type": "TimeSpentEvent",
        "actor": {"id": f"https://sandbox.local{OR}/users/demo-student-01",
                  "type": "TimebackUser", "email": "ava.johnson@demo.school"},
        "action": "SpentTime",
        "object": {"id": "https://sandbox.local/activities/1", "type": "TimebackActivityContext",
                   "subject": "Math", "app": {"name": "Timeback Companion"}},
        "eventTime": "2025-09-01T10:00:00.000Z",
        "profile": "TimebackProfile",
        "generated": {"id": "https://sandbox.local/metrics/1",
                      "type": "TimebackTimeSpentMetricsCollection",
                      "items": [{"type": "active", "value": 300}]},
    }
    event.update(changes)
    return event


def envelope(*events: dict[str, Any]) -> dict[str, Any]:
    return {"sensor": "https://sandbox.local/sensors/companion",
            "sendTime": "2025-09-01T10:00:01.000Z",
            "dataVersion": "http://purl.imsglobal.org/ctx/caliper/v1p2", "data": list(events)}


# --- token and auth -------------------------------------------------------------------------

def test_token_with_form_credentials_and_bad_cases(sandbox: SandboxHandle) -> None:
    with httpx.Client(base_url=sandbox.base_url) as c:
        ok = c.post("/oauth2/token", data={"grant_type": "client_credentials",
                                           "client_id": "sandbox-client",
                                           "client_secret": "sandbox-secret"})
        bad_secret = c.post("/oauth2/token", data={"grant_type": "client_credentials"},
                            auth=("sandbox-client", "wrong"))
        bad_grant = c.post("/oauth2/token", data={"grant_type": "password"},
                           auth=("sandbox-client", "sandbox-secret"))
    assert ok.status_code == 200
    assert ok.json()["token_type"] == "Bearer" and ok.json()["expires_in"] == 3600
    assert (bad_secret.status_code, bad_secret.json()) == (401, {"error": "invalid_client"})
    assert (bad_grant.status_code, bad_grant.json()) == (400, {"error": "unsupported_grant_type"})


def test_missing_unknown_and_expired_tokens_get_401(
        sandbox: SandboxHandle, client: httpx.Client) -> None:
    assert client.get(f"{OR}/users").status_code == 200
    with httpx.Client(base_url=sandbox.base_url) as anon:
        assert anon.get(f"{OR}/users").status_code == 401
        assert anon.get(f"{OR}/users", headers={"Authorization": "Bearer nope"}
                        ).status_code == 401
    sandbox.state.tokens.expire_all()
    assert client.get(f"{OR}/users").status_code == 401
    assert client.post("/caliper/event", json=envelope(time_spent_event())).status_code == 401


def test_token_lifetime_is_configurable() -> None:
    with start_in_thread(token_ttl_s=0) as handle, \
            httpx.Client(base_url=handle.base_url, headers=handle.admin_headers) as c:
        token = c.post("/oauth2/token", data={"grant_type": "client_credentials"},
                       auth=("sandbox-client", "sandbox-secret")).json()
        answer = c.get(f"{OR}/users",
                       headers={"Authorization": f"Bearer {token['access_token']}"})
    assert token["expires_in"] == 0
    assert answer.status_code == 401


# --- OneRoster ------------------------------------------------------------------------------

def test_demo_roster_shape(client: httpx.Client) -> None:
    users = client.get(f"{OR}/users", params={"limit": 3000}).json()["users"]
    students = [u for u in users if u["roles"][0]["role"] == "student"]
    assert len(students) >= 12
    assert any("'" in u["familyName"] for u in students)
    assert any(not u["givenName"].isascii() or not u["familyName"].isascii() for u in students)
    assert sum("email" not in u for u in students) == 1
    assert [u["enabledUser"] for u in users].count("false") == 1
    classes = client.get(f"{OR}/classes").json()["classes"]
    assert len(classes) == 2
    assert {c["course"]["sourcedId"] for c in classes} == {"demo-course-1"}
    course = client.get(f"{OR}/courses/demo-course-1").json()["course"]
    assert course["title"] == "Companion Demo Course"
    teachers = client.get(f"{OR}/classes/demo-class-1/teachers").json()["users"]
    assert [t["sourcedId"] for t in teachers] == ["demo-guide-1"]


def test_filter_with_quote_or_contains_and_comparison(client: httpx.Client) -> None:
    quoted = client.get(f"{OR}/users", params={"filter": "familyName='O''Brien'"}).json()
    assert [u["familyName"] for u in quoted["users"]] == ["O'Brien"]
    either = client.get(f"{OR}/students", params={
        "filter": "givenName~'ZO' OR familyName='Nguyễn'", "sort": "givenName"}).json()
    assert [u["givenName"] for u in either["users"]] == ["Minh", "Zoë"]
    both = client.get(f"{OR}/users", params={
        "filter": "enabledUser='true' AND sourcedId>='demo-student-13'"}).json()
    assert [u["sourcedId"] for u in both["users"]] == ["demo-student-14"]
    other = client.get(f"{OR}/users", params={"filter": "roles.role!='student'"}).json()
    assert [u["sourcedId"] for u in other["users"]] == ["demo-guide-1"]


def test_sort_order_fields_and_pagination(client: httpx.Client) -> None:
    first = client.get(f"{OR}/students", params={
        "sort": "familyName", "orderBy": "desc", "fields": "sourcedId,familyName",
        "limit": 5, "offset": 0})
    body = first.json()
    assert body["totalCount"] == 14 and body["limit"] == 5 and body["offset"] == 0
    assert (body["pageCount"], body["pageNumber"]) == (3, 1)
    assert first.headers["X-Total-Count"] == "14"
    last = client.get(f"{OR}/students", params={"limit": 5, "offset": 10}).json()
    assert (last["pageCount"], last["pageNumber"], len(last["users"])) == (3, 3, 4)
    names = [u["familyName"] for u in body["users"]]
    assert names == sorted(names, reverse=True)
    assert all(set(u) == {"sourcedId", "familyName"} for u in body["users"])
    seen = [u["sourcedId"] for u in body["users"]]
    link = first.headers["Link"]
    while 'rel="next"' in link:
        next_url = link.split('>; rel="next"')[0].split("<")[-1]
        page = client.get(next_url)
        seen += [u["sourcedId"] for u in page.json()["users"]]
        link = page.headers["Link"]
    assert len(seen) == len(set(seen)) == 14
    assert 'rel="last"' in first.headers["Link"]


@pytest.mark.parametrize(("params", "code"), [
    ({"filter": "shoeSize='9'"}, "invalid_filter_field"),
    ({"filter": "givenName = Ava"}, "invalid_filter_field"),
    ({"sort": "shoeSize"}, "invalid_sort_field"),
    ({"fields": "sourcedId,shoeSize"}, "invalid_selection_field"),
])
def test_bad_queries_get_imsx_400(client: httpx.Client, params: dict[str, str], code: str
                                  ) -> None:
    answer = client.get(f"{OR}/users", params=params)
    assert answer.status_code == 400
    body = answer.json()
    assert body["imsx_codeMajor"] == "failure"
    assert body["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == code


def test_unknown_sourced_id_gets_imsx_404(client: httpx.Client) -> None:
    for path in (f"{OR}/users/nobody", f"{OR}/classes/nothing/students"):
        answer = client.get(path)
        assert answer.status_code == 404
        field = answer.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]
        assert field["imsx_codeMinorFieldValue"] == "unknownobject"


def _validator(shared: Path, name: str) -> jsonschema.Draft7Validator:
    """A validator for a derived OneRoster schema; refs to schemas not in derived/ (held out)
    resolve to the same definitions in the official rostering OpenAPI file."""
    openapi = (shared / "conformance/oneroster/openapi"
               / "onerosterv1p2rostersservice_openapi3_v1p0.json")
    text = openapi.read_text(encoding="utf-8").replace("#/components/schemas/", "")
    components = json.loads(text)["components"]["schemas"]
    resources = [(f"{key}.schema.json", Resource.from_contents(
        {"$schema": "http://json-schema.org/draft-07/schema#", **_refs_to_files(value)}))
        for key, value in components.items()]
    folder = shared / "conformance/oneroster/derived/schemas/rostering"
    resources += [(p.name, Resource.from_contents(json.loads(p.read_text())))
                  for p in folder.glob("*.schema.json")]
    registry: Registry = Registry().with_resources(resources)
    schema = json.loads((folder / name).read_text())
    return jsonschema.Draft7Validator(schema, registry=registry)


def _refs_to_files(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (f"{v}.schema.json" if k == "$ref" else _refs_to_files(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_refs_to_files(v) for v in value]
    return value


@pytest.mark.parametrize(("path", "schema"), [
    (f"{OR}/users/demo-student-02", "SingleUserDType.schema.json"),
    (f"{OR}/users/demo-student-07", "SingleUserDType.schema.json"),
    (f"{OR}/schools/demo-school-1", "SingleOrgDType.schema.json"),
    (f"{OR}/courses/demo-course-1", "SingleCourseDType.schema.json"),
    (f"{OR}/enrollments/demo-class-1-guide", "SingleEnrollmentDType.schema.json"),
    (f"{OR}/academicSessions/demo-term-2025", "SingleAcademicSessionDType.schema.json"),
    (f"{OR}/orgs", "OrgSetDType.schema.json"),
    (f"{OR}/enrollments", "EnrollmentSetDType.schema.json"),
    (f"{OR}/academicSessions", "AcademicSessionSetDType.schema.json"),
])
def test_responses_match_oneroster_schemas(shared: Path, client: httpx.Client, path: str,
                                           schema: str) -> None:
    body = client.get(path).json()
    if "Set" in schema:
        # Timeback's oneroster-api.yaml adds these body fields to every list; the 1EdTech
        # set schemas are closed, so they are checked here and removed before validation.
        paging = ("totalCount", "pageCount", "pageNumber", "offset", "limit")
        assert set(paging) <= set(body)
        body = {k: v for k, v in body.items() if k not in paging}
    errors = [e.message for e in _validator(shared, schema).iter_errors(body)]
    assert errors == []


def test_error_payload_matches_imsx_schema(shared: Path, client: httpx.Client) -> None:
    body = client.get(f"{OR}/users/nobody").json()
    validator = _validator(shared, "imsx_StatusInfoDType.schema.json")
    assert [e.message for e in validator.iter_errors(body)] == []


# --- Caliper ingestion ----------------------------------------------------------------------

def test_event_is_readable_only_after_its_job_completes(
        sandbox: SandboxHandle, client: httpx.Client) -> None:
    event = time_spent_event()
    sent = client.post("/caliper/event", json=envelope(event))
    assert sent.status_code == 200 and sent.json()["status"] == "success"
    job_id = sent.json()["jobId"]
    assert client.get(f"/jobs/{job_id}/status").json()["state"] == "waiting"
    by_id = f"/caliper/events/{httpx.URL(event['id']).raw_path.decode()}"
    assert client.get(by_id).status_code == 404
    assert client.post("/_admin/process-now").status_code == 200
    job = client.get(f"/jobs/{job_id}/status").json()
    assert job["state"] == "completed"
    assert job["result"] == [{"eventId": event["id"], "status": "stored", "message": "stored"}]
    read = client.get(f"/caliper/events/{event['id'].replace(':', '%3A')}")
    assert read.status_code == 200 and read.json()["event"] == event
    listed = client.get("/caliper/events", params={
        "actorEmail": "ava.johnson@demo.school", "startDate": "2025-09-01T00:00:00.000Z"}).json()
    assert [e["id"] for e in listed["events"]] == [event["id"]] and listed["totalCount"] == 1
    assert client.get("/jobs/no-such-job/status").status_code == 404


def test_worker_processes_after_the_delay_without_admin_call() -> None:
    with start_in_thread(processing_delay_s=0.0) as handle, httpx.Client(
            base_url=handle.base_url, headers=handle.admin_headers) as c:
        token = c.post("/oauth2/token", data={"grant_type": "client_credentials"},
                       auth=("sandbox-client", "sandbox-secret")).json()["access_token"]
        event = time_spent_event()
        c.post("/caliper/event", json=envelope(event),
               headers={"Authorization": f"Bearer {token}"})
        handle.state.process_now()  # returns once the queue is empty and nothing is in flight
        assert list(handle.state.stored_events) == [event["id"]]


def test_duplicates_are_stored_and_counted(sandbox: SandboxHandle, client: httpx.Client) -> None:
    event = time_spent_event()
    client.post("/caliper/event", json=envelope(event))
    client.post("/caliper/event", json=envelope(event, time_spent_event()))
    sandbox.state.process_now()
    assert len(sandbox.state.stored_events) == 2
    assert sandbox.state.duplicate_count == 1
    assert sandbox.state.request_counts["POST /caliper/event"] == 2
    assert client.get("/caliper/events").json()["totalCount"] == 3


@pytest.mark.parametrize(("change", "field"), [
    ({"id": "c51570e4-f8ed-4c18-bb3a-dfe51b2cc594"}, "id"),
    ({"eventTime": "2025-09-01 10:00"}, "eventTime"),
    ({"eventTime": "2025-09-01T10:00:00+02:00"}, "eventTime"),
    ({"action": "Completed"}, "action"),
    ({"profile": "GeneralProfile"}, "profile"),
    ({"generated": None}, "generated"),
])
def test_invalid_event_is_rejected_naming_event_and_field(
        sandbox: SandboxHandle, client: httpx.Client, change: dict[str, Any], field: str) -> None:
    good, bad = time_spent_event(), time_spent_event(**change)
    for path in ("/caliper/event/validate", "/caliper/event"):
        answer = client.post(path, json=envelope(good, bad))
        assert answer.status_code == 400
        body = answer.json()
        assert body["status"] == "error"
        assert {(e["eventIndex"], e["field"]) for e in body["errors"]} == {(1, field)}
    sandbox.state.process_now()
    assert sandbox.state.stored_events == {}


def test_nested_timeback_violations_are_named(client: httpx.Client) -> None:
    bad_actor = time_spent_event(actor={"id": "https://x.test/u/1", "type": "TimebackUser",
                                        "email": "a@b.test", "role": "wizard"})
    bad_metric = time_spent_event(generated={"id": "https://x.test/m", "type":
                                             "TimebackTimeSpentMetricsCollection",
                                             "items": [{"type": "active", "value": "300"}]})
    answer = client.post("/caliper/event/validate", json=envelope(bad_actor, bad_metric))
    fields = {(e["eventIndex"], e["field"]) for e in answer.json()["errors"]}
    assert fields == {(0, "actor.role"), (1, "generated.items[0].value")}


def test_envelope_level_errors(client: httpx.Client) -> None:
    too_many = envelope(*[time_spent_event() for _ in range(101)])
    assert client.post("/caliper/event/validate", json=too_many).status_code == 400
    wrong_version = {**envelope(time_spent_event()), "dataVersion": "1.1"}
    answer = client.post("/caliper/event", json=wrong_version)
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "dataVersion"
    assert client.post("/caliper/event", content=b"{not json").status_code == 400
    assert client.post("/caliper/event/validate",
                       json=envelope(time_spent_event())).status_code == 200


def test_activity_completed_event_is_accepted(client: httpx.Client) -> None:
    event = time_spent_event(type="ActivityEvent", action="Completed", generated={
        "id": "https://x.test/m", "type": "TimebackActivityMetricsCollection",
        "items": [{"type": "xpEarned", "value": 5}, {"type": "correctQuestions", "value": 4}]})
    assert client.post("/caliper/event/validate", json=envelope(event)).status_code == 200


def test_data_dir_keeps_events_and_waiting_jobs_across_restart(tmp_path: Path) -> None:
    first, second = time_spent_event(), time_spent_event()
    with (start_in_thread(data_dir=tmp_path, processing_delay_s=60) as handle,
          httpx.Client(base_url=handle.base_url, headers=handle.admin_headers) as c):
        token = c.post("/oauth2/token", data={"grant_type": "client_credentials"},
                       auth=("sandbox-client", "sandbox-secret")).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        c.post("/caliper/event", json=envelope(first), headers=auth)
        handle.state.process_now()
        c.post("/caliper/event", json=envelope(second), headers=auth)
    with start_in_thread(data_dir=tmp_path, processing_delay_s=60) as handle:
        assert list(handle.state.stored_events) == [first["id"]]
        handle.state.process_now()
        assert list(handle.state.stored_events) == [first["id"], second["id"]]


# --- faults and admin -----------------------------------------------------------------------

def test_drop_before_reading_closes_without_any_response(
        sandbox: SandboxHandle, client: httpx.Client) -> None:
    sandbox.state.faults.set("caliper.event", Fault(drop_before=1))
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/caliper/event", json=envelope(time_spent_event()))
    sandbox.state.process_now()
    assert sandbox.state.stored_events == {}
    assert client.post("/caliper/event", json=envelope(time_spent_event())).status_code == 200


def test_commit_then_drop_stores_but_does_not_answer(
        sandbox: SandboxHandle, client: httpx.Client) -> None:
    answer = client.post("/_admin/faults", json={"caliper.event": {"commit_then_drop": 1}})
    assert answer.status_code == 200
    event = time_spent_event()
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.post("/caliper/event", json=envelope(event))
    client.post("/_admin/process-now")
    assert list(sandbox.state.stored_events) == [event["id"]]


def test_429_burst_with_retry_after_then_normal(client: httpx.Client) -> None:
    client.post("/_admin/faults", json={"oneroster": {"burst_429": 2, "retry_after_s": 7}})
    statuses = [client.get(f"{OR}/users") for _ in range(3)]
    assert [s.status_code for s in statuses] == [429, 429, 200]
    assert statuses[0].headers["Retry-After"] == "7"


def test_error_rate_is_repeatable_with_the_same_seed() -> None:
    def run() -> list[int]:
        with start_in_thread() as handle, \
                httpx.Client(base_url=handle.base_url, headers=handle.admin_headers) as c:
            handle.state.faults.clear(seed=42)
            handle.state.faults.set("token", Fault(error_rate=0.5))
            return [c.post("/oauth2/token", data={"grant_type": "client_credentials"},
                           auth=("sandbox-client", "sandbox-secret")).status_code
                    for _ in range(12)]

    first = run()
    assert first == run()
    assert set(first) == {200, 500}


def test_slow_answer_passes_the_client_timeout(
        sandbox: SandboxHandle, client: httpx.Client) -> None:
    sandbox.state.faults.set("caliper.events", Fault(slow_s=2.0))
    with pytest.raises(httpx.ReadTimeout):
        client.get("/caliper/events", timeout=0.2)


def test_admin_state_and_reset(sandbox: SandboxHandle, client: httpx.Client) -> None:
    client.post("/caliper/event", json=envelope(time_spent_event()))
    client.post("/_admin/process-now")
    state = client.get("/_admin/state").json()
    assert len(state["storedEventIds"]) == 1
    assert state["requestCounts"]["POST /caliper/event"] == 1
    assert client.post("/_admin/faults", json={"jobs": {"nonsense": 1}}).status_code == 400
    client.post("/_admin/reset")
    assert client.get("/_admin/state").json()["storedEventIds"] == []


def test_admin_routes_need_the_token_made_at_start(sandbox: SandboxHandle) -> None:
    with httpx.Client(base_url=sandbox.base_url, timeout=10) as anyone:
        for method, path in (("GET", "/_admin/state"), ("POST", "/_admin/reset"),
                             ("POST", "/_admin/lti/rotate-key"), ("POST", "/_admin/faults")):
            assert anyone.request(method, path).status_code == 403, path
            wrong = anyone.request(method, path, headers={"X-Sandbox-Admin-Token": "guess"})
            assert wrong.status_code == 403, path
        assert anyone.get("/_admin/state", headers=sandbox.admin_headers).status_code == 200
    with start_in_thread() as other:
        assert other.admin_headers != sandbox.admin_headers  # a new token every start
