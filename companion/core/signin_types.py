"""What sign-in and set-up show the windows: classes, names, guides, who signed in, the
outcome of a PIN check, and the schools and roster a set-up sees. Plain values, shared by
the sign-in use case and the windows (which never import ``session`` or ``store``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from companion.core.pins import FREE_ATTEMPTS

Status = Literal["ok", "wrong_pin", "locked_out", "needs_pin", "disabled", "unknown"]


@dataclass(frozen=True, slots=True)
class ClassInfo:
    """A class to pick on the first sign-in screen."""

    id: str
    title: str
    student_count: int


@dataclass(frozen=True, slots=True)
class StudentInfo:
    """A name on the class grid.

    ``display_name`` is the preferred (or given) first name, plus the family initial when
    two students in the class share a first name.
    """

    id: str
    display_name: str
    can_sign_in: bool
    has_pin: bool


@dataclass(frozen=True, slots=True)
class GuideInfo:
    """A guide (roster teacher) who can sign in as guide."""

    id: str
    display_name: str
    has_pin: bool


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who is signed in."""

    user_id: str
    name: str
    role: str  # "student" or the guide's roster role ("teacher", ...)
    email: str | None


@dataclass(frozen=True, slots=True)
class SignInResult:
    """The outcome of a PIN check.

    ``remaining_attempts`` is how many more wrong PINs are allowed before a lockout;
    ``retry_after_s`` how long a lockout still lasts (0 when not locked out). For
    ``set_pin`` the wrong_pin / locked_out statuses are about the guide's PIN.
    """

    status: Status
    user: SignedIn | None = None
    remaining_attempts: int = FREE_ATTEMPTS
    retry_after_s: int = 0
    message: str = ""

    @property
    def ok(self) -> bool:
        """True when the PIN was accepted."""
        return self.status == "ok"


@dataclass(frozen=True)
class School:
    """A school the set-up's credentials can see."""

    id: str
    name: str


@dataclass(frozen=True)
class PulledRoster:
    """The outcome of the set-up's roster pull: what the next page offers."""

    school_id: str
    records: int
    classes: list[ClassInfo]
    guides: list[GuideInfo]
