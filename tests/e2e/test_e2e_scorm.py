"""A SCORM 1.2 package on a real desktop: school IT adds it with ``companion content
import``, a student studies it by keyboard in the session window, and what the package
reported (its interactions, as answers scored by the content) is in the journal; the run
ends when the package finishes, and its events reach the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.content.scorm_factory import (
    item_12,
    manifest_12,
    resource_12,
    write_package,
    zip_package,
)
from tests.e2e.desktop import RunningApp, find
from tests.e2e.student import sign_in_by_keyboard, tab_to
from tests.ui.scorm_pages import FIND_API

pytestmark = pytest.mark.slow
Launch = Callable[..., RunningApp]

# Two typed questions; Enter on each answers it (an interaction with its result), and the
# last one finishes the package (passed when both are right).
SCO = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>Fractions check</title>
</head><body><h1>Fractions check</h1>
<form id="q0"><label for="a0">1/2 + 1/4 = ? (as a fraction)</label>
<input id="a0" name="a" autocomplete="off"><button>Check</button></form>
<form id="q1"><label for="a1">3/4 - 1/4 = ?</label>
<input id="a1" name="a" autocomplete="off"><button>Check</button></form>
<p id="said" role="status"></p>
<script>
{FIND_API}
var api = findApi("API");
document.getElementById("said").textContent = api ? "Ready" : "No run-time API";
api.LMSInitialize("");
var right = ["3/4", "1/2"], got = 0, done = 0;
[0, 1].forEach(function (n) {{
  document.getElementById("q" + n).addEventListener("submit", function (event) {{
    event.preventDefault();
    var ok = document.getElementById("a" + n).value.trim() === right[n];
    got += ok ? 1 : 0; done += 1;
    api.LMSSetValue("cmi.interactions." + n + ".id", "frac-" + n);
    api.LMSSetValue("cmi.interactions." + n + ".type", "fill-in");
    api.LMSSetValue("cmi.interactions." + n + ".result", ok ? "correct" : "wrong");
    api.LMSCommit("");
    document.getElementById("said").textContent = ok ? "Right" : "Not quite";
    if (n === 0) {{ document.getElementById("a1").focus(); }}
    if (done === 2) {{
      api.LMSSetValue("cmi.core.score.max", "100");
      api.LMSSetValue("cmi.core.score.raw", String(got * 50));
      api.LMSSetValue("cmi.core.lesson_status", got === 2 ? "passed" : "failed");
      api.LMSFinish("");
    }}
  }});
}});
</script></body></html>"""


def import_package(home: Path, package: Path) -> str:
    env = dict(os.environ, COMPANION_DATA_DIR=str(home / "data"),
               COMPANION_CONFIG_DIR=str(home / "config"))
    done = subprocess.run([sys.executable, "-m", "companion.cli", "content", "import",
                           str(package), "--subject", "Math"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_scorm_package_added_by_it_and_studied_by_a_student(
        launch: Launch, tmp_path: Path) -> None:
    package = write_package(tmp_path / "fractions", manifest_12(
        item_12("sco-1", "res-1", "Fractions check", "50"), resource_12("res-1", "index.html")),
        {"index.html": SCO})
    home = tmp_path / "app"
    import_package(home, package)
    app = launch(home)
    sign_in_by_keyboard(app)
    app.wait_text("Start lesson")
    app.key("End")  # the added package is the last course in the list
    app.wait_text("'Fractions check' is ready")
    app.key("Return")
    app.wait_for(lambda s: find(s, "Fractions check", role="label") and find(s, "End lesson"),
                 "the package in the session window")

    study(app)
    app.type("1/2")
    app.key("Return")
    app.wait_text("Back to lessons", timeout=60)  # LMSFinish ended the run: the summary

    [(lesson_id,)] = app.query("SELECT lesson_id FROM runs")  # the package's one lesson
    lines = [json.loads(row[0]) for row in app.query(
        "SELECT data FROM journal_lines j JOIN runs r ON r.run_id = j.run_id "
        "WHERE r.lesson_id = ? ORDER BY seq", (lesson_id,))]
    got = [(line["item"], line["correct"], line.get("scoredBy")) for line in lines
           if line["kind"] == "answer"]
    assert got == [("frac-0", True, "content"), ("frac-1", True, "content")]
    assert any(line["kind"] == "score" for line in lines)
    assert app.query("SELECT completed FROM runs WHERE lesson_id = ?", (lesson_id,)) == [(1,)]
    app.wait_until(lambda: app.query(
        "SELECT count(*) FROM outbox WHERE kind = 'caliper' AND state != 'delivered'")[0][0]
        == 0, "the package's events delivered", timeout=60)
    done = [e for e in app.sandbox_events("ava.johnson@demo.school")
            if e["type"] == "ActivityEvent"]
    assert len(done) == 1 and done[0]["extensions"] == {"appScored": 0, "contentScored": 2}


def study(app: RunningApp) -> None:
    """Wait until the package has found the run-time API (it says "Ready"), answer the
    first question, and wait until the package and then the journal have it."""
    app.wait_text("Ready")
    tab_to(app, lambda n: n.role == "text" and not n.text, "the first answer field")
    app.type("3/4")
    app.key("Return")
    app.wait_text("Right")  # the package checked it
    app.wait_until(lambda: answers(app) == 1, "the first interaction in the journal")


def answers(app: RunningApp) -> int:
    rows = app.query("SELECT count(*) FROM journal_lines WHERE kind = 'answer'")
    return int(rows[0][0])


def test_a_guide_adds_a_package_in_the_guide_view_and_a_student_studies_it(
        launch: Launch, tmp_path: Path) -> None:
    folder = write_package(tmp_path / "fractions", manifest_12(
        item_12("sco-1", "res-1", "Fractions check", "50"), resource_12("res-1", "index.html")),
        {"index.html": SCO})
    package = zip_package(folder, tmp_path / "fractions.zip")
    app = launch()
    app.wait_text("Choose your class")
    app.activate()
    app.click_text("Sign in as guide", role="push button")
    app.wait_text("Which guide are you?")
    app.key("Return")
    app.wait_text("Guide sign-in:")
    app.type("9999")
    app.key("Return")
    app.click_text("Add lessons", role="push button")
    app.click_text("Choose a package file", role="push button")
    app.wait_text("Choose a lesson package")  # the file dialog: type the path, Enter
    app.type(str(package))
    app.key("Return")
    app.wait_text("Added 1 lesson", timeout=60)
    app.key("Escape")  # close the dialog
    app.click_text("Sign out", role="push button")

    sign_in_by_keyboard(app)
    app.wait_text("Start lesson")
    app.key("End")
    app.wait_text("'Fractions check' is ready")
    app.key("Return")
    app.wait_for(lambda s: find(s, "Fractions check", role="label") and find(s, "End lesson"),
                 "the package in the session window")
    study(app)
    app.type("1/4")  # wrong
    app.key("Return")
    summary = app.wait_text("Back to lessons", timeout=60)
    assert summary is not None
    got = [json.loads(row[0]) for row in app.query(
        "SELECT data FROM journal_lines WHERE kind = 'answer' ORDER BY seq")]
    assert [(a["item"], a["correct"]) for a in got] == [("frac-0", True), ("frac-1", False)]
