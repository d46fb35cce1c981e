"""OAuth2 client-credentials authentication as an ``httpx.Auth`` flow.

The token lives in memory only. It is fetched on first use, refreshed a minute before it
expires (by the injected clock), and fetched again once when a request comes back 401.
The flow has no network code of its own: it yields requests and httpx sends them.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Generator
from urllib.parse import quote

import httpx

from companion.core.clock import Clock, SystemClock

from ._credentials import Credentials
from ._errors import MalformedResponseError, UnauthorisedError
from ._mapping import map_response

REFRESH_MARGIN_MS = 60_000


def _basic(credentials: Credentials) -> str:
    # RFC 6749 2.3.1: form-urlencode id and secret before joining them.
    pair = f"{quote(credentials.client_id, safe='')}:{quote(credentials.client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


class ClientCredentialsAuth(httpx.Auth):
    """Bearer tokens from an OAuth2 token endpoint, client authenticated with HTTP Basic."""

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        credentials: Credentials,
        *,
        scope: str | None = None,
        clock: Clock | None = None,
        refresh_margin_ms: int = REFRESH_MARGIN_MS,
    ) -> None:
        self._token_url = token_url
        self._credentials = credentials
        self._scope = scope
        self._clock: Clock = clock or SystemClock()
        self._margin = refresh_margin_ms
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at_ms = 0
        self.token_requests = 0  # how many tokens were fetched (for diagnostics and tests)

    def _current(self) -> str | None:
        with self._lock:
            if self._token and self._clock.monotonic_ms() < self._expires_at_ms - self._margin:
                return self._token
            return None

    def invalidate(self) -> None:
        """Forget the cached token."""
        with self._lock:
            self._token = None

    def token_request(self) -> httpx.Request:
        """The request for a new token."""
        form = {"grant_type": "client_credentials"}
        if self._scope:
            form["scope"] = self._scope
        return httpx.Request(
            "POST",
            self._token_url,
            data=form,
            headers={"Authorization": _basic(self._credentials), "Accept": "application/json"},
        )

    def _accept(self, response: httpx.Response) -> str:
        """Cache the token from a token-endpoint response, or raise."""
        if response.status_code in (400, 401):
            error = map_response(response)
            raise UnauthorisedError(
                "the token endpoint refused the client id or secret "
                f"({response.status_code}: {error.message})",
                status_code=response.status_code,
                url=self._token_url,
                body=getattr(error, "body", None),
            )
        if response.status_code >= 300:
            raise map_response(response)
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise MalformedResponseError(
                "the token endpoint did not answer with JSON", url=self._token_url
            ) from exc
        token = body.get("access_token") if isinstance(body, dict) else None
        expires_in = body.get("expires_in", 3600) if isinstance(body, dict) else None
        token_type = body.get("token_type", "Bearer") if isinstance(body, dict) else None
        if (
            not isinstance(token, str)
            or not token
            or isinstance(expires_in, bool)
            or not isinstance(expires_in, int | float)
            or not isinstance(token_type, str)
            or token_type.lower() != "bearer"
        ):
            raise MalformedResponseError(
                "the token endpoint's answer lacks a bearer access_token / expires_in",
                url=self._token_url,
            )
        with self._lock:
            self._token = token
            self._expires_at_ms = self._clock.monotonic_ms() + int(expires_in * 1000)
            self.token_requests += 1
        return token

    def fetch_token(self, client: httpx.Client) -> str:
        """Fetch a fresh token now with ``client`` (used by ``companion setup`` to verify)."""
        response = client.send(self.token_request())
        return self._accept(response)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._current()
        if token is None:
            token = self._accept((yield self.token_request()))
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self.invalidate()
            token = self._accept((yield self.token_request()))
            request.headers["Authorization"] = f"Bearer {token}"
            yield request
