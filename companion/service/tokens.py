"""Sign-in tokens: a signed-in student can be taken up again after a reconnect.

A token names the student, the OS account (uid) that signed in and when it expires, signed
with HMAC-SHA256 under a key only the service holds (in the machine credential store, so
a token outlives a restart of the service). ``resume`` with a token signs the student in on
a new connection of the same OS account. Signing out revokes the token (in memory: a token
signed out of before a restart of the service is valid again until it expires).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass

from companion.core.clock import Clock

TOKEN_LIFETIME_S = 12 * 3600


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """Whom a valid token signs in."""

    student_id: str
    uid: int


class TokenSigner:
    """Issues and checks sign-in tokens under one key."""

    def __init__(self, key: bytes, clock: Clock, lifetime_s: int = TOKEN_LIFETIME_S) -> None:
        if len(key) < 16:
            raise ValueError("the token key must be at least 16 bytes")
        self._key = key
        self._clock = clock
        self._lifetime_s = lifetime_s
        self._revoked: set[str] = set()
        self._lock = threading.Lock()

    def issue(self, student_id: str, uid: int) -> str:
        """A token for ``student_id`` signed in by OS account ``uid``."""
        expires = int(self._clock.utc_now().timestamp()) + self._lifetime_s
        body = json.dumps([student_id, uid, expires], separators=(",", ":")).encode()
        payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return f"{payload}.{self._sign(payload)}"

    def check(self, token: str, uid: int) -> TokenHolder | None:
        """The holder if ``token`` is ours, unexpired, not revoked and for ``uid``."""
        payload, _, signature = token.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        with self._lock:
            if token in self._revoked:
                return None
        try:
            body = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            student_id, token_uid, expires = json.loads(body)
        except (ValueError, TypeError):
            return None
        if token_uid != uid or expires < self._clock.utc_now().timestamp():
            return None
        return TokenHolder(str(student_id), int(token_uid))

    def revoke(self, token: str) -> None:
        """The token no longer signs anyone in."""
        with self._lock:
            self._revoked.add(token)

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()
