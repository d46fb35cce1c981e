"""lesson.json's ``web`` and ``media`` lessons: what loads and what is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from companion.content import BundleError, load_bundle
from companion.content.web_lesson import host_allowed
from tests.content.bundle_factory import lesson_folder, lesson_json

QUIZ = [
    {"item": "c1", "question": "Where do bees live?", "choices": ["Hive", "Sea"], "answer": 0},
    {"item": "c2", "question": "What do bees make?", "choices": ["Milk", "Honey"], "answer": 1},
]


def web_lesson(tmp_path: Path, web: Any, **extra: Any) -> Path:
    return lesson_folder(tmp_path, "w", lesson_json("w-1", 1, courseTitle="W", web=web,
                                                    **extra), page=False)


def test_a_web_lesson_with_its_hosts_and_quiz(tmp_path: Path) -> None:
    folder = web_lesson(tmp_path, {"url": "https://learn.example.org/bees",
                                   "hosts": ["learn.example.org", "*.cdn.example"]},
                        checkQuiz=QUIZ)
    bundle = load_bundle(folder, tmp_path / "cache")
    assert bundle.web is not None and bundle.entry is None
    assert bundle.web.hosts == ("learn.example.org", "*.cdn.example")
    assert bundle.web.allows("img.cdn.example") and bundle.web.allows("cdn.example")
    assert not bundle.web.allows("evil.example") and not bundle.web.allows("xcdn.example")
    assert [q.item for q in bundle.check_quiz] == ["c1", "c2"]
    assert not bundle.earns_no_xp


def test_a_web_lesson_without_a_quiz_earns_no_xp(tmp_path: Path) -> None:
    folder = web_lesson(tmp_path, {"url": "https://a.org/", "hosts": ["a.org"]})
    assert load_bundle(folder, tmp_path / "cache").earns_no_xp


@pytest.mark.parametrize(("web", "problem"), [
    ({"url": "https://a.org/", "hosts": ["b.org"]}, "on 'a.org', which is not one of its"),
    ({"url": "ftp://a.org/", "hosts": ["a.org"]}, "must be an https or http address"),
    ({"url": "https://a.org/", "hosts": []}, "must list 1 to 50 host names"),
    ({"url": "https://a.org/", "hosts": ["a.org/path"]}, "is not a host name"),
    ({"url": "https://a.org/", "hosts": ["a.org"], "extra": 1}, "unknown field"),
    ("https://a.org/", "must be an object"),
])
def test_bad_web_lessons_are_refused(tmp_path: Path, web: Any, problem: str) -> None:
    with pytest.raises(BundleError, match=problem):
        load_bundle(web_lesson(tmp_path, web), tmp_path / "cache")


def test_web_and_an_entry_page_do_not_mix(tmp_path: Path) -> None:
    folder = web_lesson(tmp_path, {"url": "https://a.org/", "hosts": ["a.org"]},
                        entry="index.html")
    with pytest.raises(BundleError, match="one of 'web', 'media', 'external' or 'entry'"):
        load_bundle(folder, tmp_path / "cache")


def test_a_media_lesson(tmp_path: Path) -> None:
    folder = lesson_folder(tmp_path, "m", lesson_json("m-1", 1, courseTitle="M",
                                                      media="media/bees.ogg",
                                                      checkQuiz=QUIZ), page=False)
    (folder / "media").mkdir()
    (folder / "media" / "bees.ogg").write_bytes(b"OggS")
    bundle = load_bundle(folder, tmp_path / "cache")
    assert bundle.media == (folder / "media" / "bees.ogg").resolve()


@pytest.mark.parametrize(("media", "problem"), [
    ("missing.ogg", "missing media file 'missing.ogg'"),
    ("notes.txt", "is not an audio or video file"),
    ("../up.ogg", "is not a path inside the bundle"),
])
def test_bad_media_lessons_are_refused(tmp_path: Path, media: str, problem: str) -> None:
    folder = lesson_folder(tmp_path, "m", lesson_json("m-1", 1, courseTitle="M", media=media),
                           page=False)
    (folder / "notes.txt").write_text("x")
    with pytest.raises(BundleError, match=problem):
        load_bundle(folder, tmp_path / "cache")


def test_host_matching() -> None:
    assert host_allowed("A.ORG.", ("a.org",))
    assert not host_allowed("", ("a.org",))
    assert not host_allowed("a.org.evil", ("a.org",))
