"""Zipped bundles: a round trip of a demo lesson, the extraction cache, and member checks."""

from __future__ import annotations

import json
import shutil
import warnings
import zipfile
from pathlib import Path

import pytest

from companion.content import BundleError, Limits, demo_lessons_path, load_bundle, load_library
from companion.content.zipsafe import ZipProblem, check_zip, member_problem
from tests.content.bundle_factory import PAGE, lesson_json, write_zip, zip_folder

DRILL = demo_lessons_path() / "demo-course-1" / "1-math-drill"


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize("prefix", ["", "1-math-drill/"])
def test_zipped_demo_lesson_loads_like_the_folder(tmp_path: Path, prefix: str) -> None:
    folder_bundle = load_bundle(DRILL, tmp_path / "unused")
    course = tmp_path / "demo-course-1"
    course.mkdir()
    shutil.copy(DRILL.parent / "course.json", course / "course.json")
    archive = zip_folder(DRILL, course / "drill.zip", prefix)

    bundle = load_bundle(archive, tmp_path / "cache")

    assert bundle.lesson == folder_bundle.lesson
    assert bundle.course == folder_bundle.course
    assert bundle.source == archive
    assert bundle.root.is_relative_to(tmp_path / "cache")
    assert bundle.entry == bundle.root / "index.html"
    assert _files(bundle.root) == _files(DRILL)


def test_extraction_is_reused_for_the_same_bytes(tmp_path: Path) -> None:
    archive = zip_folder(DRILL, tmp_path / "drill.zip")
    cache = tmp_path / "cache"
    first = load_bundle(archive, cache)
    marker = first.root / "marker.txt"
    marker.write_text("still here", encoding="utf-8")

    second = load_bundle(archive, cache)

    assert second.root == first.root
    assert marker.read_text(encoding="utf-8") == "still here"  # not extracted again
    assert [p.name for p in cache.iterdir()] == [first.root.name]


def test_changed_zip_gets_a_new_extraction(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = tmp_path / "lesson.zip"
    write_zip(path, {"lesson.json": json.dumps(lesson_json("a", 1)), "index.html": PAGE})
    first = load_bundle(path, cache)
    write_zip(path, {"lesson.json": json.dumps(lesson_json("a", 1)), "index.html": PAGE + "!"})
    second = load_bundle(path, cache)
    assert first.root != second.root
    assert second.entry.read_text(encoding="utf-8") == PAGE + "!"


def test_standalone_zip_takes_its_course_from_lesson_json(tmp_path: Path) -> None:
    obj = lesson_json("solo", 1, courseTitle="Solo Course")
    path = write_zip(tmp_path / "solo.zip", {"lesson.json": json.dumps(obj), "index.html": PAGE})

    library = load_library([tmp_path], tmp_path / "cache")

    assert library.errors == []
    course = library.catalogue.course("course-x")
    assert (course.id, course.title, course.subject, course.grade) == (
        "course-x",
        "Solo Course",
        "Math",
        "03",
    )
    assert library.bundles["solo"].source == path


def test_standalone_folder_without_course_title_uses_the_course_id(tmp_path: Path) -> None:
    folder = tmp_path / "solo"
    folder.mkdir()
    (folder / "lesson.json").write_text(json.dumps(lesson_json("solo", 1)), encoding="utf-8")
    (folder / "index.html").write_text(PAGE, encoding="utf-8")
    bundle = load_bundle(folder, tmp_path / "cache")
    assert bundle.course.title == "course-x"


def test_nested_entry_page_is_found(tmp_path: Path) -> None:
    obj = lesson_json("n", 1, entry="pages/start.html")
    path = write_zip(tmp_path / "n.zip", {"lesson.json": json.dumps(obj), "pages/start.html": PAGE})
    bundle = load_bundle(path, tmp_path / "cache")
    assert bundle.entry == bundle.root / "pages" / "start.html"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("a/../../b", "escapes the bundle folder"),
        ("..", "escapes the bundle folder"),
        ("/abs", "absolute path"),
        ("C:/windows/x", "drive letter"),
        ("c:x", "drive letter"),
        ("a\\b", "backslash"),
        ("", "empty or invalid name"),
        ("a\x00b", "empty or invalid name"),
    ],
)
def test_unsafe_member_names(name: str, problem: str) -> None:
    found = member_problem(name)
    assert found is not None and problem in found


@pytest.mark.parametrize("name", ["index.html", "media/clip.ogg", "a..b/c.txt", "dir/"])
def test_plain_member_names_are_fine(name: str) -> None:
    assert member_problem(name) is None


def test_duplicate_members_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dup.zip"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we want
        write_zip(path, {"index.html": PAGE})
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("INDEX.html", PAGE)
    with zipfile.ZipFile(path) as archive, pytest.raises(ZipProblem, match="more than once"):
        check_zip(archive)


def test_too_many_files_are_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "many.zip", {f"f{i}.txt": "x" for i in range(30)})
    with pytest.raises(BundleError, match="too many files"):
        load_bundle(path, tmp_path / "cache", limits=Limits(max_files=10))


def test_encrypted_members_are_refused(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "enc.zip", {"index.html": PAGE})
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.infolist()[0]
        header_at = info.header_offset
    central = data.rfind(b"PK\x01\x02")
    data[header_at + 6] |= 0x01  # local header flag bits
    data[central + 8] |= 0x01  # central directory flag bits
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="is encrypted"):
        load_bundle(path, tmp_path / "cache")


def test_a_refused_zip_leaves_nothing_in_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    good = write_zip(tmp_path / "good.zip",
                     {"lesson.json": json.dumps(lesson_json("g", 1)), "index.html": PAGE})
    kept = load_bundle(good, cache).root
    bad = write_zip(tmp_path / "bad.zip",
                    {"lesson.json": json.dumps(lesson_json("b", 1, answerKey=[])),
                     "index.html": PAGE})
    with pytest.raises(BundleError, match="answerKey"):
        load_bundle(bad, cache)
    assert [p for p in cache.iterdir()] == [kept]  # the refused one was removed


@pytest.mark.parametrize("extra, words", [
    ({"answerKey": {"q1": []}}, "needs a list of accepted responses"),
    ({"minAnswerInterval": -1}, "minAnswerInterval"),
    ({"minAnswerInterval": True}, "minAnswerInterval"),
])
def test_bad_answer_rules_are_refused(tmp_path: Path, extra: dict[str, object],
                                      words: str) -> None:
    folder = tmp_path / "l"
    folder.mkdir()
    (folder / "lesson.json").write_text(json.dumps(lesson_json("l", 1, **extra)))
    (folder / "index.html").write_text(PAGE)
    with pytest.raises(BundleError, match=words):
        load_bundle(folder, tmp_path / "cache")


def test_answer_rules_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "l"
    folder.mkdir()
    (folder / "lesson.json").write_text(json.dumps(lesson_json(
        "l", 1, answerKey={"q1": ["Yes", "y"]}, minAnswerInterval=2.5)))
    (folder / "index.html").write_text(PAGE)
    bundle = load_bundle(folder, tmp_path / "cache")
    assert bundle.answer_key is not None and bundle.answer_key.is_correct("q1", " YES")
    assert bundle.min_answer_interval_s == 2.5
