"""Bad bundles are refused with a message naming the bundle and the problem; others load."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from companion.content import BundleError, Limits, load_bundle, load_library
from tests.content.bundle_factory import (
    PAGE,
    course_folder,
    lesson_folder,
    lesson_json,
    write_symlink_zip,
    write_zip,
)

# Each case writes one bad bundle into the course folder and returns its path.
Maker = Callable[[Path], Path]


def _missing_lesson_json(course: Path) -> Path:
    return lesson_folder(course, "bad", None)


def _invalid_json(course: Path) -> Path:
    folder = lesson_folder(course, "bad", None)
    (folder / "lesson.json").write_text('{"id": "b", "title": ', encoding="utf-8")
    return folder


def _not_an_object(course: Path) -> Path:
    folder = lesson_folder(course, "bad", None)
    (folder / "lesson.json").write_text("[1, 2]", encoding="utf-8")
    return folder


def _bad_subject(course: Path) -> Path:
    return lesson_folder(course, "bad", lesson_json("b", 2, subject="Maths"))


def _missing_id(course: Path) -> Path:
    obj = lesson_json("b", 2)
    del obj["id"]
    return lesson_folder(course, "bad", obj)


def _bad_order(course: Path) -> Path:
    return lesson_folder(course, "bad", lesson_json("b", 0))


def _bad_setting(course: Path) -> Path:
    return lesson_folder(course, "bad", lesson_json("b", 2, idleTimeout=-5))


def _misspelt_setting(course: Path) -> Path:
    return lesson_folder(course, "bad", lesson_json("b", 2, idletimeout=60))


def _missing_entry(course: Path) -> Path:
    return lesson_folder(course, "bad", lesson_json("b", 2), page=False)


def _missing_named_entry(course: Path) -> Path:
    return lesson_folder(course, "bad", lesson_json("b", 2, entry="start.html"))


def _entry_outside(course: Path) -> Path:
    return lesson_folder(course, "bad", lesson_json("b", 2, entry="../good/index.html"))


def _wrong_course(course: Path) -> Path:
    return lesson_folder(course, "bad", lesson_json("b", 2, course="course-y"))


def _duplicate_id(course: Path) -> Path:
    return lesson_folder(course, "zz-bad", lesson_json("a", 2))


def _duplicate_order(course: Path) -> Path:
    return lesson_folder(course, "zz-bad", lesson_json("b", 1))


def _zip_slip(course: Path) -> Path:
    members = {"lesson.json": json.dumps(lesson_json("b", 2)), "index.html": PAGE}
    return write_zip(course / "bad.zip", {**members, "../../escaped.html": PAGE})


def _zip_absolute(course: Path) -> Path:
    members = {"lesson.json": json.dumps(lesson_json("b", 2)), "index.html": PAGE}
    return write_zip(course / "bad.zip", {**members, "/tmp/escaped-absolute.html": PAGE})


def _zip_backslash(course: Path) -> Path:
    members = {"lesson.json": json.dumps(lesson_json("b", 2)), "index.html": PAGE}
    return write_zip(course / "bad.zip", {**members, "..\\escaped.html": PAGE})


def _zip_symlink(course: Path) -> Path:
    return write_symlink_zip(course / "bad.zip", lesson_json("b", 2), "secrets", "/etc/passwd")


def _not_a_zip(course: Path) -> Path:
    path = course / "bad.zip"
    path.write_bytes(b"this is not a zip file at all")
    return path


def _zip_without_lesson_json(course: Path) -> Path:
    return write_zip(course / "bad.zip", {"index.html": PAGE})


def _oversize_folder(course: Path) -> Path:
    folder = lesson_folder(course, "bad", lesson_json("b", 2))
    (folder / "video.webm").write_bytes(b"\0" * 5000)
    return folder


def _oversize_zip(course: Path) -> Path:
    members = {"lesson.json": json.dumps(lesson_json("b", 2)), "index.html": PAGE}
    return write_zip(course / "bad.zip", {**members, "big.bin": b"\0" * 50_000})


CASES: dict[str, tuple[Maker, str]] = {
    "missing lesson.json": (_missing_lesson_json, "missing lesson.json"),
    "invalid JSON": (_invalid_json, "lesson.json is not valid JSON (line 1"),
    "not an object": (_not_an_object, "lesson.json must hold a JSON object"),
    "bad subject": (_bad_subject, "'subject' must be one of Science, Math"),
    "missing id": (_missing_id, "'id' must be non-empty text"),
    "bad order": (_bad_order, "'order' must be a whole number from 1"),
    "bad setting": (_bad_setting, "invalid lesson settings in lesson.json: idleTimeout"),
    "misspelt setting": (_misspelt_setting, "unknown field(s) 'idletimeout'"),
    "missing entry": (_missing_entry, "missing entry page 'index.html'"),
    "missing named entry": (_missing_named_entry, "missing entry page 'start.html'"),
    "entry outside": (_entry_outside, "is not a path inside the bundle"),
    "wrong course": (_wrong_course, "names course 'course-y' but the course.json"),
    "duplicate id": (_duplicate_id, "lesson id 'a' is already used by"),
    "duplicate order": (_duplicate_order, "order 1 in course 'course-x' is already taken"),
    "zip slip": (_zip_slip, "escapes the bundle folder with '..'"),
    "zip absolute path": (_zip_absolute, "has an absolute path"),
    "zip backslash": (_zip_backslash, "uses a backslash"),
    "zip symlink": (_zip_symlink, "member 'secrets' is a symbolic link"),
    "not a zip": (_not_a_zip, "not a valid zip file"),
    "zip without lesson.json": (_zip_without_lesson_json, "missing lesson.json"),
    "oversize folder": (_oversize_folder, "too large"),
    "oversize zip": (_oversize_zip, "too large unpacked"),
}
UNSAFE_ZIPS = {"zip slip", "zip absolute path", "zip backslash", "zip symlink", "oversize zip"}
SMALL = Limits(max_bytes=4096, max_files=50)


@pytest.mark.parametrize("case", CASES)
def test_bad_bundle_is_refused_and_the_others_load(tmp_path: Path, case: str) -> None:
    make, problem = CASES[case]
    lessons = tmp_path / "lessons"
    course = course_folder(lessons)
    lesson_folder(course, "good", lesson_json("a", 1))
    bad = make(course)
    cache = tmp_path / "cache"

    library = load_library([lessons], cache, SMALL)

    assert [b.lesson.id for b in library.bundles.values()] == ["a"]
    assert [lesson.id for lesson in library.catalogue.lessons] == ["a"]
    assert len(library.errors) == 1
    error = library.errors[0]
    assert error.bundle == str(bad)
    assert problem in error.problem
    assert str(error) == f"{bad}: {error.problem}"
    assert not (tmp_path / "escaped.html").exists()
    assert not Path("/tmp/escaped-absolute.html").exists()
    if case in UNSAFE_ZIPS:  # checked before anything is written
        assert not cache.exists() or list(cache.rglob("*")) == []


@pytest.mark.parametrize("case", [c for c in CASES if not c.startswith(("duplicate", "oversize"))])
def test_load_bundle_raises_for_the_bad_bundle(tmp_path: Path, case: str) -> None:
    make, problem = CASES[case]
    course = course_folder(tmp_path / "lessons")
    lesson_folder(course, "good", lesson_json("a", 1))
    bad = make(course)
    with pytest.raises(BundleError) as caught:
        load_bundle(bad, tmp_path / "cache")
    assert caught.value.bundle == str(bad)
    assert problem in caught.value.problem


def test_folder_symlink_leading_outside_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private", encoding="utf-8")
    course = course_folder(tmp_path / "lessons")
    bad = lesson_folder(course, "bad", lesson_json("b", 2))
    try:
        os.symlink(secret, bad / "notes.txt")
    except OSError:
        pytest.skip("symbolic links are not available here")
    with pytest.raises(BundleError, match=r"'notes\.txt' is a link to a place outside the bundle"):
        load_bundle(bad, tmp_path / "cache")


def test_invalid_course_json_is_reported_once(tmp_path: Path) -> None:
    lessons = tmp_path / "lessons"
    course = course_folder(lessons)
    (course / "course.json").write_text('{"id": "course-x"}', encoding="utf-8")
    lesson_folder(course, "one", lesson_json("a", 1))
    lesson_folder(course, "two", lesson_json("b", 2))
    other = course_folder(tmp_path / "elsewhere")
    lesson_folder(other, "three", lesson_json("c", 1))

    library = load_library([lessons, tmp_path / "elsewhere"], tmp_path / "cache")

    assert [str(e) for e in library.errors] == [
        f"{course / 'course.json'}: 'title' must be non-empty text"
    ]
    assert list(library.bundles) == ["c"]


def test_missing_lesson_folder_is_an_error_not_a_crash(tmp_path: Path) -> None:
    library = load_library([tmp_path / "nowhere"], tmp_path / "cache")
    assert [e.problem for e in library.errors] == ["lesson folder does not exist"]
    assert library.catalogue.lessons == ()
