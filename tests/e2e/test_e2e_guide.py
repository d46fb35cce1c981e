"""A guide on a real desktop: sign in as a guide, read the report, set a student's PIN, sync
now; then the student signs in with the new PIN. Real X input, checked from outside."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.atspi import Node
from tests.e2e.desktop import RunningApp, find, find_all
from tests.e2e.student import (
    answer,
    finish,
    open_lesson,
    sign_in_by_keyboard,
    sign_in_by_mouse,
    typed,
)

pytestmark = pytest.mark.slow
Launch = Callable[..., RunningApp]


def field(screen: Node, name: str) -> Node | None:
    return next((n for n in screen.walk() if n.name == name and n.role in
                 ("password text", "text")), None)


def test_a_guide_reads_the_report_sets_a_pin_and_syncs(launch: Launch) -> None:
    app = launch()
    # a lesson first, so the report has something to say
    sign_in_by_keyboard(app)
    app.wait_text("Hi, Ava Johnson!")
    open_lesson(app, "Quick Maths Drill")
    answer(app, typed("13", "9", "42", "8", "100"))
    finish(app)
    app.key("Return")  # Back to lessons
    app.wait_text("Press Start lesson")  # the library, filled in: its layout has settled
    app.click_text("Sign out", role="push button")

    # the guide signs in: the PIN screen says it is a guide's
    app.wait_text("Choose your class")
    app.click_text("Sign in as guide", role="push button")
    app.wait_text("Which guide are you?")
    app.key("Return")
    app.wait_text("Guide sign-in:")
    app.type("9999")
    app.key("Return")
    app.wait_text("Guide pages")
    report = app.wait_for(lambda s: find(s, "Ava Johnson"), "Ava in the report")
    assert report is not None

    # a PIN for a student who has none yet, typed twice and checked with the guide's own
    app.click_text("PINs and accounts")
    app.wait_for(lambda s: field(s, "New PIN for the student"), "the PIN page")
    combos = app.wait_for(lambda s: len(find_all(s, "combo box")) >= 2 and find_all(
        s, "combo box"), "the class and student choices")
    app.click(combos[1])  # the student: its popup opens; typing picks by name
    app.type("Minh")
    app.key("Return")
    app.wait_for(lambda s: any(n.name == "Minh" for n in find_all(s, "combo box")),
                 "Minh chosen")
    for name, text in (("New PIN for the student", "2468"), ("The new PIN again", "2468"),
                       ("Your guide PIN", "9999")):
        target = app.wait_for(lambda s, n=name: field(s, n), name)
        app.click(target)
        app.type(text)
    app.click_text("Set PIN", role="push button")
    app.wait_text("New PIN set for")

    # sync now says what it did
    app.click_text("Sync now", role="push button")
    app.wait_for(lambda s: find(s, "Up to date") or find(s, "sent"), "the sync result")
    app.wait_until(lambda: app.query(
        "SELECT count(*) FROM outbox WHERE kind = 'caliper' AND state != 'delivered'")[0][0]
        == 0, "every Caliper event delivered", timeout=60)
    # what is not delivered is held with a reason a person can read, never silently pending
    waiting = app.query("SELECT state, hold_reason, last_error FROM outbox "
                        "WHERE state != 'delivered'")
    assert all(state == "held" and (reason or error) for state, reason, error in waiting), \
        waiting

    # the student signs in with the new PIN
    app.click_text("Sign out", role="push button")
    sign_in_by_mouse(app, "Math Lab A", "Minh", pin="2468")
    app.wait_text("Hi, Minh")
