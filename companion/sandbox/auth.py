"""OAuth2 client-credentials tokens for the sandbox: issue, check, expire."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from companion.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET


@dataclass(frozen=True)
class TokenError(Exception):
    """A token request the server refuses: the HTTP status and the OAuth2 error code."""

    status: int
    error: str


class TokenIssuer:
    """Issues opaque bearer tokens to known clients and checks them on every request."""

    def __init__(
        self,
        ttl_s: float = 3600,
        clients: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self._clients = dict(clients or {DEMO_CLIENT_ID: DEMO_CLIENT_SECRET})
        self._clock = clock
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self, authorization: str | None, form: Mapping[str, str]) -> dict[str, object]:
        """Answer a token request (HTTP Basic or form credentials) or raise TokenError."""
        client_id, secret = _credentials(authorization, form)
        if client_id is None or self._clients.get(client_id) != secret:
            raise TokenError(401, "invalid_client")
        if form.get("grant_type") != "client_credentials":
            raise TokenError(400, "unsupported_grant_type")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = self._clock() + self.ttl_s
        body: dict[str, object] = {
            "access_token": token,
            "expires_in": int(self.ttl_s),
            "token_type": "Bearer",
        }
        if form.get("scope"):
            body["scope"] = form["scope"]
        return body

    def is_valid(self, authorization: str | None) -> bool:
        """True if the header carries a bearer token that was issued and has not expired."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return False
        token = authorization[7:].strip()
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and self._clock() < expiry

    def expire_all(self) -> None:
        """Make every issued token expired at once (for tests of token refresh)."""
        with self._lock:
            self._tokens.clear()


def _credentials(
    authorization: str | None, form: Mapping[str, str]
) -> tuple[str | None, str | None]:
    if authorization and authorization.lower().startswith("basic "):
        try:
            raw = base64.b64decode(authorization[6:].strip()).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None, None
        client_id, _, secret = raw.partition(":")
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")
