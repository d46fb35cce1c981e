"""What an unauthenticated local caller can make the launch listener do: little. Bodies over
the limit are refused before they are read, login attempts are capped and rate-limited and
expired ones purged, parameters are bounded, a restart gets its port back; Sign in with
Timeback always asks for a fresh login and refuses a token from an earlier one."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import func, select

from companion.core.clock import FakeClock
from companion.launch.listener import MAX_BODY_BYTES, bind_loopback
from companion.launch.nonces import MAX_PER_WINDOW, NonceStore
from companion.launch.reasons import LaunchRefused, Refusal
from companion.launch.validation import check_auth_time
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.store.db import Database
from companion.store.launch_tables import LaunchNonce
from tests.launch.helpers import demo_db, login_params, running_tool


@pytest.fixture
def platform() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with demo_db(tmp_path) as database:
        yield database


def rows(db: Database) -> int:
    with db.read() as session:
        return int(session.exec(select(func.count()).select_from(LaunchNonce)).one())


def test_a_huge_form_is_refused_before_it_is_read(platform: SandboxHandle, db: Database) -> None:
    with running_tool(db, platform.base_url) as tool:
        port = tool.listener.port
        with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
            conn.sendall(b"POST /lti/launch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: 300000000\r\n\r\nstate=x")
            answer = conn.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413")

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            for _ in range(8):
                yield b"a" * (MAX_BODY_BYTES // 4)

        with httpx.Client(timeout=10) as client:
            streamed = client.post(tool.listener.urls.launch_url, content=chunks(),
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert streamed.status_code == 413


def test_a_flood_of_logins_is_capped(platform: SandboxHandle, db: Database) -> None:
    with running_tool(db, platform.base_url) as tool, httpx.Client(timeout=10) as client:
        params = login_params(platform.base_url, tool, "demo-student-01", "demo-math-drill")
        codes = [client.get(tool.listener.urls.login_url, params=params).status_code
                 for _ in range(MAX_PER_WINDOW + 5)]
        assert codes == [302] * MAX_PER_WINDOW + [400] * 5
        assert rows(db) == MAX_PER_WINDOW
        refused = client.get(tool.listener.urls.login_url, params=params)
        assert "too_many_logins" in refused.text
        long = {**params, "target_link_uri": tool.listener.urls.launch_url + "?x=" + "a" * 5000}
        assert "too_long" in client.get(tool.listener.urls.login_url, params=long).text


def test_expired_attempts_are_purged_at_the_next_one(db: Database) -> None:
    clock = FakeClock()
    nonces = NonceStore(db, clock, ttl=timedelta(minutes=10))
    for _ in range(5):
        nonces.begin("lti")
    assert rows(db) == 5
    clock.advance(11 * 60_000)
    nonces.begin("lti")
    assert rows(db) == 1


def test_pending_attempts_are_capped_even_when_slow(db: Database) -> None:
    clock = FakeClock()
    nonces = NonceStore(db, clock, ttl=timedelta(hours=2))
    with pytest.raises(LaunchRefused) as refused:
        for _ in range(200):
            nonces.begin("lti")
            clock.advance(10_000)  # 6 a minute: under the rate, so the cap must hold
    assert refused.value.code is Refusal.TOO_MANY_LOGINS
    assert rows(db) == 50


def test_a_restart_gets_its_port_back_while_old_connections_linger() -> None:
    first = bind_loopback(0)
    port = first.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    conn, _ = first.accept()
    conn.close()  # the server side closes first: its end stays in TIME_WAIT
    client.recv(1)
    client.close()
    first.close()
    again = bind_loopback(port, fallback=0)
    try:
        assert again.getsockname()[1] == port
    finally:
        again.close()


def test_sign_in_with_timeback_asks_for_a_fresh_login(
        platform: SandboxHandle, db: Database) -> None:
    with running_tool(db, platform.base_url) as tool, httpx.Client(timeout=10) as browser:
        first = browser.get(tool.signin.begin(login_hint="demo-student-08"))
        browser.get(first.headers["location"])
        assert browser.cookies.get("sandbox_idp_session")  # the provider holds a session
        url = tool.signin.begin(login_hint="demo-student-03")
        q = dict(httpx.URL(url).params)
        assert (q["prompt"], q["max_age"]) == ("login", "0")
        second = browser.get(url)
        browser.get(second.headers["location"])
        assert [r.user_id for r in tool.handler.sign_ins] == ["demo-student-08", "demo-student-03"]
        # the control: without them, the provider signs the browser's previous person in
        stale = str(httpx.URL(tool.signin.begin(login_hint="demo-student-08")).copy_remove_param(
            "prompt").copy_remove_param("max_age"))
        third = browser.get(stale)
        browser.get(third.headers["location"])
        assert tool.handler.sign_ins[-1].user_id == "demo-student-03"  # not the one asked


def _sign_in(browser: httpx.Client, url: str) -> httpx.Response:
    """The browser at the provider, then at the app's callback; the app's answer."""
    return browser.get(browser.get(url).headers["location"])


def test_an_earlier_login_the_provider_kept_is_refused(
        platform: SandboxHandle, db: Database) -> None:
    """A provider that kept the browser's session and ignored prompt=login answers with the
    person who signed in there before, and that login's auth_time: refused, in plain words."""
    with running_tool(db, platform.base_url) as tool, httpx.Client(timeout=10) as browser:
        _sign_in(browser, tool.signin.begin(login_hint="demo-student-08"))
        assert [r.user_id for r in tool.handler.sign_ins] == ["demo-student-08"]
        for session in platform.state.idp_sessions.values():
            session.auth_time -= 3600  # that login was an hour ago
        browser.post(f"{platform.base_url}/_admin/lti/faults", json={"mode": "remembered_login"},
                     headers=platform.admin_headers).raise_for_status()
        answer = _sign_in(browser, tool.signin.begin(login_hint="demo-student-03"))
        assert [r.user_id for r in tool.handler.sign_ins] == ["demo-student-08"]
        assert Refusal.STALE_LOGIN.value in answer.text
        assert "earlier sign-in in this browser" in answer.text
        assert "sign out of Timeback in the browser" in answer.text
        # the control: a provider that honours prompt=login logs the asked person in afresh
        browser.delete(f"{platform.base_url}/_admin/lti/faults",
                       headers=platform.admin_headers).raise_for_status()
        _sign_in(browser, tool.signin.begin(login_hint="demo-student-03"))
        assert [r.user_id for r in tool.handler.sign_ins] == ["demo-student-08",
                                                               "demo-student-03"]


def test_a_token_must_say_when_the_login_was() -> None:
    asked = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    with pytest.raises(LaunchRefused) as missing:
        check_auth_time({"sub": "x"}, asked_at=asked)
    assert missing.value.code is Refusal.MISSING_AUTH_TIME
    for not_a_time in ("1736154000", True, None):
        with pytest.raises(LaunchRefused):
            check_auth_time({"auth_time": not_a_time}, asked_at=asked)
    skew = timedelta(seconds=60)
    check_auth_time({"auth_time": asked.timestamp() - 60}, asked_at=asked, leeway=skew)
    check_auth_time({"auth_time": asked.timestamp() + 5}, asked_at=asked, leeway=skew)
    with pytest.raises(LaunchRefused) as stale:
        check_auth_time({"auth_time": asked.timestamp() - 61}, asked_at=asked, leeway=skew)
    assert stale.value.code is Refusal.STALE_LOGIN
    assert "2025-01-06 08:58 UTC" in stale.value.message
    with pytest.raises(LaunchRefused) as absurd:
        check_auth_time({"auth_time": -1e300}, asked_at=asked)
    assert absurd.value.code is Refusal.STALE_LOGIN
