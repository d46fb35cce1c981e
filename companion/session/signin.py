"""Sign-in on the cached roster: class, then name, then PIN (works offline).

A student's first PIN on this computer, and any reset, needs a guide's PIN, so nobody can
claim another student's account by signing in first. Wrong PINs are rate-limited per user
in SQLite (``companion.store.pins``), so the limit survives a restart. Users disabled in
the roster (``enabledUser`` "false", or ``tobedeleted``) cannot sign in.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from datetime import datetime

from companion.core import pins as core_pins
from companion.core.clock import Clock
from companion.core.signin_types import (
    ClassInfo,
    GuideInfo,
    SignedIn,
    SignInResult,
    Status,
    StudentInfo,
)
from companion.store import pins as pin_store
from companion.store import roster
from companion.store.db import Database
from companion.store.tables import RosterUser

log = logging.getLogger(__name__)

# How long after a verified sign-in (Sign in with Timeback, an LTI launch) a student may set
# their own PIN on this computer without a guide.
VERIFIED_PIN_WINDOW_MS = 10 * 60 * 1000

GUIDE_ROLES = frozenset({"teacher", "administrator", "aide", "proctor", "guide"})

__all__ = ["ClassInfo", "GuideInfo", "SignInResult", "SignInService", "SignedIn", "Status",
           "StudentInfo", "seed_demo_pins"]


def first_name(user: RosterUser) -> str:
    """The preferred first name, else the given name, else the sourcedId."""
    return (user.preferred_first_name or "").strip() or user.given_name.strip() or user.sourced_id


def full_name(user: RosterUser) -> str:
    """First name and family name."""
    return " ".join(p for p in (first_name(user), user.family_name.strip()) if p)


def display_names(users: list[RosterUser]) -> dict[str, str]:
    """First names, with the family initial added where a first name repeats."""
    counts = Counter(first_name(u).casefold() for u in users)
    out: dict[str, str] = {}
    for user in users:
        name = first_name(user)
        family = user.family_name.strip()
        if counts[name.casefold()] > 1 and family:
            name = f"{name} {family[0]}."
        out[user.sourced_id] = name
    return out


def is_guide(user: RosterUser) -> bool:
    """Whether the user's primary roster role makes them a guide."""
    return (user.role or "").strip().lower() in GUIDE_ROLES


class SignInService:
    """Sign-in and PIN management on the cached roster."""

    def __init__(self, db: Database, clock: Clock) -> None:
        """Use ``db`` for the roster and PINs, ``clock`` for lockout times."""
        self._db = db
        self._clock = clock
        self._served: frozenset[str] | None = None
        self._verified: dict[str, int] = {}  # user id -> monotonic ms of a verified sign-in

    def serve_classes(self, class_ids: list[str] | tuple[str, ...] | None) -> None:
        """List only these classes (those this computer serves); None or empty: all."""
        self._served = frozenset(class_ids) if class_ids else None

    # ------------------------------------------------------------ lists

    def classes(self) -> list[ClassInfo]:
        """Live classes of the cached roster, by title."""
        out = []
        for cls in roster.classes(self._db):
            if self._served is not None and cls.sourced_id not in self._served:
                continue
            students = roster.users_in_class(self._db, cls.sourced_id, role="student")
            out.append(ClassInfo(cls.sourced_id, cls.title or cls.sourced_id, len(students)))
        return out

    def students(self, class_id: str) -> list[StudentInfo]:
        """The class's students for the name grid, sorted by display name."""
        users = roster.users_in_class(self._db, class_id, role="student")
        names = display_names(users)
        with_pin = self._with_pin([u.sourced_id for u in users])
        out = [
            StudentInfo(
                id=u.sourced_id,
                display_name=names[u.sourced_id],
                can_sign_in=roster.user_can_sign_in(u),
                has_pin=u.sourced_id in with_pin,
            )
            for u in users
        ]
        return sorted(out, key=lambda s: (s.display_name.casefold(), s.id))

    def guides(self) -> list[GuideInfo]:
        """Roster guides (teachers) who may sign in, by name."""
        users = roster.live_users(self._db)
        guides = [u for u in users if is_guide(u) and roster.user_can_sign_in(u)]
        names = display_names(guides)
        with_pin = self._with_pin([u.sourced_id for u in guides])
        return [
            GuideInfo(u.sourced_id, names[u.sourced_id], u.sourced_id in with_pin) for u in guides
        ]

    # ------------------------------------------------------------ signing in

    def sign_in(self, user_id: str, pin: str) -> SignInResult:
        """Check a student's (or any roster user's) PIN."""
        user = roster.get_user(self._db, user_id)
        if user is None:
            return SignInResult("unknown", message="This name is not in the class list.")
        if not roster.user_can_sign_in(user):
            return SignInResult("disabled", message="This account is turned off. Ask a guide.")
        return self._check(user, pin)

    def sign_in_guide(self, guide_id: str, pin: str) -> SignInResult:
        """Check a guide's PIN; refuses users who are not guides in the roster."""
        user = roster.get_user(self._db, guide_id)
        if user is None or not is_guide(user):
            return SignInResult("unknown", message="Not a guide of this school.")
        if not roster.user_can_sign_in(user):
            return SignInResult("disabled", message="This account is turned off.")
        return self._check(user, pin)

    def set_pin(self, student_id: str, new_pin: str, guide_id: str, guide_pin: str) -> SignInResult:
        """Set (or reset) a student's PIN with a guide's PIN; signs the student in on success.

        Returns the guide check's failure (wrong_pin / locked_out / unknown / disabled are
        then about the guide) or the student's unknown / disabled. ValueError when
        ``new_pin`` is not 4 to 6 digits (check with ``core.pins.valid_pin`` first).
        """
        if not core_pins.valid_pin(new_pin):
            raise ValueError("a PIN is 4 to 6 digits")
        student = roster.get_user(self._db, student_id)
        if student is None:
            return SignInResult("unknown", message="This name is not in the class list.")
        if not roster.user_can_sign_in(student):
            return SignInResult("disabled", message="This account is turned off.")
        guide = self.sign_in_guide(guide_id, guide_pin)
        if not guide.ok:
            return guide
        pin_store.set_pin(self._db, student_id, core_pins.hash_pin(new_pin), self._now())
        log.info("guide %s set the PIN of %s", guide_id, student_id)
        return SignInResult("ok", user=self._signed_in(student))

    def verified_sign_in(self, user_id: str) -> SignInResult:
        """A sign-in whose identity Timeback verified (Sign in with Timeback or an LTI
        launch): no PIN needed. For a user who can sign in, notes the verification so that
        ``set_own_pin`` is allowed for a while."""
        user = roster.get_user(self._db, user_id)
        if user is None:
            return SignInResult("unknown", message="This name is not in the class list.")
        if not roster.user_can_sign_in(user):
            return SignInResult("disabled", message="This account is turned off. Ask a guide.")
        self._verified[user_id] = self._clock.monotonic_ms()
        return SignInResult("ok", user=self._signed_in(user))

    def can_set_own_pin(self, user_id: str) -> bool:
        """Whether ``user_id`` had a verified sign-in within ``VERIFIED_PIN_WINDOW_MS``."""
        at = self._verified.get(user_id)
        return at is not None and self._clock.monotonic_ms() - at <= VERIFIED_PIN_WINDOW_MS

    def set_own_pin(self, user_id: str, new_pin: str) -> SignInResult:
        """Set the user's PIN on this computer right after a verified sign-in (no guide).

        Refused ("needs_pin") without a recent ``verified_sign_in`` of the same user; the
        verification is used up. ValueError when ``new_pin`` is not 4 to 6 digits.
        """
        if not core_pins.valid_pin(new_pin):
            raise ValueError("a PIN is 4 to 6 digits")
        if not self.can_set_own_pin(user_id):
            return SignInResult("needs_pin", message="Sign in with Timeback first.")
        user = roster.get_user(self._db, user_id)
        if user is None or not roster.user_can_sign_in(user):
            return SignInResult("unknown", message="This name is not in the class list.")
        del self._verified[user_id]
        pin_store.set_pin(self._db, user_id, core_pins.hash_pin(new_pin), self._now())
        pin_store.reset_failures(self._db, user_id, self._now())
        log.info("%s set their own PIN after a verified sign-in", user_id)
        return SignInResult("ok", user=self._signed_in(user))

    def set_guide_pin(
        self, guide_id: str, pin: str, current_pin: str | None = None
    ) -> SignInResult:
        """Set a guide's PIN: freely the first time (set-up), else only with the current PIN."""
        if not core_pins.valid_pin(pin):
            raise ValueError("a PIN is 4 to 6 digits")
        user = roster.get_user(self._db, guide_id)
        if user is None or not is_guide(user):
            return SignInResult("unknown", message="Not a guide of this school.")
        row = pin_store.get(self._db, guide_id)
        if row is not None and row.pin_hash() is not None:
            check = self.sign_in_guide(guide_id, current_pin or "")
            if not check.ok:
                return check
        pin_store.set_pin(self._db, guide_id, core_pins.hash_pin(pin), self._now())
        return SignInResult("ok", user=self._signed_in(user))

    def reset_pin(self, student_id: str, guide_id: str, guide_pin: str) -> SignInResult:
        """Clear a student's PIN (a guide must then set a new one)."""
        guide = self.sign_in_guide(guide_id, guide_pin)
        if not guide.ok:
            return guide
        pin_store.clear_pin(self._db, student_id, self._now())
        pin_store.reset_failures(self._db, student_id, self._now())
        return SignInResult("ok", user=guide.user)

    def clear_lockout(self, student_id: str, guide_id: str, guide_pin: str) -> SignInResult:
        """Let a student locked out by wrong PINs try again now (the PIN stays), with a
        guide's PIN; the guide check's failure otherwise."""
        guide = self.sign_in_guide(guide_id, guide_pin)
        if not guide.ok:
            return guide
        pin_store.reset_failures(self._db, student_id, self._now())
        log.info("guide %s cleared the PIN lockout of %s", guide_id, student_id)
        return SignInResult("ok", user=guide.user)

    def seed_demo_pins(self, student_pin: str = "1234", guide_pin: str = "9999") -> int:
        """See the module function ``seed_demo_pins``."""
        return seed_demo_pins(self._db, student_pin, guide_pin, now=self._now())

    # ------------------------------------------------------------ helpers

    def _now(self) -> datetime:
        return self._clock.utc_now()

    def _with_pin(self, user_ids: list[str]) -> set[str]:
        return pin_store.users_with_pin(self._db, user_ids)

    def _signed_in(self, user: RosterUser) -> SignedIn:
        role = (user.role or "student").strip() or "student"
        return SignedIn(user.sourced_id, full_name(user), role, user.email)

    def _check(self, user: RosterUser, pin: str) -> SignInResult:
        now = self._now()
        row = pin_store.get(self._db, user.sourced_id)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            return _locked(row.locked_until, now)
        stored = None if row is None else row.pin_hash()
        if stored is None:
            return SignInResult("needs_pin", message="First time here: ask a guide to set a PIN.")
        if core_pins.verify_pin(pin, stored):
            pin_store.reset_failures(self._db, user.sourced_id, now)
            return SignInResult("ok", user=self._signed_in(user))
        row = pin_store.record_failure(self._db, user.sourced_id, now)
        if row.locked_until is not None and row.locked_until > now:
            return _locked(row.locked_until, now)
        left = core_pins.remaining_attempts(row.failures)
        return SignInResult("wrong_pin", remaining_attempts=left, message="That PIN is not right.")


def _locked(until: datetime, now: datetime) -> SignInResult:
    wait = max(1, math.ceil((until - now).total_seconds()))
    return SignInResult(
        "locked_out",
        remaining_attempts=0,
        retry_after_s=wait,
        message=f"Too many wrong PINs. Try again in {wait} s.",
    )


def seed_demo_pins(
    db: Database,
    student_pin: str = "1234",
    guide_pin: str = "9999",
    now: datetime | None = None,
) -> int:
    """Give every roster student and guide without a PIN the demo PIN; returns how many.

    For the sandbox demo only (the banner shows these PINs). To keep it fast, all students
    share one hash (one salt) and all guides another: two scrypt computations in all
    (about 50 ms each with n=2**14, r=8, p=1) instead of one per user. Real PINs always get
    their own salt. Existing PINs are left alone.
    """
    from datetime import UTC

    when = now or datetime.now(UTC)
    users = roster.live_users(db)
    student_hash = core_pins.hash_pin(student_pin)
    guide_hash = core_pins.hash_pin(guide_pin)
    hashes: dict[str, core_pins.PinHash] = {}
    for user in users:
        row = pin_store.get(db, user.sourced_id)
        if row is not None and row.pin_hash() is not None:
            continue
        hashes[user.sourced_id] = guide_hash if is_guide(user) else student_hash
    pin_store.set_many(db, hashes, when)
    return len(hashes)
