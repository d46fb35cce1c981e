"""Sign in with Timeback: OpenID Connect authorization code + PKCE, loopback redirect.

``begin`` opens the system browser at the provider's authorization endpoint; the provider
redirects to the listener's ``/oidc/callback``, which calls ``complete``: the code is
exchanged at the token endpoint, the ID token is checked as strictly as a launch (RS256,
kid, key set, iss, aud/azp, exp/iat, nonce used once), and its email names the roster user.
The provider is asked for a fresh login (``prompt=login``, ``max_age=0``), and the token's
``auth_time`` must show one: a login no earlier than the moment the app asked for it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from companion.core.clock import Clock
from companion.launch.handler import LaunchHandler, SignInResult
from companion.launch.identity import RefreshRoster, user_for_email
from companion.launch.nonces import NonceStore
from companion.launch.reasons import LaunchRefused, Refusal
from companion.launch.validation import (
    DEFAULT_LEEWAY,
    KeySource,
    check_auth_time,
    check_oidc_claims,
    verify_jws,
)
from companion.store.db import Database

log = logging.getLogger("companion.launch")

PURPOSE = "signin"
SCOPE = "openid email profile"


@dataclass(frozen=True)
class OidcProvider:
    """An OpenID provider's endpoints and this app's client id there."""

    issuer: str
    client_id: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def discover(client: httpx.Client, issuer: str, client_id: str) -> OidcProvider:
    """The provider's endpoints from ``{issuer}/.well-known/openid-configuration``."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    response = client.get(url)
    response.raise_for_status()
    doc: dict[str, Any] = response.json()
    if doc.get("issuer") != issuer:
        raise ValueError(f"discovery document at {url} names issuer {doc.get('issuer')!r}")
    return OidcProvider(issuer=issuer, client_id=client_id,
                        authorization_endpoint=str(doc["authorization_endpoint"]),
                        token_endpoint=str(doc["token_endpoint"]), jwks_uri=str(doc["jwks_uri"]))


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class SignInWithTimeback:
    """Sign-ins with one provider; results go to ``handler.on_signed_in``."""

    def __init__(self, *, provider: OidcProvider, redirect_uri: str, db: Database,
                 nonces: NonceStore, keys: KeySource, http: httpx.Client, clock: Clock,
                 handler: LaunchHandler, open_browser: Callable[[str], object],
                 refresh_roster: RefreshRoster | None = None,
                 leeway: timedelta = DEFAULT_LEEWAY) -> None:
        self.provider = provider
        self.redirect_uri = redirect_uri
        self._db = db
        self._nonces = nonces
        self._keys = keys
        self._http = http
        self._clock = clock
        self._handler = handler
        self._open_browser = open_browser
        self._refresh = refresh_roster
        self._leeway = leeway
        # state -> (PKCE verifier, when the login was asked for), kept in memory only
        self._verifiers: dict[str, tuple[str, datetime]] = {}
        self._lock = threading.Lock()

    def authorization_url(self, login_hint: str | None = None) -> str:
        """Start a sign-in: a fresh state, nonce and PKCE pair; the URL to open.

        ``login_hint`` (e.g. the email typed in the app) is passed to the provider.
        """
        verifier, challenge = pkce_pair()
        attempt = self._nonces.begin(PURPOSE)
        with self._lock:
            self._verifiers[attempt.state] = (verifier, self._clock.utc_now())
        query = {"response_type": "code", "client_id": self.provider.client_id,
                 "redirect_uri": self.redirect_uri, "scope": SCOPE, "state": attempt.state,
                 "nonce": attempt.nonce, "code_challenge": challenge,
                 "code_challenge_method": "S256",
                 # a shared computer: never the browser's previous person, always a login
                 "prompt": "login", "max_age": "0"}
        if login_hint:
            query["login_hint"] = login_hint
        return f"{self.provider.authorization_endpoint}?{urlencode(query)}"

    def begin(self, login_hint: str | None = None) -> str:
        """Start a sign-in and open the system browser at it; returns the URL."""
        url = self.authorization_url(login_hint)
        self._open_browser(url)
        return url

    def complete(self, query: Mapping[str, str]) -> SignInResult:
        """Finish a sign-in from the redirect's query; refusals are logged and raised."""
        try:
            result = self._complete(query)
        except LaunchRefused as refused:
            log.warning("Sign in with Timeback refused: %s", refused)
            raise
        log.info("Sign in with Timeback for user %s", result.user_id)
        self._handler.on_signed_in(result)
        return result

    def _complete(self, query: Mapping[str, str]) -> SignInResult:
        if error := query.get("error"):
            raise LaunchRefused(Refusal.AUTHORIZATION_DENIED,
                                f"Timeback did not sign you in ({error})")
        state = query.get("state", "")
        if not state:
            raise LaunchRefused(Refusal.MISSING_STATE, "the sign-in answer has no state")
        attempt = self._nonces.find(state, PURPOSE)
        with self._lock:
            started = self._verifiers.pop(state, None)
        if started is None:
            raise LaunchRefused(Refusal.STATE_NOT_BOUND,
                                "this sign-in was not started by this app instance")
        verifier, asked_at = started
        token = self._exchange(query.get("code", ""), verifier)
        claims = verify_jws(token, self._keys)
        check_oidc_claims(claims, issuer=self.provider.issuer,
                          client_id=self.provider.client_id, now=self._clock.utc_now(),
                          leeway=self._leeway)
        check_auth_time(claims, asked_at=asked_at, leeway=self._leeway)
        self._nonces.consume(attempt, claims.get("nonce"))
        email = claims.get("email")
        if not isinstance(email, str) or "@" not in email:
            raise LaunchRefused(Refusal.MISSING_EMAIL, "the ID token has no email address")
        if claims.get("email_verified") is False:
            raise LaunchRefused(Refusal.MISSING_EMAIL, "the ID token's email is not verified")
        user = user_for_email(self._db, email, self._refresh)
        return SignInResult(user_id=user.sourced_id, email=email, sub=str(claims["sub"]))

    def _exchange(self, code: str, verifier: str) -> str:
        if not code:
            raise LaunchRefused(Refusal.TOKEN_EXCHANGE_FAILED, "the sign-in answer has no code")
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri, "client_id": self.provider.client_id,
                "code_verifier": verifier}
        try:
            response = self._http.post(self.provider.token_endpoint, data=form,
                                       headers={"Accept": "application/json"})
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise LaunchRefused(Refusal.TOKEN_EXCHANGE_FAILED,
                                f"Timeback's token endpoint could not be reached: {exc}") from exc
        token = body.get("id_token") if isinstance(body, dict) else None
        if response.status_code != 200 or not isinstance(token, str):
            error = body.get("error") if isinstance(body, dict) else None
            raise LaunchRefused(Refusal.TOKEN_EXCHANGE_FAILED,
                                f"Timeback refused the code (HTTP {response.status_code}, "
                                f"{error or 'no id_token'})")
        return token
