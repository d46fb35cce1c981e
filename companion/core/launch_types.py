"""What launches, Sign in with Timeback and ``timeback-companion://`` links hand the
windows: a validated launch, a verified sign-in, what a link asks for, and why a link was
refused. Plain values, shared by ``launch`` and the windows (which never import it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True)
class LaunchRequest:
    """A validated launch: who to sign in, which lesson to open (None: the library)."""

    user_id: str
    lesson_id: str | None
    claims: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SignInResult:
    """A completed Sign in with Timeback: the roster user and the ID token's identity."""

    user_id: str
    email: str
    sub: str


class UrlRefusal(StrEnum):
    """Why a ``timeback-companion://`` URL was refused."""

    TOO_LONG = "too_long"
    WRONG_SCHEME = "wrong_scheme"
    UNKNOWN_ACTION = "unknown_action"
    UNEXPECTED_PART = "unexpected_part"
    UNKNOWN_PARAMETER = "unknown_parameter"
    REPEATED_PARAMETER = "repeated_parameter"
    BAD_LESSON = "bad_lesson"
    MISSING_LOGIN_HINT = "missing_login_hint"


class UrlRefused(ValueError):
    """A custom URL refused for ``code``."""

    def __init__(self, code: UrlRefusal, message: str) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class StartLaunch:
    """Start an LTI launch of ``lesson_id`` (None: the library) for ``login_hint``."""

    login_hint: str
    lesson_id: str | None


@dataclass(frozen=True)
class OpenLesson:
    """Open ``lesson_id`` for the signed-in student."""

    lesson_id: str
