"""Checking an id_token: the JWS (RS256, kid, platform key) and then its claims.

``verify_jws`` trusts nothing in the token before the signature is checked except the
header fields needed to pick the key. ``check_oidc_claims`` checks what OpenID Connect
requires (iss, aud, azp, exp, iat, sub); ``check_auth_time`` that a Sign in with Timeback
token comes from a login made after the app asked for one; ``check_lti_claims`` what an
LTI 1.3 resource link launch requires. The nonce is checked by the caller against its own
store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import RSAKey

from companion.launch.claims import LTI, LaunchClaims, launch_claims
from companion.launch.reasons import LaunchRefused, Refusal
from companion.launch.registration import Registration

ALGORITHM = "RS256"
DEFAULT_LEEWAY = timedelta(seconds=60)
LTI_VERSION = "1.3.0"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
# RS256 only; header parameters we do not use (e.g. a platform's own) are not an error.
_REGISTRY = jws.JWSRegistry(algorithms=[ALGORITHM], strict_check_header=False)


class KeySource(Protocol):
    """Where verification gets the platform's public key for a kid."""

    def key_for(self, kid: str) -> RSAKey:
        """The key with ``kid``; raises ``LaunchRefused`` if unknown or unusable."""
        ...


def token_header(token: str) -> dict[str, Any]:
    """The (unverified) JOSE header of a compact JWS; refused if it is not one."""
    try:
        return dict(jws.extract_compact(token.encode("ascii"), registry=_REGISTRY).headers())
    except (JoseError, ValueError, UnicodeError) as exc:
        raise LaunchRefused(Refusal.MALFORMED_TOKEN, "the id_token is not a compact JWS") from exc


def verify_jws(token: str, keys: KeySource) -> dict[str, Any]:
    """The claims of ``token`` once its RS256 signature by the platform key is verified."""
    if not token:
        raise LaunchRefused(Refusal.MISSING_TOKEN, "no id_token was posted")
    header = token_header(token)
    if header.get("alg") != ALGORITHM:
        raise LaunchRefused(Refusal.BAD_ALGORITHM,
                            f"the id_token is signed with {header.get('alg')!r}, not RS256")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise LaunchRefused(Refusal.MISSING_KID, "the id_token header has no kid")
    key = keys.key_for(kid)
    try:
        verified = jws.deserialize_compact(token, key, algorithms=[ALGORITHM],
                                           registry=_REGISTRY)
    except BadSignatureError as exc:
        raise LaunchRefused(Refusal.BAD_SIGNATURE,
                            "the id_token's signature does not verify with the platform key"
                            ) from exc
    except (JoseError, ValueError) as exc:
        raise LaunchRefused(Refusal.MALFORMED_TOKEN, f"the id_token is unreadable: {exc}") from exc
    try:
        claims = json.loads(verified.payload)
    except ValueError as exc:
        raise LaunchRefused(Refusal.MALFORMED_TOKEN, "the id_token payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise LaunchRefused(Refusal.MALFORMED_TOKEN, "the id_token payload is not an object")
    return claims


def _seconds(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def check_oidc_claims(claims: Mapping[str, Any], *, issuer: str, client_id: str,
                      now: datetime, leeway: timedelta = DEFAULT_LEEWAY) -> None:
    """Refuse unless iss, aud/azp, exp/iat (with ``leeway``) and sub are as required."""
    if claims.get("iss") != issuer:
        raise LaunchRefused(Refusal.WRONG_ISSUER,
                            f"the token's issuer {claims.get('iss')!r} is not {issuer!r}")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if client_id not in audiences:
        raise LaunchRefused(Refusal.WRONG_AUDIENCE,
                            "the token was issued for another client id")
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise LaunchRefused(Refusal.WRONG_AZP,
                            "the token's authorized party (azp) is not this app")
    exp, iat = _seconds(claims.get("exp")), _seconds(claims.get("iat"))
    if exp is None or iat is None:
        raise LaunchRefused(Refusal.MISSING_TIMES, "the token has no numeric exp and iat")
    stamp, slack = now.timestamp(), leeway.total_seconds()
    if exp + slack < stamp:
        raise LaunchRefused(Refusal.EXPIRED, "the token has expired")
    if iat - slack > stamp:
        raise LaunchRefused(Refusal.ISSUED_IN_FUTURE,
                            "the token was issued in the future (check this computer's clock)")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub.strip():
        raise LaunchRefused(Refusal.MISSING_SUB, "the token has no user (empty sub)")


def check_auth_time(claims: Mapping[str, Any], *, asked_at: datetime,
                    leeway: timedelta = DEFAULT_LEEWAY) -> None:
    """Refuse unless the token's ``auth_time`` (when the person last logged in at the
    provider) is no earlier than ``asked_at``, the moment the app asked for a fresh login,
    less ``leeway`` for the two clocks. A provider that kept a browser's session and ignored
    ``prompt=login`` would otherwise sign in whoever used the browser before."""
    auth_time = _seconds(claims.get("auth_time"))
    if auth_time is None:
        raise LaunchRefused(Refusal.MISSING_AUTH_TIME,
                            "Timeback did not say when you signed in (the ID token has no "
                            "auth_time), so this cannot be told apart from an earlier sign-in "
                            "in this browser")
    if auth_time + leeway.total_seconds() < asked_at.timestamp():
        try:
            when = f" (from {datetime.fromtimestamp(auth_time, tz=UTC):%Y-%m-%d %H:%M} UTC)"
        except (OverflowError, OSError, ValueError):
            when = ""
        raise LaunchRefused(Refusal.STALE_LOGIN,
                            f"Timeback answered with an earlier sign-in in this browser{when} "
                            "instead of asking for a fresh one; sign out of Timeback in the "
                            "browser, then sign in again")


def _missing(code: Refusal, name: str) -> LaunchRefused:
    return LaunchRefused(code, f"the launch has no {name} claim")


def check_lti_claims(claims: Mapping[str, Any], registration: Registration) -> LaunchClaims:
    """The launch's claims once the LTI 1.3 resource-link requirements are met."""
    deployment = claims.get(LTI + "deployment_id")
    if not isinstance(deployment, str) or not deployment:
        raise _missing(Refusal.MISSING_DEPLOYMENT_ID, "deployment_id")
    if not registration.knows_deployment(deployment):
        raise LaunchRefused(Refusal.UNKNOWN_DEPLOYMENT,
                            f"deployment {deployment!r} is not registered for this app")
    version = claims.get(LTI + "version")
    if version is None:
        raise _missing(Refusal.MISSING_VERSION, "LTI version")
    if version != LTI_VERSION:
        raise LaunchRefused(Refusal.WRONG_VERSION,
                            f"LTI version {version!r} is not {LTI_VERSION}")
    message_type = claims.get(LTI + "message_type")
    if message_type is None:
        raise _missing(Refusal.MISSING_MESSAGE_TYPE, "message_type")
    if message_type != RESOURCE_LINK_REQUEST:
        raise LaunchRefused(Refusal.UNSUPPORTED_MESSAGE_TYPE,
                            f"this app handles only {RESOURCE_LINK_REQUEST}, not {message_type!r}")
    link = claims.get(LTI + "resource_link")
    if not isinstance(link, dict) or not isinstance(link.get("id"), str) or not link["id"]:
        raise _missing(Refusal.MISSING_RESOURCE_LINK, "resource_link.id")
    roles = claims.get(LTI + "roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise _missing(Refusal.MISSING_ROLES, "roles")
    target = claims.get(LTI + "target_link_uri")
    if not isinstance(target, str) or not target:
        raise _missing(Refusal.MISSING_TARGET_LINK_URI, "target_link_uri")
    return launch_claims(claims)
