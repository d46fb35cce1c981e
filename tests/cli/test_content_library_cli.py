"""`companion content check|import|list` as a guide runs them, and `push` of imported lessons."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from companion.cli import build_parser
from companion.commands import content
from companion.core import results
from companion.sandbox.server import start_in_thread
from companion.store import paths
from tests.content.scorm_factory import (
    item_12,
    manifest_12,
    multi_2004,
    resource_12,
    single_12,
    write_package,
    zip_package,
)
from tests.results.helpers import APP_ID


def run(*argv: str) -> tuple[int, str]:
    args = build_parser(list(argv)).parse_args(list(argv))
    out = io.StringIO()
    status: int = args.func(args, stdout=out)
    return status, out.getvalue()


def last_json(text: str) -> dict[str, object]:
    obj: dict[str, object] = json.loads(text.strip().splitlines()[-1])
    return obj


def test_check_json_of_a_scorm_12_zip(tmp_path: Path) -> None:
    folder = write_package(tmp_path / "pkg", manifest_12(
        item_12("intro", "r1", "Intro", parameters="?part=1") + item_12("quiz", "r2", "Quiz", "85"),
        resource_12("r1", "intro.html", kind="asset") + resource_12("r2", "quiz.html")),
        {"intro.html": "<p>i</p>", "quiz.html": "<p>q</p>"})
    status, out = run("content", "check", str(zip_package(folder, tmp_path / "p.zip")), "--json")
    assert status == 0
    assert last_json(out) == {
        "format": "scorm", "version": "1.2", "title": "Fractions",
        "scos": [
            {"id": "intro", "title": "Intro", "href": "intro.html?part=1", "type": "asset",
             "masteryScore": None},
            {"id": "quiz", "title": "Quiz", "href": "quiz.html", "type": "sco",
             "masteryScore": 0.85},
        ],
        "masteryScore": 0.85,
    }
    assert not paths.library_dir().exists()  # checking imports nothing


def test_check_json_of_a_refused_package_exits_2(tmp_path: Path) -> None:
    folder = multi_2004(tmp_path / "cells")
    (folder / "two.html").unlink()
    status, out = run("content", "check", str(folder), "--json")
    assert status == 2
    assert last_json(out) == {
        "refused": True,
        "reason": f"{folder}: item 'i2' launches 'two.html', which is not in the package"}


def test_check_of_a_lesson_bundle(tmp_path: Path) -> None:
    from tests.content.bundle_factory import lesson_folder, lesson_json

    bundle = lesson_folder(tmp_path, "l1", lesson_json("b-1", 1, courseTitle="B"))
    status, out = run("content", "check", str(bundle), "--json")
    assert status == 0
    assert last_json(out) == {"format": "bundle", "version": None, "title": "Lesson b-1",
                              "scos": [], "masteryScore": None}


def test_import_then_list_then_push(tmp_path: Path) -> None:
    status, out = run("content", "import", str(multi_2004(tmp_path / "cells")),
                      "--subject", "Science", "--grade", "06")
    assert status == 0, out
    assert "added scorm 'org-example-cells': Cells" in out
    status, out = run("content", "import", str(single_12(tmp_path / "fr")))
    assert status == 0
    status, out = run("content", "list")
    assert status == 0
    assert out.splitlines() == [
        "com-example-fractions  Fractions",
        "  1. com-example-fractions  Adding fractions (scorm)",
        "org-example-cells  Cells",
        "  1. org-example-cells-i1  What is a cell (scorm)",
        "  2. org-example-cells-i2  Cell parts (scorm)",
        "  3. org-example-cells-i3  Quiz (scorm)",
    ]
    with start_in_thread() as sandbox:
        argv = ["content", "push", "--url", sandbox.base_url]
        args = build_parser(argv).parse_args(argv)
        push_out, err = io.StringIO(), io.StringIO()
        assert content.run(args, stdout=push_out, stderr=err) == 0, err.getvalue()
        stored = sandbox.state.gradebook.line_items
        for lesson_id in ("org-example-cells-i1", "org-example-cells-i3",
                          "com-example-fractions"):
            assert results.line_item_id(APP_ID, lesson_id) in stored


def test_import_refused_exits_2_and_adds_nothing(tmp_path: Path) -> None:
    folder = single_12(tmp_path / "fr")
    (folder / "imsmanifest.xml").write_text("<manifest><organizations>")
    status, out = run("content", "import", str(folder))
    assert status == 2
    assert out.startswith(f"refused: {folder}: imsmanifest.xml is not well-formed XML")
    status, out = run("content", "list")
    assert out.strip() == "no lessons have been added on this computer"


def test_the_real_command_prints_json_last(tmp_path: Path) -> None:
    package = zip_package(single_12(tmp_path / "fr"), tmp_path / "fr.zip")
    done = subprocess.run([sys.executable, "-m", "companion.cli", "content", "check",
                           str(package), "--json"], capture_output=True, text=True, check=False,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert last_json(done.stdout)["masteryScore"] == 0.8


def test_import_with_a_check_quiz_file(tmp_path: Path) -> None:
    quiz = tmp_path / "quiz.json"
    quiz.write_text(json.dumps([
        {"item": "k1", "question": "2 + 2?", "choices": ["4", "5"], "answer": 0},
        {"item": "k2", "question": "3 + 3?", "choices": ["5", "6"], "answer": 1}]))
    status, out = run("content", "import", str(single_12(tmp_path / "fr")),
                      "--check-quiz", str(quiz))
    assert status == 0, out
    meta = json.loads((paths.library_dir() / "com-example-fractions"
                       / "companion-package.json").read_text())
    assert [q["item"] for q in meta["checkQuiz"]] == ["k1", "k2"]
    quiz.write_text("{not json")
    status, out = run("content", "import", str(single_12(tmp_path / "fr2")),
                      "--check-quiz", str(quiz))
    assert status == 2 and "not a readable JSON check quiz" in out
