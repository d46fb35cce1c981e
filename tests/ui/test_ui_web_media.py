"""Web lessons and media lessons in the session window, on the real WebEngine (offscreen).

The web lesson is served by a real loopback server on ``127.0.0.1``; a second server on
``localhost`` (another host name for the same computer) stands for every site the lesson
does not list: nothing may reach it, and navigating there leaves the page where it was.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineSettings

from companion.content import demo_lessons_path, load_bundle
from companion.store import runs
from tests.content.bundle_factory import lesson_folder, lesson_json
from tests.ui import session_harness

make_player = session_harness.make_player  # the fixture, for this module's tests
QUIZ = [
    {"item": "c1", "question": "Where do bees live?", "choices": ["Hive", "Sea"], "answer": 0},
    {"item": "c2", "question": "What do bees make?", "choices": ["Milk", "Honey"], "answer": 1},
]


class Site(BaseHTTPRequestHandler):
    """Serves its server's ``pages`` (path → HTML) and records every path asked for."""

    def do_GET(self) -> None:
        self.server.seen.append(self.path)  # type: ignore[attr-defined]
        body = self.server.pages.get(self.path.split("?")[0], "")  # type: ignore[attr-defined]
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        return


def serve(host: str, pages: dict[str, str]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, 0), Site)
    server.pages = pages  # type: ignore[attr-defined]
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def sites() -> Iterator[tuple[ThreadingHTTPServer, ThreadingHTTPServer]]:
    elsewhere = serve("127.0.0.1", {"/": "<p>elsewhere</p>", "/pixel": "x"})
    port = elsewhere.server_address[1]
    other = f"http://localhost:{port}"
    lesson = serve("127.0.0.1", {
        "/bees": f"""<!DOCTYPE html><title>Bees</title><p id="t">Bees live in hives.</p>
<img src="{other}/pixel"><a id="away" href="{other}/">away</a>
<script>fetch("{other}/pixel").catch(function () {{}});</script>""",
    })
    yield lesson, elsewhere
    for server in (lesson, elsewhere):
        server.shutdown()
        server.server_close()


def test_a_web_lesson_reaches_only_its_hosts_and_ends_with_its_quiz(
    make_player: Any, tmp_path: Path, sites: tuple[Any, Any]
) -> None:
    lesson_site, elsewhere = sites
    url = f"http://127.0.0.1:{lesson_site.server_address[1]}/bees"
    folder = lesson_folder(tmp_path, "w", lesson_json(
        "web-bees", 1, courseTitle="Web", web={"url": url, "hosts": ["127.0.0.1"]},
        checkQuiz=QUIZ), page=False)
    player = make_player([load_bundle(folder, tmp_path / "cache")])
    widget = player.widget
    run_id = player.open("web-bees")
    assert widget.content.currentWidget() is widget.web_view
    assert "stays on 127.0.0.1" in widget.lesson_bar.notice.text()
    page = widget.web_view.page()
    assert lesson_site.seen == ["/bees"]

    with player.qtbot.waitSignal(page.navigation_blocked, timeout=10_000) as blocked:
        page.runJavaScript("document.getElementById('away').click(); 1")
    assert blocked.args == ["localhost"]
    assert page.url().toString() == url  # the page stayed where it was
    assert "localhost, which is not part of this lesson" in widget.lesson_bar.notice.text()
    blocker = widget.web_lesson.interceptor
    assert any("localhost" in u for u in blocker.blocked)
    assert elsewhere.seen == []  # nothing reached the other host

    widget.lesson_bar.done_button.click()
    assert widget.content.currentWidget() is widget.quiz
    with player.qtbot.waitSignal(widget.finished, timeout=10_000) as done:
        for choice in (0, 1):
            widget.quiz.choose(choice)
            widget.quiz.answer_button.click()
    assert done.args[0].completed and done.args[0].questions == 2
    answers = [(line.item, line.correct) for line in runs.journal(player.db, run_id)
               if line.kind == "answer"]
    assert answers == [("c1", True), ("c2", True)]
    assert widget.web_lesson is None  # its profile is gone with the run


def test_a_media_lesson_reports_playing_from_the_apps_page(
    make_player: Any, tmp_path: Path
) -> None:
    folder = lesson_folder(tmp_path, "m", lesson_json(
        "media-bees", 1, courseTitle="Media", media="bees.ogg", checkQuiz=QUIZ), page=False)
    demo_audio = demo_lessons_path() / "demo-course-1" / "3-listening" / "bees.ogg"
    (folder / "bees.ogg").write_bytes(demo_audio.read_bytes())
    player = make_player([load_bundle(folder, tmp_path / "cache")])
    widget = player.widget
    run_id = player.open("media-bees")
    page = widget.view.page()
    # a script plays the media here, with no student's gesture
    page.profile().settings().setAttribute(
        QWebEngineSettings.WebAttribute.PlaybackRequiresUserGesture, False)
    with player.qtbot.waitSignal(page.loadFinished, timeout=20_000):
        page.triggerAction(QWebEnginePage.WebAction.Reload)
    assert widget.lesson_bar.isVisible() or not widget.isVisible()
    with player.qtbot.waitSignal(page.media_seen, timeout=20_000) as changed:
        widget.view.page().runJavaScript(
            "var m = document.getElementById('media'); m.play(); 1")
    assert changed.args == [True]
    with player.qtbot.waitSignal(page.media_seen, timeout=20_000) as changed:
        widget.view.page().runJavaScript("document.getElementById('media').pause(); 1")
    assert changed.args == [False]
    media = [line.playing for line in runs.journal(player.db, run_id) if line.kind == "media"]
    assert media == [True, False]
