"""The sandbox as an LTI 1.3 platform and OpenID provider for the demo school.

* ``GET /.well-known/jwks.json`` – the platform key set (``POST /_admin/lti/rotate-key``
  rotates it);
* ``GET /lti/students`` and ``/lti/students/{id}?tool_login=URL`` – launch pages: a
  "Launch" button per demo lesson performs a third-party-initiated login at the tool's
  login URL (``&auto=LESSON`` submits one by itself);
* ``GET|POST /lti/authorize`` – the authentication endpoint: answers with a form that
  posts a signed id_token to the tool's launch URL by itself, as real platforms do;
* ``GET /.well-known/openid-configuration``, ``GET /oidc/authorize`` (code + PKCE S256,
  the demo student named by ``login_hint``), ``POST /oidc/token`` – Sign in with Timeback;
* ``POST /_admin/lti/faults`` ``{"mode": ...}`` makes the next tokens bad: ``wrong_key``,
  ``expired``, ``wrong_audience`` or ``replay_nonce``; ``DELETE`` clears it.

Registration values are built in: client id, deployment id; the issuer is the sandbox's own
base URL. Tool URLs must be loopback (RFC 8252), any port.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from companion.sandbox.keys import PlatformKeys
from companion.sandbox.seed import DEMO_COURSE_ID, DEMO_COURSE_TITLE
from companion.sandbox.state import IdpSession, SandboxState

CLIENT_ID = "timeback-companion-sandbox"
DEPLOYMENT_ID = "sandbox-deployment-1"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
TOKEN_TTL_S = 300
CODE_TTL_S = 60
SESSION_COOKIE = "sandbox_idp_session"
# remembered_login: the identity provider keeps a browser's session and ignores
# prompt=login and max_age=0, answering with the person who signed in there before.
BAD_MODES = ("wrong_key", "expired", "wrong_audience", "replay_nonce", "remembered_login")
_LESSONS_DIR = Path(__file__).resolve().parents[2] / "resources" / "lessons" / DEMO_COURSE_ID
_FALLBACK_LESSONS = [("demo-math-drill", "Quick Maths Drill")]


def demo_lessons() -> list[tuple[str, str]]:
    """(id, title) of the demo course's lessons, from the lesson bundles."""
    lessons: list[tuple[int, str, str]] = []
    for path in sorted(_LESSONS_DIR.glob("*/lesson.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            lessons.append((int(data.get("order", 0)), str(data["id"]), str(data["title"])))
        except (OSError, ValueError, KeyError):
            continue
    return [(i, t) for _, i, t in sorted(lessons)] or list(_FALLBACK_LESSONS)


@dataclass
class _Code:
    user_id: str
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    expires: float
    auth_time: float


class LtiPlatform:
    """The platform's keys, bad-token mode, issued nonces and authorization codes."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.keys = PlatformKeys()
        self.bad_mode: str | None = None
        self.last_nonce: str | None = None
        self._codes: dict[str, _Code] = {}
        self._lock = threading.Lock()
        # Browser sessions of the identity provider (``state.idp_sessions``): a browser
        # that signed in before is signed in again as the same person, with that login's
        # auth_time, unless the client asks for a fresh login.
        self.sessions = state.idp_sessions

    def student(self, user_id: str) -> dict[str, Any] | None:
        """The demo user ``user_id`` (any role), if active and enabled."""
        for user in self.state.roster.roster.get("users", []):
            if user.get("sourcedId") == user_id and user.get("enabledUser") != "false":
                return dict(user)
        return None

    def id_token(self, issuer: str, user: dict[str, Any], nonce: str,
                 extra: dict[str, Any]) -> str:
        """A signed id_token for ``user``, spoiled as ``bad_mode`` says."""
        now = int(time.time())
        mode = self.bad_mode
        with self._lock:
            used, self.last_nonce = self.last_nonce, nonce
        claims: dict[str, Any] = {
            "iss": issuer, "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": user["sourcedId"],
            "iat": now, "exp": now + TOKEN_TTL_S, "nonce": nonce,
            "given_name": user.get("givenName", ""), "family_name": user.get("familyName", ""),
            "name": f"{user.get('givenName', '')} {user.get('familyName', '')}".strip(),
            **({"email": user["email"], "email_verified": True} if user.get("email") else {}),
            **extra,
        }
        if mode == "expired":
            claims["iat"], claims["exp"] = now - 3 * TOKEN_TTL_S, now - 2 * TOKEN_TTL_S
        elif mode == "wrong_audience":
            claims["aud"] = claims["azp"] = "another-tool"
        elif mode == "replay_nonce" and used is not None:
            claims["nonce"] = used
        return self.keys.sign(claims, wrong_key=mode == "wrong_key")

    def new_code(self, code: _Code) -> str:
        """Store an authorization code; returns it."""
        value = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[value] = code
        return value

    def take_code(self, value: str) -> _Code | None:
        """The code's grant, once (codes are single use)."""
        with self._lock:
            code = self._codes.pop(value, None)
        return code if code is not None and code.expires > time.time() else None


def issuer_of(request: Request) -> str:
    """The sandbox's base URL as the app knows it (the bound loopback address)."""
    server = request.scope.get("server") or ("127.0.0.1", 80)
    return f"http://{server[0]}:{server[1]}"


def _loopback(uri: str, path: str) -> bool:
    try:
        parts = urlsplit(uri)
    except ValueError:
        return False
    return (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")
            and parts.path == path and not parts.fragment)


def _error_page(message: str, status: int = 400) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><title>Error</title><h1>Error</h1>"
                        f"<p id=\"error\">{escape(message)}</p>", status_code=status)


def _auto_post(action: str, fields: dict[str, str]) -> HTMLResponse:
    inputs = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                     for k, v in fields.items())
    return HTMLResponse(
        "<!doctype html><html><head><title>Launching…</title></head><body>"
        f'<form id="post" method="post" action="{escape(action)}">{inputs}'
        '<noscript><button type="submit">Continue</button></noscript></form>'
        "<script>document.getElementById('post').submit();</script></body></html>",
        headers={"Cache-Control": "no-store"})


async def _params(request: Request) -> dict[str, str]:
    """Query parameters (GET) or the urlencoded form (POST); a repeated name keeps its first."""
    if request.method != "POST":
        return dict(request.query_params)
    body = (await request.body()).decode("utf-8", "replace")
    params: dict[str, str] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        params.setdefault(key, value)
    return params


def routes(state: SandboxState) -> list[Route]:
    """The platform's routes (admin ones included)."""
    platform = LtiPlatform(state)

    async def jwks(request: Request) -> Response:
        return JSONResponse(platform.keys.jwks(), headers={"Cache-Control": "max-age=300"})

    async def discovery(request: Request) -> Response:
        base = issuer_of(request)
        return JSONResponse({
            "issuer": base, "authorization_endpoint": f"{base}/oidc/authorize",
            "token_endpoint": f"{base}/oidc/token", "jwks_uri": f"{base}/.well-known/jwks.json",
            "response_types_supported": ["code", "id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "email", "profile"],
        })

    async def students(request: Request) -> Response:
        tool = escape(request.query_params.get("tool_login", ""))
        items = "".join(
            f'<li><a href="/lti/students/{escape(u["sourcedId"])}?tool_login={tool}">'
            f'{escape(u.get("givenName", ""))} {escape(u.get("familyName", ""))}</a></li>'
            for u in state.roster.roster.get("users", []))
        return HTMLResponse(f"<!doctype html><title>Demo students</title><ul>{items}</ul>")

    async def student_page(request: Request) -> Response:
        user = platform.student(request.path_params["user_id"])
        tool_login = request.query_params.get("tool_login", "")
        if user is None:
            return _error_page("unknown or disabled student", 404)
        if not _loopback(tool_login, "/lti/login"):
            return _error_page("tool_login must be the tool's loopback login URL")
        launch_url = tool_login[: -len("/lti/login")] + "/lti/launch"
        auto = request.query_params.get("auto")
        forms = []
        for lesson_id, title in demo_lessons():
            fields = {"iss": issuer_of(request), "login_hint": user["sourcedId"],
                      "target_link_uri": f"{launch_url}?{urlencode({'lesson': lesson_id})}",
                      "lti_message_hint": lesson_id, "client_id": CLIENT_ID,
                      "lti_deployment_id": DEPLOYMENT_ID}
            inputs = "".join(f'<input type="hidden" name="{k}" value="{escape(v)}">'
                             for k, v in fields.items())
            forms.append(f'<li><form id="launch-{escape(lesson_id)}" method="get" '
                         f'action="{escape(tool_login)}">{escape(title)} {inputs}'
                         '<button type="submit">Launch</button></form></li>')
        script = ""
        if auto is not None:
            script = (f"<script>document.getElementById({json.dumps('launch-' + auto)})"
                      ".submit();</script>")
        name = f"{user.get('givenName', '')} {user.get('familyName', '')}"
        return HTMLResponse(f"<!doctype html><title>Lessons for {escape(name)}</title>"
                            f"<h1>{escape(name)}</h1><ul>{''.join(forms)}</ul>{script}")

    async def lti_authorize(request: Request) -> Response:
        p = await _params(request)
        expected = {"scope": "openid", "response_type": "id_token",
                    "response_mode": "form_post", "prompt": "none", "client_id": CLIENT_ID}
        wrong = [k for k, v in expected.items() if p.get(k) != v]
        if wrong:
            return _error_page(f"bad authentication request: {', '.join(wrong)}")
        redirect_uri = p.get("redirect_uri", "")
        if not _loopback(redirect_uri, "/lti/launch"):
            return _error_page("redirect_uri is not a registered launch URL")
        if not p.get("nonce") or not p.get("state"):
            return _error_page("nonce and state are required")
        user = platform.student(p.get("login_hint", ""))
        if user is None:
            return _error_page("login_hint names no demo user")
        lesson = p.get("lti_message_hint") or ""
        target = f"{redirect_uri}?{urlencode({'lesson': lesson})}" if lesson else redirect_uri
        title = dict(demo_lessons()).get(lesson, "Lesson library")
        extra = {
            LTI + "deployment_id": DEPLOYMENT_ID, LTI + "version": "1.3.0",
            LTI + "message_type": "LtiResourceLinkRequest", LTI + "roles": [LEARNER],
            LTI + "resource_link": {"id": f"rl-{lesson or 'library'}", "title": title},
            LTI + "context": {"id": DEMO_COURSE_ID, "title": DEMO_COURSE_TITLE},
            LTI + "target_link_uri": target,
            LTI + "lis": {"person_sourcedid": user["sourcedId"]},
            LTI + "custom": {"lesson_id": lesson} if lesson else {},
        }
        token = platform.id_token(issuer_of(request), user, p["nonce"], extra)
        return _auto_post(redirect_uri, {"id_token": token, "state": p["state"]})

    async def oidc_authorize(request: Request) -> Response:
        p = dict(request.query_params)
        redirect_uri = p.get("redirect_uri", "")
        if p.get("client_id") != CLIENT_ID or not _loopback(redirect_uri, "/oidc/callback"):
            return _error_page("unknown client or redirect_uri")
        if (p.get("response_type") != "code" or "openid" not in p.get("scope", "").split()
                or p.get("code_challenge_method") != "S256" or not p.get("code_challenge")
                or not p.get("state") or not p.get("nonce")):
            back = {"error": "invalid_request", "state": p.get("state", "")}
            return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)
        session = platform.sessions.get(request.cookies.get(SESSION_COOKIE, ""))
        fresh = ((p.get("prompt") == "login" or p.get("max_age") == "0")
                 and platform.bad_mode != "remembered_login")
        if session is not None and not fresh:
            wanted, auth_time = session.user_id, session.auth_time
        else:  # a login at the provider, now
            wanted, auth_time = p.get("login_hint", "demo-student-01"), time.time()
        user = platform.student(wanted)
        if user is None:
            back = {"error": "access_denied", "state": p["state"]}
            return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)
        code = platform.new_code(_Code(user["sourcedId"], CLIENT_ID, redirect_uri,
                                       p["code_challenge"], p["nonce"], time.time() + CODE_TTL_S,
                                       auth_time))
        back = {"code": code, "state": p["state"]}
        answer = RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)
        session_id = secrets.token_urlsafe(16)
        platform.sessions[session_id] = IdpSession(user["sourcedId"], auth_time)
        answer.set_cookie(SESSION_COOKIE, session_id, httponly=True, path="/oidc")
        return answer

    async def oidc_token(request: Request) -> Response:
        p = await _params(request)
        if p.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        code = platform.take_code(p.get("code", ""))
        verifier = p.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if (code is None or p.get("client_id") != code.client_id
                or p.get("redirect_uri") != code.redirect_uri
                or not secrets.compare_digest(challenge, code.challenge)):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        user = platform.student(code.user_id)
        if user is None:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        token = platform.id_token(issuer_of(request), user, code.nonce,
                                  {"auth_time": int(code.auth_time)})
        return JSONResponse({"id_token": token, "access_token": secrets.token_urlsafe(24),
                             "token_type": "Bearer", "expires_in": TOKEN_TTL_S},
                            headers={"Cache-Control": "no-store"})

    async def rotate(request: Request) -> Response:
        return JSONResponse({"kid": platform.keys.rotate()})

    async def set_fault(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            mode = body.get("mode") if isinstance(body, dict) else "?"
        except ValueError:
            mode = "?"
        if mode is not None and mode not in BAD_MODES:
            return JSONResponse({"status": "error",
                                 "message": f"mode must be one of {', '.join(BAD_MODES)}"},
                                status_code=400)
        platform.bad_mode = mode
        return JSONResponse({"status": "success", "mode": mode})

    async def clear_fault(request: Request) -> Response:
        platform.bad_mode = None
        return JSONResponse({"status": "success", "mode": None})

    return [
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        Route("/lti/students", students, methods=["GET"]),
        Route("/lti/students/{user_id}", student_page, methods=["GET"]),
        Route("/lti/authorize", lti_authorize, methods=["GET", "POST"]),
        Route("/oidc/authorize", oidc_authorize, methods=["GET"]),
        Route("/oidc/token", oidc_token, methods=["POST"]),
        Route("/_admin/lti/rotate-key", rotate, methods=["POST"]),
        Route("/_admin/lti/faults", set_fault, methods=["POST"]),
        Route("/_admin/lti/faults", clear_fault, methods=["DELETE"]),
    ]
