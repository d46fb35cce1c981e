"""The windows' sign-in and library over the machine service (``ServiceClient``).

``ServiceLink`` is the app's one connection to the service and what it says about it:
whether the service answers, and the sentence the windows show while it does not.
``RemoteSignIn`` (``ui.ports.SignIn``) asks the service for the roster lists and every PIN
check; the PINs, their lockouts and the guides' rights live there. ``RemoteLibrary``
(``ui.ports.LessonLibrary``) asks it for a student's lesson states and today's figures and
shows them on the lessons this app can open. The run is ``remote_run.RemoteRun``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from companion.core.catalogue import Catalogue
from companion.core.library_types import CourseRow, LessonRow, TodayStats
from companion.core.signin_types import (
    ClassInfo,
    GuideInfo,
    SignedIn,
    SignInResult,
    StudentInfo,
)
from companion.service.client import ServiceClient, ServiceRefused, ServiceUnavailable

log = logging.getLogger("companion.app")

SERVICE_STOPPED = (
    "The companion service has stopped; your work is kept and will be handed over when it is back."
)
NO_SIGN_IN = (
    "The companion service on this computer is not running, so nobody can sign in until "
    "it is back. Ask the computer's administrator if this lasts."
)
PIN_CODES = frozenset({"wrong_pin", "locked_out", "needs_pin", "disabled"})


class ServiceDown(ConnectionError):
    """The service cannot be reached; the message is for the person at the computer."""


class ServiceLink:
    """The connection to the service, and whether it answers (for the windows' notices).

    ``observe()`` after each request notes the state; ``probe()`` (the root's timer) tries
    the service when nothing else does, and hands over what waits. Listeners hear
    ``(up, text)`` on the thread that noticed the change.
    """

    def __init__(self, client: ServiceClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._up = True
        self._listeners: list[Callable[[bool, str | None], None]] = []
        self._retries: list[Callable[[], None]] = []

    @property
    def up(self) -> bool:
        return self._up

    @property
    def text(self) -> str | None:
        """What the windows say about the service now (None while it answers)."""
        return None if self._up else SERVICE_STOPPED

    def subscribe(self, listener: Callable[[bool, str | None], None]) -> None:
        self._listeners.append(listener)

    def on_back(self, retry: Callable[[], None]) -> None:
        """Call ``retry`` at each probe while the service answers (hand over what waits)."""
        self._retries.append(retry)

    def observe(self) -> bool:
        """Note whether the connection stands now; True if it does."""
        self._set(self.client.connected)
        return self.client.connected

    def down(self) -> None:
        self._set(False)

    def probe(self) -> bool:
        """Reach the service (reconnecting and re-sending what waits); True if it answers."""
        try:
            self.client.flush()
            up = self.client.connected
        except ServiceUnavailable:
            up = False
        except ServiceRefused as exc:  # a refused line stays queued; the run says why
            log.warning("the service refused a queued line: %s", exc)
            up = True
        self._set(up)
        if up:
            for retry in list(self._retries):
                retry()
        return up

    def _set(self, up: bool) -> None:
        with self._lock:
            changed = up != self._up
            self._up = up
        if changed:
            log.warning("the companion service %s", "is back" if up else "has stopped")
            for listener in list(self._listeners):
                listener(up, self.text)


class RemoteSignIn:
    """``ui.ports.SignIn`` over the service: every PIN is checked there."""

    def __init__(self, link: ServiceLink) -> None:
        self._link = link
        self._classes: list[ClassInfo] = []

    def _ask(self, op: str, **args: Any) -> dict[str, Any]:
        try:
            answer = self._link.client.request(op, **args)
        except ServiceUnavailable as exc:
            self._link.down()
            raise ServiceDown(NO_SIGN_IN) from exc
        self._link.observe()
        return answer

    def classes(self) -> list[ClassInfo]:
        """The classes (the last list the service gave while it does not answer)."""
        try:
            found = self._ask("classes")["classes"]
        except ServiceDown:
            return list(self._classes)
        self._classes = [ClassInfo(c["id"], c["title"], int(c["students"])) for c in found]
        return list(self._classes)

    def students(self, class_id: str) -> list[StudentInfo]:
        found = self._ask("students", **{"class": class_id})["students"]
        return [
            StudentInfo(s["id"], s["name"], bool(s["canSignIn"]), bool(s["hasPin"])) for s in found
        ]

    def guides(self) -> list[GuideInfo]:
        return [
            GuideInfo(g["id"], g["name"], bool(g["hasPin"])) for g in self._ask("guides")["guides"]
        ]

    def sign_in(self, user_id: str, pin: str) -> SignInResult:
        try:
            answer = self._link.client.sign_in(user_id, pin)
        except ServiceRefused as exc:
            return _refused(exc)
        except ServiceUnavailable as exc:
            self._link.down()
            raise ServiceDown(NO_SIGN_IN) from exc
        self._link.observe()
        return SignInResult("ok", _signed_in(answer["user"]))

    def sign_in_guide(self, guide_id: str, pin: str) -> SignInResult:
        try:
            answer = self._ask("guide_sign_in", guide=guide_id, guidePin=pin)
        except ServiceRefused as exc:
            return _refused(exc)
        return SignInResult("ok", _signed_in(answer["user"]))

    def set_pin(self, student_id: str, new_pin: str, guide_id: str, guide_pin: str) -> SignInResult:
        try:
            self._ask(
                "set_pin", guide=guide_id, guidePin=guide_pin, student=student_id, pin=new_pin
            )
        except ServiceRefused as exc:
            return _refused(exc)
        return SignInResult("ok")

    def clear_lockout(self, student_id: str, guide_id: str, guide_pin: str) -> SignInResult:
        try:
            self._ask("clear_lockout", guide=guide_id, guidePin=guide_pin, student=student_id)
        except ServiceRefused as exc:
            return _refused(exc)
        return SignInResult("ok")

    def verified_sign_in(self, user_id: str) -> SignInResult:
        return SignInResult(
            "unknown",
            message="Sign in with Timeback does not go through "
            "this computer's service yet: sign in with your PIN.",
        )

    def set_own_pin(self, user_id: str, new_pin: str) -> SignInResult:
        return SignInResult("unknown", message="A guide sets PINs on this computer.")

    def sign_out(self, student_id: str) -> None:
        """End the student's sign-in in the service (quietly, if it is away)."""
        try:
            self._link.client.sign_out(student_id)
        except (ServiceUnavailable, ServiceRefused) as exc:
            log.info("sign-out of %s not told to the service: %s", student_id, exc)


def _signed_in(user: dict[str, Any]) -> SignedIn:
    return SignedIn(
        str(user["id"]),
        str(user.get("name") or user["id"]),
        str(user.get("role") or "student"),
        None,
    )


def _refused(exc: ServiceRefused) -> SignInResult:
    status = exc.code if exc.code in PIN_CODES else "unknown"
    fields = exc.fields
    return SignInResult(
        status,  # type: ignore[arg-type]  # one of the PIN statuses, checked above
        remaining_attempts=int(fields.get("remainingAttempts") or 0),
        retry_after_s=int(fields.get("retryAfterS") or 0),
        message=exc.message,
    )


class RemoteLibrary:
    """``ui.ports.LessonLibrary`` over the service, on the lessons this app can open."""

    def __init__(
        self, link: ServiceLink, catalogue: Catalogue, daily_goal_xp: Decimal = Decimal(20)
    ) -> None:
        self._link = link
        self._catalogue = catalogue
        self.daily_goal_xp = daily_goal_xp

    def _ask(self, op: str, student_id: str) -> dict[str, Any] | None:
        try:
            answer = self._link.client.request(op, student=student_id)
        except (ServiceUnavailable, ServiceRefused) as exc:
            log.warning("the library could not be read from the service: %s", exc)
            self._link.observe()
            return None
        self._link.observe()
        return answer

    def lessons_for(self, student_id: str) -> list[CourseRow]:
        answer = self._ask("library", student_id)
        if answer is None:
            return []
        states = {
            lesson["id"]: lesson for course in answer["courses"] for lesson in course["lessons"]
        }
        out: list[CourseRow] = []
        for course in self._catalogue.courses:
            rows = []
            for lesson in self._catalogue.lessons_in_course(course.id):
                found = states.get(lesson.id)
                if found is None:  # the service does not offer it
                    continue
                best = found.get("bestAccuracy")
                rows.append(
                    LessonRow(
                        lesson,
                        found["state"],
                        found.get("unlockHint"),
                        None if best is None else float(best),
                        int(found.get("attempts") or 0),
                    )
                )
            if rows:
                out.append(CourseRow(course, tuple(rows)))
        return out

    def today(self, student_id: str) -> TodayStats:
        answer = self._ask("library", student_id)
        if answer is None:
            return TodayStats(0.0, Decimal(0), self.daily_goal_xp)
        today = answer["today"]
        self.daily_goal_xp = Decimal(today["goalXp"])
        return TodayStats(
            float(today["focusedMinutes"]),
            Decimal(today["xp"]),
            Decimal(today["goalXp"]),
            int(today["runs"]),
        )

    def take_notices(self, student_id: str) -> list[str]:
        answer = self._ask("take_notices", student_id)
        return [] if answer is None else [str(text) for text in answer["notices"]]
