"""What an unauthenticated local caller can make the launch listener do: little. Bodies over
the limit are refused before they are read, login attempts are capped and rate-limited and
expired ones purged, parameters are bounded, a restart gets its port back; Sign in with
Timeback always asks for a fresh login."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import func, select

from companion.core.clock import FakeClock
from companion.launch.listener import MAX_BODY_BYTES, bind_loopback
from companion.launch.nonces import MAX_PER_WINDOW, NonceStore
from companion.launch.reasons import LaunchRefused, Refusal
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
