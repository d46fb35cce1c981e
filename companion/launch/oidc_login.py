"""LTI 1.3 login initiation (third-party-initiated login): check, remember, redirect."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from companion.launch.nonces import NonceStore
from companion.launch.reasons import LaunchRefused, Refusal
from companion.launch.registration import Registration, ToolUrls, is_launch_url

PURPOSE = "lti"
MAX_PARAM_LENGTH = 2048  # a URL or hint longer than this is no launch


@dataclass(frozen=True)
class LoginRedirect:
    """Where to send the browser, and the state to bind to it with a cookie."""

    url: str
    state: str


def start_login(params: Mapping[str, str], registration: Registration, urls: ToolUrls,
                nonces: NonceStore) -> LoginRedirect:
    """Check a login initiation request and build the authentication request for it."""
    for name in ("target_link_uri", "login_hint", "lti_message_hint", "client_id",
                 "lti_deployment_id", "iss"):
        if len(params.get(name) or "") > MAX_PARAM_LENGTH:
            raise LaunchRefused(Refusal.TOO_LONG, f"the login request's {name} is too long")
    if params.get("iss") != registration.issuer:
        raise LaunchRefused(Refusal.UNKNOWN_ISSUER,
                            f"logins from {params.get('iss')!r} are not registered")
    login_hint = params.get("login_hint", "")
    if not login_hint:
        raise LaunchRefused(Refusal.MISSING_LOGIN_HINT, "the login request has no login_hint")
    target = params.get("target_link_uri", "")
    if not is_launch_url(target, urls):
        raise LaunchRefused(Refusal.BAD_TARGET_LINK_URI,
                            "the target_link_uri is not this app's launch URL")
    client_id = params.get("client_id")
    if client_id is not None and client_id != registration.client_id:
        raise LaunchRefused(Refusal.WRONG_CLIENT_ID, "the login is for another client id")
    deployment = params.get("lti_deployment_id")
    if deployment is not None and not registration.knows_deployment(deployment):
        raise LaunchRefused(Refusal.UNKNOWN_DEPLOYMENT,
                            f"deployment {deployment!r} is not registered for this app")
    attempt = nonces.begin(PURPOSE, {"target_link_uri": target})
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": registration.client_id,
        "redirect_uri": urls.launch_url,
        "login_hint": login_hint,
        "state": attempt.state,
        "nonce": attempt.nonce,
    }
    if message_hint := params.get("lti_message_hint"):
        query["lti_message_hint"] = message_hint
    return LoginRedirect(url=f"{registration.auth_url}?{urlencode(query)}", state=attempt.state)

