"""Why a launch or a sign-in was refused: one code per reason, and the error that carries it."""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    """A refusal's code. Each check has its own, so a reviewer can tell them apart."""

    # login initiation
    UNKNOWN_ISSUER = "unknown_issuer"
    MISSING_LOGIN_HINT = "missing_login_hint"
    BAD_TARGET_LINK_URI = "bad_target_link_uri"
    WRONG_CLIENT_ID = "wrong_client_id"
    TOO_LONG = "too_long"
    TOO_MANY_LOGINS = "too_many_logins"
    # the browser and the login attempt
    MISSING_STATE = "missing_state"
    UNKNOWN_STATE = "unknown_state"
    STATE_NOT_BOUND = "state_not_bound"
    STATE_EXPIRED = "state_expired"
    # the JWS itself
    MISSING_TOKEN = "missing_token"
    MALFORMED_TOKEN = "malformed_token"
    BAD_ALGORITHM = "bad_algorithm"
    MISSING_KID = "missing_kid"
    UNKNOWN_KID = "unknown_kid"
    KEY_SET_UNAVAILABLE = "key_set_unavailable"
    KEY_TOO_SMALL = "key_too_small"
    BAD_SIGNATURE = "bad_signature"
    # OpenID Connect claims
    WRONG_ISSUER = "wrong_issuer"
    WRONG_AUDIENCE = "wrong_audience"
    WRONG_AZP = "wrong_azp"
    MISSING_TIMES = "missing_times"
    EXPIRED = "expired"
    ISSUED_IN_FUTURE = "issued_in_future"
    NONCE_MISMATCH = "nonce_mismatch"
    NONCE_REUSED = "nonce_reused"
    MISSING_SUB = "missing_sub"
    # LTI 1.3 claims
    MISSING_DEPLOYMENT_ID = "missing_deployment_id"
    UNKNOWN_DEPLOYMENT = "unknown_deployment"
    MISSING_VERSION = "missing_version"
    WRONG_VERSION = "wrong_version"
    MISSING_MESSAGE_TYPE = "missing_message_type"
    UNSUPPORTED_MESSAGE_TYPE = "unsupported_message_type"
    MISSING_RESOURCE_LINK = "missing_resource_link"
    MISSING_ROLES = "missing_roles"
    MISSING_TARGET_LINK_URI = "missing_target_link_uri"
    # after validation
    UNKNOWN_USER = "unknown_user"
    # Sign in with Timeback
    AUTHORIZATION_DENIED = "authorization_denied"
    TOKEN_EXCHANGE_FAILED = "token_exchange_failed"
    MISSING_EMAIL = "missing_email"
    MISSING_AUTH_TIME = "missing_auth_time"
    STALE_LOGIN = "stale_login"


class LaunchRefused(Exception):
    """A launch or sign-in refused for ``code``; ``message`` is safe to show and to log."""

    def __init__(self, code: Refusal, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
