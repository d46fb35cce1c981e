"""The launch flow without HTTP: login initiation, then the form-posted launch.

``LaunchService.launch`` checks, in order: the state (known, unexpired, unused, bound to
this browser), the id_token's signature, its OpenID claims, its nonce (used once), its LTI
claims, and the student in the roster; then it calls ``handler.on_launch``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from companion.core.clock import Clock
from companion.launch.claims import LaunchClaims
from companion.launch.handler import LaunchHandler, LaunchRequest
from companion.launch.identity import RefreshRoster, user_for_launch
from companion.launch.nonces import Attempt, NonceStore
from companion.launch.oidc_login import PURPOSE, LoginRedirect, start_login
from companion.launch.reasons import LaunchRefused, Refusal
from companion.launch.registration import Registration, ToolUrls
from companion.launch.validation import (
    DEFAULT_LEEWAY,
    KeySource,
    check_lti_claims,
    check_oidc_claims,
    verify_jws,
)
from companion.store.db import Database

log = logging.getLogger("companion.launch")


def validate_launch_token(token: str, attempt: Attempt, registration: Registration,
                          keys: KeySource, nonces: NonceStore, now: datetime,
                          leeway: timedelta = DEFAULT_LEEWAY) -> LaunchClaims:
    """The launch's claims once ``token`` passes every check for ``attempt``.

    Signature, then OpenID claims, then the nonce (used up here), then the LTI claims.
    """
    claims = verify_jws(token, keys)
    check_oidc_claims(claims, issuer=registration.issuer, client_id=registration.client_id,
                      now=now, leeway=leeway)
    nonces.consume(attempt, claims.get("nonce"))
    return check_lti_claims(claims, registration)


class LaunchService:
    """LTI 1.3 launches for one registration, delivered to ``handler``."""

    def __init__(self, *, registration: Registration, urls: ToolUrls, db: Database,
                 nonces: NonceStore, keys: KeySource, clock: Clock, handler: LaunchHandler,
                 refresh_roster: RefreshRoster | None = None,
                 leeway: timedelta = DEFAULT_LEEWAY) -> None:
        self.registration = registration
        self.urls = urls
        self._db = db
        self._nonces = nonces
        self._keys = keys
        self._clock = clock
        self._handler = handler
        self._refresh = refresh_roster
        self._leeway = leeway

    def login(self, params: Mapping[str, str]) -> LoginRedirect:
        """Login initiation; refusals are logged and raised."""
        try:
            return start_login(params, self.registration, self.urls, self._nonces)
        except LaunchRefused as refused:
            log.warning("LTI login refused: %s", refused)
            raise

    def launch(self, form: Mapping[str, str], browser_state: str | None) -> LaunchRequest:
        """Validate a launch form post and hand it to the handler; refusals are raised."""
        try:
            request = self._validate(form, browser_state)
        except LaunchRefused as refused:
            log.warning("LTI launch refused: %s", refused)  # the reason, never the token
            raise
        log.info("LTI launch for user %s, lesson %s", request.user_id, request.lesson_id)
        self._handler.on_launch(request)
        return request

    def _validate(self, form: Mapping[str, str], browser_state: str | None) -> LaunchRequest:
        state = form.get("state", "")
        if not state:
            raise LaunchRefused(Refusal.MISSING_STATE, "the launch has no state")
        attempt = self._nonces.find(state, PURPOSE)
        if browser_state != state:
            raise LaunchRefused(Refusal.STATE_NOT_BOUND,
                                "this launch was started in another browser or window")
        launch = validate_launch_token(form.get("id_token", ""), attempt, self.registration,
                                       self._keys, self._nonces, self._clock.utc_now(),
                                       self._leeway)
        user = user_for_launch(self._db, launch.person_sourcedid, launch.sub, self._refresh)
        return LaunchRequest(user_id=user.sourced_id, lesson_id=launch.lesson_id(),
                             claims=launch.summary())
