"""Shared set-up for the launch tests: a database with the demo roster, keys, tokens."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import RSAKey
from joserfc.jws import JWSRegistry

from companion.core.clock import SystemClock
from companion.launch.handler import RecordingHandler
from companion.launch.jwks import KeySetCache
from companion.launch.listener import STATE_COOKIE, LoopbackListener
from companion.launch.nonces import NonceStore
from companion.launch.registration import SANDBOX_CLIENT_ID, sandbox_registration
from companion.launch.service import LaunchService
from companion.launch.signin_oidc import OidcProvider, SignInWithTimeback
from companion.sandbox.seed import seed_demo
from companion.store.db import Database
from companion.store.roster import replace_roster


@contextmanager
def demo_db(folder: Path) -> Iterator[Database]:
    """A database holding the demo school's roster."""
    roster = seed_demo()
    with Database.open(folder / "companion.sqlite3", "sandbox") as db:
        replace_roster(db, roster["orgs"], roster["users"], roster["classes"],
                       roster["enrollments"], roster["courses"])
        yield db


def make_key(kid: str, bits: int = 2048) -> RSAKey:
    """A throw-away RSA key (made in the test; no private key is committed)."""
    return RSAKey.generate_key(bits, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


def sign(claims: dict[str, Any], key: RSAKey, header: dict[str, Any] | None = None) -> str:
    """A compact RS256 JWS of ``claims``; ``header`` replaces the default {alg, kid}."""
    head = {"alg": "RS256", "kid": key.kid} if header is None else {**header, "alg": "RS256"}
    registry = JWSRegistry(algorithms=["RS256"], strict_check_header=False)
    return jwt.encode(head, claims, key, algorithms=["RS256"], registry=registry)


class Tool:
    """The app's launch side, running: listener, services, recording handler."""

    def __init__(self, db: Database, platform_base: str,
                 refresh: Callable[[], object] | None = None) -> None:
        self.db = db
        self.handler = RecordingHandler()
        self.http = httpx.Client(timeout=10)
        self.listener = LoopbackListener.bind(port=0)
        self.registration = sandbox_registration(platform_base)
        self.keys = KeySetCache(self.registration.jwks_url, self.http)
        clock = SystemClock()
        self.nonces = NonceStore(db, clock)
        self.service = LaunchService(registration=self.registration, urls=self.listener.urls,
                                     db=db, nonces=self.nonces, keys=self.keys, clock=clock,
                                     handler=self.handler, refresh_roster=refresh)
        provider = OidcProvider(issuer=platform_base, client_id=SANDBOX_CLIENT_ID,
                                authorization_endpoint=f"{platform_base}/oidc/authorize",
                                token_endpoint=f"{platform_base}/oidc/token",
                                jwks_uri=self.registration.jwks_url)
        self.opened: list[str] = []
        self.signin = SignInWithTimeback(provider=provider,
                                         redirect_uri=self.listener.urls.redirect_uri, db=db,
                                         nonces=self.nonces, keys=self.keys, http=self.http,
                                         clock=clock, handler=self.handler,
                                         open_browser=self.opened.append)
        self.listener.start(self.service, self.signin)

    def close(self) -> None:
        """Stop the listener and close the HTTP client."""
        self.listener.stop()
        self.http.close()


@contextmanager
def running_tool(db: Database, platform_base: str,
                 refresh: Callable[[], object] | None = None) -> Iterator[Tool]:
    """A started ``Tool``, stopped afterwards."""
    tool = Tool(db, platform_base, refresh)
    try:
        yield tool
    finally:
        tool.close()


def hidden_fields(html: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the (first) form in ``html``."""
    action = re.search(r'<form[^>]*action="([^"]*)"', html)
    assert action, html[:500]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', html))
    return unescape(action.group(1)), {k: unescape(v) for k, v in fields.items()}


def login_params(platform_base: str, tool: Tool, student: str, lesson: str) -> dict[str, str]:
    """What the platform's launch button sends to the tool's login URL."""
    return {"iss": platform_base, "login_hint": student,
            "target_link_uri": f"{tool.listener.urls.launch_url}?lesson={lesson}",
            "lti_message_hint": lesson, "client_id": SANDBOX_CLIENT_ID}


def launch_via_http(tool: Tool, client: httpx.Client, platform_base: str, student: str,
                    lesson: str) -> tuple[httpx.Response, dict[str, str]]:
    """Login, authorize and post the launch as a browser would; returns (answer, post)."""
    login = client.get(tool.listener.urls.login_url,
                       params=login_params(platform_base, tool, student, lesson))
    assert login.status_code == 302, login.text
    authorize = client.get(login.headers["location"])
    assert authorize.status_code == 200, authorize.text
    action, fields = hidden_fields(authorize.text)
    # httpx keeps Secure cookies for https only; a browser sends it to loopback.
    cookie = login.headers["set-cookie"].split(";", 1)[0]
    assert cookie.startswith(STATE_COOKIE + "=")
    return client.post(action, data=fields, headers={"Cookie": cookie}), fields
