"""Single-use login attempts (OIDC ``state`` + ``nonce``), kept in SQLite.

``begin`` records a new attempt; ``find`` looks one up by its state without using it;
``consume`` marks it used exactly once (a second use, even after a restart, is refused).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from companion.core.clock import Clock
from companion.launch.reasons import LaunchRefused, Refusal
from companion.store import nonces as store
from companion.store.db import Database
from companion.store.launch_tables import LaunchNonce

DEFAULT_TTL = timedelta(minutes=10)
# Unauthenticated requests start attempts: at most this many wait at once, and at most
# MAX_PER_WINDOW start within RATE_WINDOW (a flood cannot fill the disk).
MAX_PENDING = 50
MAX_PER_WINDOW = 30
RATE_WINDOW = timedelta(minutes=1)
_PURGE_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Attempt:
    """One login attempt as stored: its state, nonce, purpose and extra data."""

    state: str
    nonce: str
    purpose: str
    data: dict[str, Any] = field(default_factory=dict)


class NonceStore:
    """Login attempts in the ``launch_nonces`` table of ``db``; times from ``clock``."""

    def __init__(self, db: Database, clock: Clock, ttl: timedelta = DEFAULT_TTL) -> None:
        self._db = db
        self._clock = clock
        self._ttl = ttl

    def begin(self, purpose: str, data: dict[str, Any] | None = None) -> Attempt:
        """Record a new attempt with a fresh random state and nonce."""
        now = self._clock.utc_now()
        attempt = Attempt(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                          purpose=purpose, data=dict(data or {}))
        row = LaunchNonce(state=attempt.state, nonce=attempt.nonce, purpose=purpose,
                          created_at=now, expires_at=now + self._ttl,
                          data_json=json.dumps(attempt.data))
        try:
            # used attempts stay a day, to recognise a replay
            store.add_attempt(self._db, row, purge_after=_PURGE_AFTER, max_pending=MAX_PENDING,
                              max_per_window=MAX_PER_WINDOW, rate_window=RATE_WINDOW)
        except store.TooManyAttempts as exc:
            raise LaunchRefused(Refusal.TOO_MANY_LOGINS,
                                "too many sign-ins were started at once; wait a minute "
                                "and start again") from exc
        return attempt

    def find(self, state: str, purpose: str) -> Attempt:
        """The unused, unexpired attempt with ``state``; refused otherwise."""
        row = store.get_attempt(self._db, state)
        if row is None or row.purpose != purpose:
            raise LaunchRefused(Refusal.UNKNOWN_STATE,
                                "this sign-in was not started on this computer (unknown state)")
        if row.used_at is not None:
            raise LaunchRefused(Refusal.NONCE_REUSED,
                                "this launch was already used; start it again from Timeback")
        if row.expires_at <= self._clock.utc_now():
            raise LaunchRefused(Refusal.STATE_EXPIRED,
                                "the sign-in took too long; start it again from Timeback")
        return Attempt(state=row.state, nonce=row.nonce, purpose=row.purpose,
                       data=json.loads(row.data_json))

    def consume(self, attempt: Attempt, token_nonce: object) -> None:
        """Use ``attempt`` once, if ``token_nonce`` is its nonce; refused otherwise."""
        now = self._clock.utc_now()
        if token_nonce != attempt.nonce:
            if isinstance(token_nonce, str) and store.nonce_was_used(self._db, token_nonce):
                raise LaunchRefused(Refusal.NONCE_REUSED,
                                    "the token's nonce was already used (a replayed token)")
            raise LaunchRefused(Refusal.NONCE_MISMATCH,
                                "the token's nonce does not match this sign-in")
        if not store.use_attempt(self._db, attempt.state, now):
            raise LaunchRefused(Refusal.NONCE_REUSED,
                                "this launch was already used; start it again from Timeback")
