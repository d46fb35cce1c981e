"""LTI launches and Sign in with Timeback against the sandbox platform, over HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from companion.launch.listener import STATE_COOKIE
from companion.sandbox.seed import seed_demo
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.store.db import Database
from companion.store.roster import apply_changes, replace_roster
from tests.launch.helpers import demo_db, launch_via_http, login_params, running_tool


@pytest.fixture
def platform() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with demo_db(tmp_path) as database:
        yield database


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def _reason(response: httpx.Response) -> str:
    found = re.search(r'<code id="reason">([^<]*)</code>', response.text)
    assert found, response.text
    return found.group(1)


def test_launch_signs_in_the_student_with_the_named_lesson(
    platform: SandboxHandle, db: Database, client: httpx.Client
) -> None:
    with running_tool(db, platform.base_url) as tool:
        answer, _ = launch_via_http(tool, client, platform.base_url, "demo-student-03",
                                    "demo-reading-passage")
        assert answer.status_code == 200, answer.text
        assert "opened in the Timeback Companion" in answer.text
        [launch] = tool.handler.launches
    assert launch.user_id == "demo-student-03"
    assert launch.lesson_id == "demo-reading-passage"
    assert launch.claims["deployment_id"] == "sandbox-deployment-1"
    assert "id_token" not in str(launch.claims)


def test_captured_form_post_replayed_is_refused_also_after_a_restart(
    platform: SandboxHandle, tmp_path: Path, client: httpx.Client
) -> None:
    with demo_db(tmp_path) as db, running_tool(db, platform.base_url) as tool:
        first, post = launch_via_http(tool, client, platform.base_url, "demo-student-01",
                                      "demo-math-drill")
        cookie = {"Cookie": f"{STATE_COOKIE}={post['state']}"}
        assert first.status_code == 200
        again = client.post(tool.listener.urls.launch_url, data=post, headers=cookie)
        assert again.status_code == 400
        assert _reason(again) == "nonce_reused"
    # The app restarts: a new process, the same database file.
    with Database.open(tmp_path / "companion.sqlite3", "sandbox") as db, \
            running_tool(db, platform.base_url) as tool:
        replay = client.post(tool.listener.urls.launch_url, data=post, headers=cookie)
        assert _reason(replay) == "nonce_reused"
        assert tool.handler.launches == []


def test_launch_without_the_browser_cookie_is_refused(
    platform: SandboxHandle, db: Database, client: httpx.Client
) -> None:
    with running_tool(db, platform.base_url) as tool:
        login = client.get(tool.listener.urls.login_url,
                           params=login_params(platform.base_url, tool, "demo-student-01",
                                               "demo-math-drill"))
        form = client.get(login.headers["location"]).text
        fields = dict(re.findall(r'name="([^"]*)" value="([^"]*)"', form))
        answer = client.post(tool.listener.urls.launch_url, data=fields)
        assert _reason(answer) == "state_not_bound"
        assert tool.handler.launches == []


@pytest.mark.parametrize(("mode", "reason"), [
    ("wrong_audience", "wrong_audience"),
    ("wrong_key", "bad_signature"),
    ("expired", "expired"),
    ("replay_nonce", "nonce_reused"),
])
def test_bad_tokens_from_the_platform_are_refused(
    platform: SandboxHandle, db: Database, client: httpx.Client, mode: str, reason: str
) -> None:
    with running_tool(db, platform.base_url) as tool:
        good, _ = launch_via_http(tool, client, platform.base_url, "demo-student-02",
                                  "demo-math-drill")
        assert good.status_code == 200
        client.post(f"{platform.base_url}/_admin/lti/faults", json={"mode": mode},
                    headers=platform.admin_headers)
        bad, _ = launch_via_http(tool, client, platform.base_url, "demo-student-02",
                                 "demo-math-drill")
        assert bad.status_code == 400
        assert _reason(bad) == reason
        assert len(tool.handler.launches) == 1


def test_key_rotation_on_the_platform_is_followed(
    platform: SandboxHandle, db: Database, client: httpx.Client
) -> None:
    with running_tool(db, platform.base_url) as tool:
        launch_via_http(tool, client, platform.base_url, "demo-student-04", "demo-math-drill")
        assert tool.keys.fetches == 1
        new_kid = client.post(f"{platform.base_url}/_admin/lti/rotate-key",
                              headers=platform.admin_headers).json()["kid"]
        answer, _ = launch_via_http(tool, client, platform.base_url, "demo-student-04",
                                    "demo-reading-passage")
        assert answer.status_code == 200, answer.text
        assert tool.keys.fetches == 2  # fetched again once, for the new kid
        assert new_kid in client.get(tool.registration.jwks_url).text
        assert [r.lesson_id for r in tool.handler.launches] == ["demo-math-drill",
                                                                 "demo-reading-passage"]


def test_unknown_student_refreshes_the_roster_once(
    platform: SandboxHandle, tmp_path: Path, client: httpx.Client
) -> None:
    roster = seed_demo()
    newcomer = next(u for u in roster["users"] if u["sourcedId"] == "demo-student-06")
    calls: list[int] = []
    with Database.open(tmp_path / "c.sqlite3", "sandbox") as db:
        replace_roster(db, roster["orgs"], [u for u in roster["users"] if u is not newcomer],
                       roster["classes"], [], roster["courses"])

        def refresh() -> None:
            calls.append(1)
            if len(calls) == 2:
                apply_changes(db, users=[newcomer])

        with running_tool(db, platform.base_url, refresh=refresh) as tool:
            unknown, _ = launch_via_http(tool, client, platform.base_url, "demo-student-06",
                                         "demo-math-drill")
            assert _reason(unknown) == "unknown_user"
            assert calls == [1]
            known, _ = launch_via_http(tool, client, platform.base_url, "demo-student-06",
                                       "demo-math-drill")
            assert known.status_code == 200
            assert calls == [1, 1]
            assert [r.user_id for r in tool.handler.launches] == ["demo-student-06"]


@pytest.mark.parametrize(("change", "reason"), [
    ({"iss": "https://elsewhere.example"}, "unknown_issuer"),
    ({"login_hint": ""}, "missing_login_hint"),
    ({"target_link_uri": "https://evil.example/lti/launch"}, "bad_target_link_uri"),
    ({"client_id": "another-tool"}, "wrong_client_id"),
])
def test_login_initiation_is_checked_against_the_registration(
    platform: SandboxHandle, db: Database, client: httpx.Client, change: dict[str, str],
    reason: str
) -> None:
    with running_tool(db, platform.base_url) as tool:
        params = {**login_params(platform.base_url, tool, "demo-student-01", "x"), **change}
        answer = client.post(tool.listener.urls.login_url, data=params)
        assert answer.status_code == 400
        assert _reason(answer) == reason


def test_login_redirect_carries_the_authentication_request(
    platform: SandboxHandle, db: Database, client: httpx.Client
) -> None:
    with running_tool(db, platform.base_url) as tool:
        login = client.get(tool.listener.urls.login_url,
                           params=login_params(platform.base_url, tool, "demo-student-01",
                                               "demo-math-drill"))
    location = httpx.URL(login.headers["location"])
    q = dict(location.params)
    assert str(location).startswith(f"{platform.base_url}/lti/authorize?")
    assert (q["scope"], q["response_type"], q["response_mode"], q["prompt"]) == (
        "openid", "id_token", "form_post", "none")
    assert q["redirect_uri"] == tool.listener.urls.launch_url
    assert q["login_hint"] == "demo-student-01"
    assert q["lti_message_hint"] == "demo-math-drill"
    assert len(q["state"]) >= 32 and len(q["nonce"]) >= 32
    assert "SameSite=none" in login.headers["set-cookie"]
    assert "HttpOnly" in login.headers["set-cookie"]


def test_sign_in_with_timeback_finds_the_student_by_email(
    platform: SandboxHandle, db: Database, client: httpx.Client
) -> None:
    with running_tool(db, platform.base_url) as tool:
        url = tool.signin.begin(login_hint="demo-student-08")
        assert tool.opened == [url]
        q = dict(httpx.URL(url).params)
        assert q["code_challenge_method"] == "S256" and q["response_type"] == "code"
        redirect = client.get(url)
        assert redirect.status_code == 302
        done = client.get(redirect.headers["location"])
        assert done.status_code == 200, done.text
        [result] = tool.handler.sign_ins
        assert (result.user_id, result.email) == ("demo-student-08", "chloe.dubois@demo.school")
        # The callback replayed: the code is spent and the state used.
        again = client.get(redirect.headers["location"])
        assert again.status_code == 400
        assert len(tool.handler.sign_ins) == 1


def test_sign_in_with_a_token_for_another_client_is_refused(
    platform: SandboxHandle, db: Database, client: httpx.Client
) -> None:
    client.post(f"{platform.base_url}/_admin/lti/faults", json={"mode": "wrong_audience"},
                headers=platform.admin_headers)
    with running_tool(db, platform.base_url) as tool:
        redirect = client.get(tool.signin.begin(login_hint="demo-student-08"))
        done = client.get(redirect.headers["location"])
        assert _reason(done) == "wrong_audience"
        assert tool.handler.sign_ins == []
