"""The clients against the real sandbox server (companion.sandbox), over loopback HTTP."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from companion.core.clock import FakeClock
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.timeback import (
    SANDBOX_CREDENTIALS,
    CaliperClient,
    ClientCredentialsAuth,
    Credentials,
    Environment,
    NotFoundError,
    OneRosterClient,
    Query,
    RejectedError,
    UnauthorisedError,
    auth_for,
    caliper_client,
    eq,
    oneroster_client,
    sandbox_environment,
    verify_credentials,
)

SENSOR = "https://companion.test/sensors/1"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    handle = start_in_thread(port=0, data_dir=tmp_path_factory.mktemp("sandbox"))
    yield handle
    handle.stop()


@pytest.fixture
def env(sandbox: SandboxHandle) -> Environment:
    return sandbox_environment(sandbox.base_url)


@pytest.fixture
def roster_client(env: Environment) -> Iterator[OneRosterClient]:
    with oneroster_client(env, auth_for(env)) as client:
        yield client


@pytest.fixture
def caliper(env: Environment) -> Iterator[CaliperClient]:
    with caliper_client(env, auth_for(env), sensor=SENSOR) as client:
        yield client


def test_token_with_built_in_credentials(env: Environment) -> None:
    verify_credentials(env, SANDBOX_CREDENTIALS)
    with pytest.raises(UnauthorisedError):
        verify_credentials(env, Credentials("sandbox-client", "wrong"))


def test_expired_token_is_replaced_once(sandbox: SandboxHandle, env: Environment) -> None:
    auth = ClientCredentialsAuth(env.token_url, SANDBOX_CREDENTIALS, clock=FakeClock())
    with oneroster_client(env, auth) as client:
        client.list_schools()
        httpx.post(f"{sandbox.base_url}/_admin/expire-tokens",
                   headers=sandbox.admin_headers).raise_for_status()
        assert client.list_schools()  # 401, fresh token, retried
    assert auth.token_requests == 2


def test_roster_pull(roster_client: OneRosterClient) -> None:
    schools = roster_client.list_schools()
    assert schools
    roster = roster_client.pull_school_roster(schools[0].sourced_id)
    assert roster.org.sourced_id == schools[0].sourced_id
    assert roster.classes and roster.enrollments and roster.users
    user_ids = {u.sourced_id for u in roster.users}
    class_ids = {c.sourced_id for c in roster.classes}
    assert {e.user_sourced_id for e in roster.enrollments} == user_ids
    assert {e.class_sourced_id for e in roster.enrollments} <= class_ids
    assert {c.course_sourced_id for c in roster.classes} == {c.sourced_id
                                                             for c in roster.courses}


def test_pagination_and_single_reads(roster_client: OneRosterClient) -> None:
    everyone = roster_client.list_users(Query(sort="sourcedId"))
    paged = roster_client.list_users(Query(sort="sourcedId", page_size=2))
    assert len(everyone) >= 3
    assert [u.sourced_id for u in paged] == [u.sourced_id for u in everyone]
    first = everyone[0]
    assert roster_client.get_user(first.sourced_id) == first
    assert roster_client.find_user_by_email(first.email or "").sourced_id == first.sourced_id
    with pytest.raises(NotFoundError):
        roster_client.get_user("no-such-user")


def test_quote_in_a_name_neither_breaks_nor_widens(roster_client: OneRosterClient) -> None:
    everyone = roster_client.list_users()
    quoted = [u for u in everyone if "'" in (u.family_name or "")]
    if quoted:
        name = quoted[0].family_name or ""
        found = roster_client.list_users(Query(filter=eq("familyName", name)))
        assert {u.sourced_id for u in found} == {u.sourced_id for u in everyone
                                                  if u.family_name == name}
    crafted = roster_client.list_users(Query(filter=eq("familyName", "x' OR familyName~'")))
    assert crafted == []


def test_bad_filter_field_is_rejected_with_imsx(roster_client: OneRosterClient) -> None:
    with pytest.raises(RejectedError) as info:
        roster_client.list_users(Query(filter=eq("shoeSize", "42")))
    assert info.value.status_code == 400 and info.value.imsx is not None


def _event(shared: Path) -> dict[str, Any]:
    fixture = shared / "conformance/caliper/fixtures/v1p2/caliperEventSessionLoggedIn.json"
    event: dict[str, Any] = copy.deepcopy(json.loads(fixture.read_text(encoding="utf-8")))
    event["id"] = f"urn:uuid:{uuid.uuid4()}"
    return event


def test_caliper_send_job_read_back(
    sandbox: SandboxHandle, caliper: CaliperClient, shared: Path
) -> None:
    event = _event(shared)
    assert caliper.validate([event]).valid
    assert caliper.get_event(event["id"]) is None  # validate stored nothing
    result = caliper.send([event])
    assert result.job_id is not None
    sandbox.state.process_now()
    status = caliper.job_status(result.job_id)
    assert status.state == "completed"
    assert [(r.event_id, r.status) for r in status.results] == [(event["id"], "stored")]
    stored = caliper.get_event(event["id"])
    assert stored is not None and stored["id"] == event["id"]
    page = caliper.list_events(actor_id=event["actor"]["id"], sensor=SENSOR, limit=100)
    assert event["id"] in {e.get("id") for e in page.events}
    with pytest.raises(NotFoundError):
        caliper.job_status("no-such-job")


def test_caliper_invalid_event_is_rejected(caliper: CaliperClient, shared: Path) -> None:
    event = _event(shared)
    del event["actor"]
    result = caliper.validate([event])
    assert not result.valid and result.errors and result.errors[0].event_index == 0
    with pytest.raises(RejectedError) as info:
        caliper.send([event])
    assert info.value.errors and info.value.errors[0]["eventIndex"] == 0
