"""What the app keeps from a validated launch: a short, token-free summary of its claims."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
LESSON_PARAM = "lesson"
CUSTOM_LESSON_KEYS = ("lesson_id", "lesson")
_LESSON_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def valid_lesson_id(value: object) -> str | None:
    """``value`` if it looks like a lesson id (letters, digits, ``.``, ``_``, ``-``)."""
    return value if isinstance(value, str) and _LESSON_ID.match(value) else None


@dataclass(frozen=True)
class LaunchClaims:
    """The parts of a launch the app uses. Optional claims are None or empty."""

    sub: str
    deployment_id: str
    resource_link_id: str
    target_link_uri: str
    roles: tuple[str, ...]
    person_sourcedid: str | None = None
    email: str | None = None
    name: str | None = None
    context_id: str | None = None
    context_title: str | None = None
    resource_link_title: str | None = None
    custom: dict[str, str] = field(default_factory=dict)

    def lesson_id(self) -> str | None:
        """The lesson named by the target link's ``lesson`` parameter or a custom claim."""
        query = parse_qs(urlsplit(self.target_link_uri).query)
        for value in query.get(LESSON_PARAM, []):
            if lesson := valid_lesson_id(value):
                return lesson
        for key in CUSTOM_LESSON_KEYS:
            if lesson := valid_lesson_id(self.custom.get(key)):
                return lesson
        return None

    def summary(self) -> dict[str, Any]:
        """The claims as a plain dict (no token, nothing secret)."""
        data = asdict(self)
        data["roles"] = list(self.roles)
        return data


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def launch_claims(claims: Mapping[str, Any]) -> LaunchClaims:
    """The summary of claims already checked by ``check_lti_claims``."""
    lis = claims.get(LTI + "lis")
    context = claims.get(LTI + "context")
    link = claims.get(LTI + "resource_link") or {}
    custom = claims.get(LTI + "custom")
    return LaunchClaims(
        sub=str(claims["sub"]),
        deployment_id=str(claims[LTI + "deployment_id"]),
        resource_link_id=str(link["id"]),
        target_link_uri=str(claims[LTI + "target_link_uri"]),
        roles=tuple(claims.get(LTI + "roles") or ()),
        person_sourcedid=_text(lis.get("person_sourcedid")) if isinstance(lis, dict) else None,
        email=_text(claims.get("email")),
        name=_text(claims.get("name")),
        context_id=_text(context.get("id")) if isinstance(context, dict) else None,
        context_title=_text(context.get("title")) if isinstance(context, dict) else None,
        resource_link_title=_text(link.get("title")),
        custom={str(k): str(v) for k, v in custom.items()} if isinstance(custom, dict) else {},
    )
