"""OAuth2 client-credentials auth: Basic client auth, caching, early refresh, 401 retry."""

from __future__ import annotations

import base64
from collections.abc import Callable
from urllib.parse import parse_qs, unquote

import httpx
import pytest

from companion.core.clock import FakeClock
from companion.timeback import (
    ClientCredentialsAuth,
    Credentials,
    MalformedResponseError,
    OneRosterClient,
    ServerError,
    UnauthorisedError,
)

TOKEN_URL = "https://idp.example.test/oauth2/token"
CREDS = Credentials("my-client", "s3cret:with/odd chars")


class FakeIdp:
    """Token endpoint plus one protected API endpoint, counting what it sees."""

    def __init__(self, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.issued: list[str] = []
        self.revoked: set[str] = set()
        self.token_forms: list[dict[str, list[str]]] = []
        self.api_auth_headers: list[str | None] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        if str(request.url) == TOKEN_URL:
            assert request.method == "POST"
            scheme, _, value = request.headers["Authorization"].partition(" ")
            user, _, password = base64.b64decode(value).decode().partition(":")
            form = parse_qs(request.content.decode())
            self.token_forms.append(form)
            if scheme != "Basic" or (unquote(user), unquote(password)) != (
                CREDS.client_id, CREDS.client_secret
            ):
                return httpx.Response(400, json={"error": "invalid_client"})
            token = f"tok-{len(self.issued) + 1}"
            self.issued.append(token)
            return httpx.Response(200, json={"access_token": token, "token_type": "Bearer",
                                             "expires_in": self.expires_in})
        header = request.headers.get("Authorization")
        self.api_auth_headers.append(header)
        token = (header or "").removeprefix("Bearer ")
        if token not in self.issued or token in self.revoked:
            return httpx.Response(401, json={"imsx_codeMajor": "failure",
                                             "imsx_description": "bad token"})
        return httpx.Response(200, json={"user": {"sourcedId": "u1"}})


def _client(idp: FakeIdp, auth: ClientCredentialsAuth) -> OneRosterClient:
    return OneRosterClient("https://api.example.test", auth=auth,
                           transport=httpx.MockTransport(idp.handler))


def _auth(clock: FakeClock, creds: Credentials = CREDS, scope: str | None = None
          ) -> ClientCredentialsAuth:
    return ClientCredentialsAuth(TOKEN_URL, creds, scope=scope, clock=clock)


def test_token_fetched_once_and_reused() -> None:
    idp, clock = FakeIdp(), FakeClock()
    with _client(idp, _auth(clock)) as client:
        client.get_user("u1")
        client.get_user("u1")
    assert idp.issued == ["tok-1"]
    assert idp.api_auth_headers == ["Bearer tok-1", "Bearer tok-1"]
    assert idp.token_forms[0] == {"grant_type": ["client_credentials"]}


def test_scope_is_sent_when_given() -> None:
    idp = FakeIdp()
    with _client(idp, _auth(FakeClock(), scope="roster.readonly")) as client:
        client.get_user("u1")
    assert idp.token_forms[0]["scope"] == ["roster.readonly"]


@pytest.mark.parametrize(("advance_s", "tokens"), [(3539, 1), (3541, 2)])
def test_refreshed_a_minute_before_expiry(advance_s: int, tokens: int) -> None:
    idp, clock = FakeIdp(expires_in=3600), FakeClock()
    with _client(idp, _auth(clock)) as client:
        client.get_user("u1")
        clock.advance(advance_s * 1000)
        client.get_user("u1")
    assert len(idp.issued) == tokens


def test_one_retry_with_a_fresh_token_after_401() -> None:
    idp, clock = FakeIdp(), FakeClock()
    auth = _auth(clock)
    with _client(idp, auth) as client:
        client.get_user("u1")
        idp.revoked.add("tok-1")  # the server forgot the token early
        user = client.get_user("u1")
    assert user.sourced_id == "u1"
    assert idp.api_auth_headers == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]


def test_second_401_is_unauthorised() -> None:
    idp = FakeIdp()

    def always_401(request: httpx.Request) -> httpx.Response:
        response = idp.handler(request)
        return response if str(request.url) == TOKEN_URL else httpx.Response(401, json={})

    client = OneRosterClient("https://api.example.test", auth=_auth(FakeClock()),
                             transport=httpx.MockTransport(always_401))
    with client, pytest.raises(UnauthorisedError):
        client.get_user("u1")
    assert len(idp.issued) == 2  # first token, then exactly one fresh one


def test_bad_credentials_say_so() -> None:
    idp = FakeIdp()
    with _client(idp, _auth(FakeClock(), Credentials("my-client", "wrong"))) as client, \
            pytest.raises(UnauthorisedError) as info:
        client.get_user("u1")
    assert "refused the client id or secret" in str(info.value)
    assert idp.api_auth_headers == []  # never sent the API request


@pytest.mark.parametrize(
    ("response", "expected"),
    [(lambda: httpx.Response(200, json={"token_type": "Bearer"}), MalformedResponseError),
     (lambda: httpx.Response(200, text="not json"), MalformedResponseError),
     (lambda: httpx.Response(200, json={"access_token": "t", "expires_in": 60,
                                        "token_type": "MAC"}), MalformedResponseError),
     (lambda: httpx.Response(503, json={}), ServerError)],
)
def test_token_endpoint_failures(
    response: Callable[[], httpx.Response], expected: type[Exception]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return response()

    client = OneRosterClient("https://api.example.test", auth=_auth(FakeClock()),
                             transport=httpx.MockTransport(handler))
    with client, pytest.raises(expected):
        client.get_user("u1")


def test_secret_not_in_repr() -> None:
    assert "s3cret" not in repr(CREDS)
