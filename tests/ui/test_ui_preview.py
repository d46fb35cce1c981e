"""`companion preview`: a bundle in the session window with no student, recording nothing;
what the page reported and what the app refused, the last line one JSON object."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from companion.cli import main
from tests.ui.hostile import HOSTILE, SECRET, Listener, write_bundles

KEYED_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>k</title></head>
<body><script src="lesson.js"></script></body></html>"""
KEYED_SCRIPT = """
var c = window.companion;
c.answer("a", " 12 ").then(function (v) {
  document.title = "a:" + JSON.stringify(v);
  return c.answer("b", "y");
}).then(function () { return c.answer("b", "x"); })
  .then(function () { return c.answer("not-in-key", "1"); })
  .then(function () { return c.answer("c", true); })
  .then(function () { c.complete(); });
"""


def keyed_bundle(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "lesson.json").write_text(json.dumps({
        "id": "preview-keyed", "title": "Keyed", "course": "pv", "courseTitle": "Preview",
        "subject": "Math", "grade": "05", "order": 1, "minAnswerInterval": 0,
        "answerKey": {"a": ["12"], "b": ["x"], "c": ["z"]},
    }))
    (folder / "index.html").write_text(KEYED_PAGE)
    (folder / "lesson.js").write_text(KEYED_SCRIPT)
    return folder


def last_json(out: str) -> dict[str, Any]:
    lines = out.strip().splitlines()
    report: dict[str, Any] = json.loads(lines[-1])
    return report


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def test_preview_reports_answers_scored_by_the_app(
        qapp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = keyed_bundle(tmp_path / "keyed")
    assert main(["preview", str(bundle), "--seconds", "20"]) == 0
    out = capsys.readouterr().out
    report = last_json(out)
    assert list(report) == ["kind", "initialized", "api", "calls", "completion", "success",
                            "score", "answers", "refused"]
    assert report["kind"] == "bundle" and report["initialized"] is True
    assert report["api"] is None and report["success"] is None and report["score"] is None
    assert report["completion"] == "completed"
    assert report["answers"] == [{"item": "a", "correct": True}, {"item": "b", "correct": False}]
    assert report["calls"] == 6
    refused = " | ".join(report["refused"])
    assert "the item was answered already (b)" in refused
    assert "not in the lesson's key (not-in-key)" in refused
    assert "need the response as text" in refused  # c: the page tried to score itself
    assert "answer a: right (scored by app)" in out


def test_preview_of_a_hostile_bundle_shows_what_was_refused(
        qapp: Any, tmp_path: Path, listener: Listener,
        capsys: pytest.CaptureFixture[str]) -> None:
    roots = write_bundles(tmp_path, listener)
    (roots[HOSTILE] / "leak.txt").unlink()  # the bundle loader refuses links outside
    assert main(["preview", str(roots[HOSTILE]), "--seconds", "5"]) == 0
    out = capsys.readouterr().out
    report = last_json(out)
    assert report["initialized"] is True and report["completion"] == "incomplete"
    assert report["answers"] == []  # its one answer said true/false to a keyed lesson
    refused = " | ".join(report["refused"])
    assert "Content Security Policy" in refused and "lesson.json" in refused
    assert listener.hits.channels() == set()
    assert SECRET not in out


def test_preview_refuses_a_bundle_that_is_not_valid(
        qapp: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "lesson.json").write_text("{}")
    assert main(["preview", str(tmp_path / "bad")]) == 2
    assert "missing entry page" in capsys.readouterr().err
