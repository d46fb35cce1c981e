"""`companion preview PATH --seconds N`, run as a guide runs it (its own process, offscreen)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from companion.content import demo_lessons_path
from tests.content.scorm_factory import (
    item_12,
    item_2004,
    manifest_12,
    manifest_2004,
    resource_12,
    resource_2004,
    write_package,
    zip_package,
)
from tests.ui.scorm_pages import sco_page, scorm_12_steps, scorm_2004_steps

pytestmark = pytest.mark.slow


def preview(path: Path, seconds: str = "1") -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "companion.cli", "preview", str(path),
                           "--seconds", seconds], capture_output=True, text=True, env=env,
                          check=False, timeout=90)
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


def test_preview_of_a_scorm_12_zip(tmp_path: Path) -> None:
    folder = write_package(tmp_path / "pkg", manifest_12(
        item_12("sco1", "r1", "Quiz", "80"), resource_12("r1", "index.html")),
        {"index.html": sco_page("API", scorm_12_steps())})
    status, report = preview(zip_package(folder, tmp_path / "pkg.zip"), "10")
    assert status == 0
    assert report == {
        "kind": "scorm", "initialized": True, "api": "1.2", "calls": 24,
        "completion": "completed", "success": "passed", "score": 0.5,
        "answers": [{"item": "q1", "correct": True}, {"item": "q2", "correct": False},
                    {"item": "q2", "correct": True}],
        "refused": [],
    }


def test_preview_of_a_2004_course_opens_its_first_lesson(tmp_path: Path) -> None:
    items = item_2004("quiz", "r1", "Quiz") + item_2004("never", "r2", "Never opened")
    folder = write_package(tmp_path / "pkg", manifest_2004(
        items, resource_2004("r1", "q.html") + resource_2004("r2", "n.html")),
        {"q.html": sco_page("API_1484_11", scorm_2004_steps()),
         "n.html": sco_page("API_1484_11", 'api.Initialize("");')})
    status, report = preview(folder, "10")
    assert status == 0
    assert (report["api"], report["completion"], report["success"], report["score"]) == (
        "2004", "completed", "passed", 0.75)
    assert report["answers"] == [{"item": "urn:q:1", "correct": True},
                                 {"item": "urn:q:2", "correct": False}]


def test_preview_of_a_package_that_never_initializes(tmp_path: Path) -> None:
    steps = """
  api.LMSGetValue("cmi.core.student_id");
  fetch("https://example.com/track").catch(function () {});
"""
    folder = write_package(tmp_path / "pkg", manifest_12(
        item_12("sco1", "r1", "Quiz"), resource_12("r1", "index.html")),
        {"index.html": sco_page("API", steps)})
    status, report = preview(folder)
    assert status == 0
    assert (report["initialized"], report["calls"], report["answers"]) == (False, 1, [])
    assert report["refused"] == ["https://example.com/track"]


def test_preview_of_a_bundle() -> None:
    status, report = preview(demo_lessons_path() / "demo-course-1" / "1-math-drill")
    assert status == 0
    assert (report["kind"], report["initialized"], report["api"]) == ("bundle", True, None)


def test_preview_of_a_broken_package_exits_2(tmp_path: Path) -> None:
    folder = write_package(tmp_path / "pkg", manifest_12(
        item_12("sco1", "r1", "Quiz"), resource_12("r1", "missing.html")))
    status, report = preview(folder)
    assert status == 2
    assert report["kind"] is None
    assert report["refused"] == [
        f"{folder}: item 'sco1' launches 'missing.html', which is not in the package"]


def test_preview_of_a_media_lesson(tmp_path: Path) -> None:
    from tests.content.bundle_factory import lesson_folder, lesson_json

    folder = lesson_folder(tmp_path, "m", lesson_json("m-1", 1, courseTitle="M",
                                                      media="bees.ogg"), page=False)
    audio = demo_lessons_path() / "demo-course-1" / "3-listening" / "bees.ogg"
    (folder / "bees.ogg").write_bytes(audio.read_bytes())
    status, report = preview(folder)
    assert status == 0
    assert (report["kind"], report["refused"]) == ("media", [])


def test_preview_of_a_web_lesson_reports_what_it_refused(tmp_path: Path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from tests.content.bundle_factory import lesson_folder, lesson_json

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b'<p>hi</p><img src="http://localhost:9/x.png">')

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        folder = lesson_folder(tmp_path, "w", lesson_json(
            "w-1", 1, courseTitle="W", web={"url": url, "hosts": ["127.0.0.1"]}), page=False)
        status, report = preview(folder)
    finally:
        server.shutdown()
        server.server_close()
    assert status == 0
    assert (report["kind"], report["refused"]) == ("web", ["http://localhost:9/x.png"])
