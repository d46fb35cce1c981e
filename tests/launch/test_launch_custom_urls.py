"""timeback-companion:// links: what they ask for, and what is refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from companion.launch.registration import is_launch_url, sandbox_registration, tool_urls
from companion.launch.urls import (
    OpenLesson,
    StartLaunch,
    UrlRefusal,
    UrlRefused,
    login_url_for,
    parse_url,
)


def test_launch_link_names_the_lesson_and_the_login_hint() -> None:
    assert parse_url("timeback-companion://launch?lesson=demo-math-drill&login_hint=s-1") == (
        StartLaunch(login_hint="s-1", lesson_id="demo-math-drill"))
    assert parse_url("timeback-companion://launch/?login_hint=s-1") == StartLaunch("s-1", None)


def test_open_link_names_a_lesson() -> None:
    assert parse_url("TIMEBACK-COMPANION://open?lesson=demo-listening-bees") == OpenLesson(
        "demo-listening-bees")


@pytest.mark.parametrize(("url", "code"), [
    ("https://launch?lesson=a&login_hint=b", UrlRefusal.WRONG_SCHEME),
    ("timeback-companion://delete?lesson=a", UrlRefusal.UNKNOWN_ACTION),
    ("timeback-companion://open", UrlRefusal.BAD_LESSON),
    ("timeback-companion://open?lesson=../../etc/passwd", UrlRefusal.BAD_LESSON),
    ("timeback-companion://open?lesson=a&lesson=b", UrlRefusal.REPEATED_PARAMETER),
    ("timeback-companion://open?lesson=a&next=https://evil", UrlRefusal.UNKNOWN_PARAMETER),
    ("timeback-companion://open/extra?lesson=a", UrlRefusal.UNEXPECTED_PART),
    ("timeback-companion://open?lesson=a#frag", UrlRefusal.UNEXPECTED_PART),
    ("timeback-companion://user@open?lesson=a", UrlRefusal.UNEXPECTED_PART),
    ("timeback-companion://open:99?lesson=a", UrlRefusal.UNEXPECTED_PART),
    ("timeback-companion://launch?lesson=a", UrlRefusal.MISSING_LOGIN_HINT),
    ("timeback-companion://launch?lesson=a&login_hint=%20", UrlRefusal.MISSING_LOGIN_HINT),
    ("timeback-companion://launch?login_hint=a%0Ab", UrlRefusal.MISSING_LOGIN_HINT),
    ("timeback-companion://open?lesson=" + "a" * 3000, UrlRefusal.TOO_LONG),
])
def test_anything_else_is_refused_with_a_reason(url: str, code: UrlRefusal) -> None:
    with pytest.raises(UrlRefused) as refused:
        parse_url(url)
    assert refused.value.code is code


def test_launch_link_becomes_a_login_initiation_at_the_listener() -> None:
    registration = sandbox_registration("http://127.0.0.1:8787")
    urls = tool_urls(47631)
    url = login_url_for(StartLaunch("demo-student-01", "demo-math-drill"), registration, urls)
    parts = urlsplit(url)
    q = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == urls.login_url
    assert q["iss"] == registration.issuer and q["login_hint"] == "demo-student-01"
    assert is_launch_url(q["target_link_uri"], urls)
    assert q["target_link_uri"].endswith("?lesson=demo-math-drill")


def test_app_config_urls_are_loopback() -> None:
    assert tool_urls(47631).as_dict() == {
        "login_url": "http://127.0.0.1:47631/lti/login",
        "launch_url": "http://127.0.0.1:47631/lti/launch",
        "redirect_uri": "http://127.0.0.1:47631/oidc/callback",
    }
