"""A guide on a real desktop sees a student's result from another computer, marked: the
result is written to the app's own (embedded) sandbox gradebook as another computer would,
and the guide's report reads it when it opens. Real X input, checked from outside."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from companion.core import results
from companion.core.caliper import format_timestamp
from tests.e2e.desktop import RunningApp, find
from tests.results.helpers import APP_ID, PERFECT, STUDENT, client_for

pytestmark = pytest.mark.slow
Launch = Callable[..., RunningApp]
DRILL = "demo-math-drill"
OTHER_COMPUTER = "Room 12 / PC 3"


def write_from_another_computer(app: RunningApp) -> None:
    """The drill's line item (as `content push` makes it) and another computer's result."""
    with client_for(app.sandbox_url()) as client:
        client.put_line_item({"sourcedId": results.line_item_id(APP_ID, DRILL),
                              "status": "active", "title": "Quick Maths Drill",
                              "resultValueMin": 0.0, "resultValueMax": 100.0})
        when = format_timestamp(datetime.now(UTC), 0)
        info = results.RunResult(APP_ID, STUDENT, DRILL, "run-on-pc-3", when)
        payload = results.result_payload(info, PERFECT)
        payload["metadata"] = {**payload["metadata"], "xp": 12.5, "computer": OTHER_COMPUTER}
        client.put_result(payload)


def test_the_guide_report_shows_another_computers_result_marked(launch: Launch) -> None:
    app = launch()
    app.wait_text("Choose your class")

    def ready() -> bool:  # the database (made by the app's deferred start-up) says so
        try:
            return bool(app.query(
                "SELECT (SELECT count(*) FROM store_meta WHERE key = "
                "'app.embedded_sandbox_url') * (SELECT count(*) FROM lessons WHERE id = ?)",
                (DRILL,))[0][0])
        except sqlite3.OperationalError:  # not made (or not migrated) yet
            return False

    app.wait_until(ready, "the sandbox and the lessons", timeout=60)
    write_from_another_computer(app)

    app.click_text("Sign in as guide", role="push button")
    app.wait_text("Which guide are you?")
    app.key("Return")
    app.wait_text("Guide sign-in:")
    app.type("9999")
    app.key("Return")
    app.wait_text("Guide pages")
    app.wait_text("Including results from other computers", timeout=60)
    app.click(app.wait_for(lambda s: find(s, "Ava Johnson", role="cell"), "Ava's row"))
    app.wait_text("Ava Johnson: 1 lesson, 1 attempt")
    app.wait_for(lambda s: find(s, "1 (1 elsewhere)", role="cell"),
                 "the drill's attempts in Ava's lessons, marked")
    app.click(app.wait_for(lambda s: find(s, "Quick Maths Drill", role="cell"),
                           "the drill in Ava's lessons"))
    app.wait_text(f"elsewhere ({OTHER_COMPUTER})")
    assert app.query("SELECT source, xp FROM remote_results WHERE student_id = ?",
                     (STUDENT,)) == [(OTHER_COMPUTER, "12.5")]
