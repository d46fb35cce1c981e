"""``timeback-companion://`` URLs: parse, check, and turn into what the app should do.

* ``timeback-companion://launch?lesson=ID&login_hint=HINT`` starts an LTI login
  initiation against the platform (the browser goes to the listener's login URL, which
  binds the state to it and redirects to the platform);
* ``timeback-companion://open?lesson=ID`` opens a lesson for the signed-in student.

Anything else is refused with a reason. Registering the scheme with the OS is packaging's.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from companion.core.launch_types import OpenLesson, StartLaunch, UrlRefusal, UrlRefused
from companion.launch.claims import LESSON_PARAM, valid_lesson_id
from companion.launch.registration import Registration, ToolUrls

SCHEME = "timeback-companion"
MAX_URL_LENGTH = 2048
MAX_HINT_LENGTH = 512

__all__ = ["OpenLesson", "StartLaunch", "UrlRefusal", "UrlRefused", "login_url_for", "parse_url"]


_ALLOWED = {"launch": {LESSON_PARAM, "login_hint"}, "open": {LESSON_PARAM}}


def parse_url(url: str) -> StartLaunch | OpenLesson:
    """What a ``timeback-companion://`` URL asks for; ``UrlRefused`` if it is not valid."""
    if len(url) > MAX_URL_LENGTH:
        raise UrlRefused(UrlRefusal.TOO_LONG, "the link is too long")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(UrlRefusal.UNEXPECTED_PART, f"the link is malformed: {exc}") from exc
    if parts.scheme.lower() != SCHEME:
        raise UrlRefused(UrlRefusal.WRONG_SCHEME, f"not a {SCHEME}:// link")
    action = (parts.hostname or "").lower()
    if action not in _ALLOWED:
        raise UrlRefused(UrlRefusal.UNKNOWN_ACTION, f"unknown action {action!r}")
    if parts.path not in ("", "/") or parts.fragment or port is not None or parts.username:
        raise UrlRefused(UrlRefusal.UNEXPECTED_PART, "the link has parts this app does not use")
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise UrlRefused(UrlRefusal.UNEXPECTED_PART, "the link's query is malformed") from exc
    unknown = set(query) - _ALLOWED[action]
    if unknown:
        raise UrlRefused(UrlRefusal.UNKNOWN_PARAMETER,
                         f"unknown parameter(s): {', '.join(sorted(unknown))}")
    repeated = [k for k, v in query.items() if len(v) > 1]
    if repeated:
        raise UrlRefused(UrlRefusal.REPEATED_PARAMETER, f"repeated: {', '.join(repeated)}")
    values = {k: v[0] for k, v in query.items()}
    lesson_text = values.get(LESSON_PARAM)
    lesson = valid_lesson_id(lesson_text)
    if lesson_text is not None and lesson is None:
        raise UrlRefused(UrlRefusal.BAD_LESSON, "the lesson id is not valid")
    if action == "open":
        if lesson is None:
            raise UrlRefused(UrlRefusal.BAD_LESSON, "the link names no lesson")
        return OpenLesson(lesson)
    hint = values.get("login_hint", "")
    if not hint.strip() or len(hint) > MAX_HINT_LENGTH or not hint.isprintable():
        raise UrlRefused(UrlRefusal.MISSING_LOGIN_HINT, "the link has no usable login_hint")
    return StartLaunch(login_hint=hint, lesson_id=lesson)


def login_url_for(start: StartLaunch, registration: Registration, urls: ToolUrls) -> str:
    """The listener URL to open in the browser to start ``start`` (third-party login)."""
    target = urls.launch_url
    params = {"iss": registration.issuer, "login_hint": start.login_hint,
              "client_id": registration.client_id}
    if start.lesson_id is not None:
        target = f"{target}?{urlencode({LESSON_PARAM: start.lesson_id})}"
        params["lti_message_hint"] = start.lesson_id
    params["target_link_uri"] = target
    return f"{urls.login_url}?{urlencode(params)}"
