"""SCORM packages played on the real Qt WebEngine (offscreen) in the session window.

Each package here is written for the test: its SCO finds the run-time API in its parent
chain, as SCORM content does, and plays a scripted scenario. What the package set arrives in
the journal (answers scored by the content, a score line), in the run (completion, the
package's session_time) and in the student's saved place, which the next attempt gets back.
"""

from __future__ import annotations

import shutil
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from companion.content.importer import import_content
from companion.content.package import load_package
from companion.store import content_state, runs
from companion.store.db import Database
from companion.ui.session_window import NOTHING_CHECKED
from tests.content.scorm_factory import (
    item_12,
    item_2004,
    manifest_12,
    manifest_2004,
    resource_12,
    resource_2004,
    write_package,
)
from tests.ui import session_harness
from tests.ui.conftest import OFFSCREEN_NOISE
from tests.ui.scorm_pages import pipwerks_page, sco_page, scorm_12_steps, scorm_2004_steps
from tests.ui.session_harness import STUDENT

make_player = session_harness.make_player  # the fixture, for this module's tests
PIPWERKS = Path(__file__).resolve().parents[1] / "data" / "pipwerks" / "pipwerks.js"


class _Recorder(BaseHTTPRequestHandler):
    """A loopback server that records every request reaching it."""

    paths: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        self.send_response(200)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()
        self.wfile.write(b"leaked")

    def log_message(self, format: str, *args: Any) -> None:
        return


def package_12(folder: Path, steps: str, mastery: str | None = "60") -> Path:
    return write_package(
        folder,
        manifest_12(item_12("sco1", "r1", "Fractions quiz", mastery, launch_data="level=2"),
                    resource_12("r1", "sco/index.html")),
        {"sco/index.html": sco_page("API", steps)},
    )


def answers(db: Database, run_id: str) -> list[tuple[str | None, bool | None]]:
    return [(line.item, line.correct) for line in runs.journal(db, run_id)
            if line.kind == "answer"]


def test_scorm_12_interactions_score_completion_and_resume(
    make_player: Any, tmp_path: Path
) -> None:
    player = make_player(package_12(tmp_path / "pkg", scorm_12_steps()))
    widget = player.widget
    with player.qtbot.waitSignal(widget.finished, timeout=30_000) as done:
        run_id = player.open("com-example-fractions")
    summary = done.args[0]
    assert player.frame_data("found") == "yes"
    assert player.frame_data("init") == "true"
    assert player.frame_data("entry") == "ab-initio"
    assert player.frame_data("mastery") == "60"
    assert player.frame_data("launch") == "level=2"
    assert player.frame_data("bad") == "false"  # scorm-again refused it; nothing recorded
    assert answers(player.db, run_id) == [("q1", True), ("q2", False), ("q2", True)]
    scores = [line.scaled for line in runs.journal(player.db, run_id) if line.kind == "score"]
    assert scores == [Decimal("0.5")]
    assert summary.completed
    assert (summary.questions, summary.correct) == (2, 1)  # q2's first answer counts
    assert content_state.session_time_of(player.db, run_id) == "00:12:30"
    assert content_state.load_resume(player.db, STUDENT, "com-example-fractions") == \
        content_state.Resume("slide=7", "slide-7")

    # the next attempt starts where this one stopped
    player.open("com-example-fractions")
    player.wait_frame("done", "yes")
    assert player.frame_data("entry") == "resume"
    assert player.frame_data("resumed") == "slide=7"
    assert player.frame_data("where") == "slide-7"


def test_scorm_2004_course_finds_api_1484_11(make_player: Any, tmp_path: Path) -> None:
    items = (item_2004("quiz", "r2", "Quiz", "0.8", threshold="0.6")
             + item_2004("more", "r1", "More"))
    package = write_package(
        tmp_path / "pkg",
        manifest_2004(items, resource_2004("r1", "intro.html", "asset")
                      + resource_2004("r2", "quiz/index.html")),
        {"intro.html": "<p>Read this.</p>",
         "quiz/index.html": sco_page("API_1484_11", scorm_2004_steps())},
    )
    player = make_player(package)
    assert list(player.bundles) == ["org-example-cells-quiz", "org-example-cells-more"]
    with player.qtbot.waitSignal(player.widget.finished, timeout=30_000) as done:
        run_id = player.open("org-example-cells-quiz")
    assert player.frame_data("passing") == "0.8"
    assert player.frame_data("threshold") == "0.6"
    assert player.frame_data("bad") == "false"
    assert player.frame_data("finish") == "true"
    assert player.frame_data("again") == "false"  # Terminate twice: the second is refused
    assert answers(player.db, run_id) == [("urn:q:1", True), ("urn:q:2", False)]
    scores = [line.scaled for line in runs.journal(player.db, run_id) if line.kind == "score"]
    assert scores == [Decimal("0.75")]
    assert done.args[0].completed
    assert content_state.session_time_of(player.db, run_id) == "PT5M"
    run = player.widget.scorm.run
    assert run is not None and (run.completion, run.success) == ("completed", "passed")


def test_a_package_that_never_initializes_records_nothing(
    make_player: Any, tmp_path: Path
) -> None:
    steps = """
  note("set", api.LMSSetValue("cmi.interactions.0.id", "q1"));
  note("status", api.LMSSetValue("cmi.core.lesson_status", "passed"));
"""
    player = make_player(package_12(tmp_path / "pkg", steps))
    run_id = player.open("com-example-fractions")
    player.wait_frame("done", "yes")
    assert player.frame_data("set") == "false"
    assert answers(player.db, run_id) == []
    run = player.widget.scorm.run
    assert run is not None and not run.initialized and run.calls == 2
    assert run.completion is None
    assert player.widget.running  # nothing finished the run


def test_not_finished_then_end_lesson_completes_when_reported(
    make_player: Any, tmp_path: Path
) -> None:
    player = make_player(package_12(tmp_path / "pkg", scorm_12_steps(finish=False,
                                                                     status="completed")))
    player.open("com-example-fractions")
    player.wait_frame("commit", "true")
    player.qtbot.waitUntil(lambda: player.widget.scorm.reported_completion, timeout=10_000)
    with player.qtbot.waitSignal(player.widget.finished, timeout=10_000) as done:
        player.widget.quit_button.click()
    assert done.args[0].completed


def test_finish_without_completion_ends_the_run_not_completed(
    make_player: Any, tmp_path: Path
) -> None:
    steps = """
  api.LMSInitialize("");
  api.LMSSetValue("cmi.core.lesson_status", "incomplete");
  note("finish", api.LMSFinish(""));
  note("again", api.LMSFinish(""));
"""
    player = make_player(package_12(tmp_path / "pkg", steps))
    ended: list[Any] = []
    player.widget.finished.connect(ended.append)
    player.open("com-example-fractions")
    player.wait_frame("done", "yes")
    player.qtbot.waitUntil(lambda: player.widget.scorm.run.calls == 4, timeout=10_000)
    assert [summary.completed for summary in ended] == [False]  # the second Finish: nothing


def test_a_package_using_the_pipwerks_wrapper_finds_the_api(
    make_player: Any, tmp_path: Path
) -> None:
    folder = write_package(
        tmp_path / "pkg",
        manifest_12(item_12("sco1", "r1", "Wrapped"), resource_12("r1", "index.html")),
        {"index.html": pipwerks_page(PIPWERKS)},
    )
    shutil.copyfile(PIPWERKS, folder / PIPWERKS.name)
    player = make_player(folder)
    with player.qtbot.waitSignal(player.widget.finished, timeout=30_000) as done:
        run_id = player.open("com-example-fractions")
    assert player.frame_data("found") == "yes"
    assert answers(player.db, run_id) == [("p1", True)]
    assert done.args[0].completed


CROSS_ORIGIN = r"^Access to fetch at 'lesson://other/secret\.html' .* CORS policy"


@pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE, CROSS_ORIGIN)
def test_the_package_reaches_only_its_own_files(make_player: Any, tmp_path: Path) -> None:
    other = write_package(tmp_path / "other", manifest_12(
        item_12("o", "r1", "Other"), resource_12("r1", "secret.html"), identifier="other"),
        {"secret.html": "<p>other package</p>"})
    steps = """
  function tryFetch(url, key) {
    fetch(url).then(function (r) { return r.text(); })
      .then(function (t) { note(key, "read:" + t.length); })
      .catch(function () { note(key, "refused"); });
  }
  tryFetch("own.txt", "own");
  tryFetch("lesson://other/secret.html", "other");
  var xhr = new XMLHttpRequest();
  xhr.onload = function () { note("outside", "read:" + xhr.responseText.length); };
  xhr.onerror = function () { note("outside", "refused"); };
  xhr.open("GET", "/../../../../etc/hostname");
  xhr.send();
  tryFetch(NETWORK_URL, "network");
"""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/leak?data=1"
    folder = package_12(tmp_path / "pkg", steps.replace("NETWORK_URL", repr(url)))
    (folder / "sco" / "own.txt").write_text("mine")
    player = make_player(folder)
    player.bundles["other"] = load_package(other)[0]
    try:
        player.open("com-example-fractions")
        player.qtbot.waitUntil(lambda: player.frame_data("network") is not None,
                               timeout=20_000)
    finally:
        server.shutdown()
        server.server_close()
    assert _Recorder.paths == []  # the request never left the computer
    for key in ("own", "other", "outside", "network"):
        player.qtbot.waitUntil(lambda k=key: player.frame_data(k) is not None, timeout=20_000)
    assert player.frame_data("own") == "read:4"
    assert player.frame_data("other") == "refused"
    assert player.frame_data("outside") == "refused"
    assert player.frame_data("network") == "refused"


def test_media_is_served_in_ranges_so_video_seeks(make_player: Any, tmp_path: Path) -> None:
    steps = """
  var xhr = new XMLHttpRequest();
  xhr.onload = function () { note("range", xhr.status + ":" + xhr.responseText); };
  xhr.onerror = function () { note("range", "refused"); };
  xhr.open("GET", "clip.bin");
  xhr.setRequestHeader("Range", "bytes=1000000-1000009");
  xhr.send();
"""
    folder = package_12(tmp_path / "pkg", steps)
    (folder / "sco" / "clip.bin").write_bytes(b"".join(
        f"{i:09d}\n".encode() for i in range(200_000)))  # 2 MB, each line names its offset
    player = make_player(folder)
    player.open("com-example-fractions")
    player.qtbot.waitUntil(lambda: player.frame_data("range") is not None, timeout=20_000)
    assert player.frame_data("range") == "206:000100000\n"


def test_a_package_without_interactions_ends_with_its_check_quiz(
    make_player: Any, tmp_path: Path
) -> None:
    steps = """
  api.LMSInitialize("");
  api.LMSSetValue("cmi.core.lesson_status", "completed");
  api.LMSFinish("");
"""
    source = package_12(tmp_path / "src", steps)
    quiz = [{"item": "k1", "question": "2 + 2?", "choices": ["4", "5"], "answer": 0},
            {"item": "k2", "question": "3 + 3?", "choices": ["5", "6"], "answer": 1}]
    imported = import_content(source, tmp_path / "library", check_quiz=quiz)
    player = make_player(imported.folder)
    widget = player.widget
    run_id = player.open("com-example-fractions")
    player.qtbot.waitUntil(lambda: widget.content.currentWidget() is widget.quiz,
                           timeout=20_000)
    assert widget.running
    with player.qtbot.waitSignal(widget.finished, timeout=10_000) as done:
        for choice in (0, 1):
            widget.quiz.choose(choice)
            widget.quiz.answer_button.click()
    assert done.args[0].completed and done.args[0].questions == 2
    assert answers(player.db, run_id) == [("k1", True), ("k2", True)]


def test_a_package_without_interactions_or_quiz_says_nothing_checked(
    make_player: Any, tmp_path: Path
) -> None:
    steps = """
  api.LMSInitialize("");
  api.LMSSetValue("cmi.core.lesson_status", "completed");
  api.LMSFinish("");
"""
    player = make_player(package_12(tmp_path / "pkg", steps))
    with player.qtbot.waitSignal(player.widget.finished, timeout=30_000) as done:
        player.open("com-example-fractions")
    assert done.args[0].completed and done.args[0].questions == 0
    assert done.args[0].reason == NOTHING_CHECKED


def test_leaving_mid_lesson_keeps_the_place_reached(make_player: Any, tmp_path: Path) -> None:
    steps = """
  api.LMSInitialize("");
  api.LMSSetValue("cmi.suspend_data", "slide=4");
  note("set", "yes");
"""
    player = make_player(package_12(tmp_path / "pkg", steps))
    player.open("com-example-fractions")
    player.wait_frame("set", "yes")
    player.qtbot.waitUntil(lambda: player.widget.scorm.run.suspend_data == "slide=4",
                           timeout=10_000)
    with player.qtbot.waitSignal(player.widget.finished, timeout=10_000) as done:
        player.widget.quit_button.click()
    assert not done.args[0].completed
    assert content_state.load_resume(player.db, STUDENT, "com-example-fractions") == \
        content_state.Resume("slide=4", "")
