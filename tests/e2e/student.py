"""What a student does, as real input: sign in, open a lesson, answer, finish.

The answers are what a student who knows them would type or pick; the demo lessons'
questions are listed here the way a person reads them off the page. The page's own
accessibility tree (Chromium's, published through Qt) tells where the keyboard is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from tests.e2e.atspi import Node
from tests.e2e.desktop import RunningApp, find

ANSWER_PACE_S = 1.2


@dataclass(frozen=True)
class Question:
    """A typed answer (``text``) or a choice (``choice``: 0 for the first option)."""

    text: str | None = None
    choice: int | None = None


def typed(*answers: str) -> list[Question]:
    return [Question(text=a) for a in answers]


def chosen(*letters: str) -> list[Question]:
    return [Question(choice="abc".index(letter)) for letter in letters]


# title -> the right answers, in page order
DEMO = {
    "Quick Maths Drill": typed("13", "9", "42", "8", "100"),
    "The Lighthouse Cat": chosen("b", "c", "a"),
    "Listen: How Bees Make Honey": chosen("a", "b", "c"),
    "Mastery Check": [*typed("63", "27"), *chosen("b"), *typed("24", "9")],
}


def class_ready(screen: Node) -> bool:
    """The class list shows with a class highlighted (what Enter would open)."""
    return any(n.role == "list item" and n.focused for n in screen.walk())


def sign_in_by_keyboard(app: RunningApp, pin: str = "1234", name_tabs: int = 0) -> None:
    """Enter on the first class, the ``name_tabs``-th name after Tab presses, then the PIN."""
    app.wait_text("Choose your class")
    app.activate()
    app.wait_for(class_ready, "the class list to take the keyboard")
    app.key("Return")
    app.wait_text("Back to classes")
    for _ in range(name_tabs):
        app.key("Tab")
    app.key("Return")
    app.wait_text("Your PIN")
    app.type(pin)
    app.key("Return")


def sign_in_by_mouse(app: RunningApp, class_title: str, name: str, pin: str = "1234") -> None:
    """Click the class, the name tile, the PIN field; type the PIN; click Sign in."""
    app.wait_text("Choose your class")
    app.activate()
    app.click_text(class_title, role="list item")
    app.wait_text("Back to classes")
    app.click_text(name, role="push button")
    field = app.wait_for(lambda s: find(s, "Your PIN", role="password text")
                         or find(s, "Your PIN", role="text"), "the PIN field")
    app.click(field)
    app.type(pin)
    app.click_text("Sign in", role="push button")


def open_lesson(app: RunningApp, title: str) -> None:
    """Start the highlighted lesson (it must be ``title``) with Enter on Start lesson."""
    app.wait_for(lambda s: find(s, "Start lesson", role="push button"), "the lesson library")
    app.click_text(title)
    app.click_text("Start lesson", role="push button")
    app.wait_for(lambda s: find(s, title, role="label") and find(s, "End lesson"),
                 f"the session window with {title!r}")


def tab_to(app: RunningApp, wanted: Callable[[Node], bool], what: str, most: int = 25) -> Node:
    """Press Tab until the keyboard is on a node ``wanted`` accepts (read from outside);
    no Tab at all when the page already put the keyboard there."""
    for tabs in range(most):
        if tabs:
            app.key("Tab")
        focused = [n for n in app.screen().walk() if n.focused and n.enabled]
        if focused and wanted(focused[-1]):
            return focused[-1]
    raise AssertionError(f"Tab never reached {what}; the screen said:\n{app.screen().words()}")


def answer(app: RunningApp, questions: list[Question]) -> None:
    """Answer in the page with the keyboard: Tab to the question's field or first option,
    type or pick (Space, then Down), and Enter; one answer lands in the journal each."""
    for number, question in enumerate(questions):
        if number:
            # a student takes a moment per question; the app refuses answers sent faster
            # than the lesson's minimum interval (1 s by default) as not a person's
            threading.Event().wait(ANSWER_PACE_S)
        before = answers_journaled(app)
        if question.text is not None:
            tab_to(app, lambda n: n.role == "text" and not n.text, "an empty answer field")
            app.type(question.text)
        else:
            assert question.choice is not None
            tab_to(app, lambda n: n.role == "radio button", "the first option")
            app.key("space")
            for _ in range(question.choice):
                app.key("Down")
        app.key("Return")
        app.wait_until(lambda b=before: answers_journaled(app) == b + 1,
                          "the answer in the journal")


def answers_journaled(app: RunningApp) -> int:
    """How many answers the app has written to the open run's journal."""
    rows = app.query("SELECT count(*) FROM journal_lines j JOIN runs r ON r.run_id = j.run_id"
                     " WHERE r.state = 'open' AND j.kind = 'answer'")
    return int(rows[0][0])


def finish(app: RunningApp) -> Node:
    """Tab to "Finish lesson" and press it; the summary screen."""
    tab_to(app, lambda n: n.name == "Finish lesson", "Finish lesson")
    app.key("Return")
    app.wait_text("Back to lessons")
    return app.screen()
