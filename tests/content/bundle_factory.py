"""Helpers that write small lesson bundles (folders and zips) for the content tests."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path
from typing import Any

COURSE = {"id": "course-x", "title": "Course X", "subject": "Math", "grade": "03"}
PAGE = "<!DOCTYPE html><title>t</title><p>Hello</p>"


def lesson_json(lesson_id: str, order: int, **extra: Any) -> dict[str, Any]:
    """A valid lesson.json object for course-x."""
    obj: dict[str, Any] = {
        "id": lesson_id,
        "title": f"Lesson {lesson_id}",
        "course": "course-x",
        "subject": "Math",
        "grade": "03",
        "order": order,
        "idleTimeout": 60,
        "expectedXp": 2,
    }
    obj.update(extra)
    return obj


def course_folder(root: Path) -> Path:
    """``root/course-x`` with its course.json."""
    folder = root / "course-x"
    folder.mkdir(parents=True)
    (folder / "course.json").write_text(json.dumps(COURSE), encoding="utf-8")
    return folder


def lesson_folder(parent: Path, name: str, obj: dict[str, Any] | None, page: bool = True) -> Path:
    """A lesson folder with ``obj`` as lesson.json (none when None) and an index.html."""
    folder = parent / name
    folder.mkdir()
    if obj is not None:
        (folder / "lesson.json").write_text(json.dumps(obj), encoding="utf-8")
    if page:
        (folder / "index.html").write_text(PAGE, encoding="utf-8")
    return folder


def write_zip(path: Path, members: dict[str, bytes | str]) -> Path:
    """A zip holding ``members`` (name → content) exactly as named, no checks."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def write_symlink_zip(path: Path, obj: dict[str, Any], link_name: str, target: str) -> Path:
    """A valid lesson zip plus a member stored as a Unix symbolic link to ``target``."""
    write_zip(path, {"lesson.json": json.dumps(obj), "index.html": PAGE})
    info = zipfile.ZipInfo(link_name)
    info.create_system = 3  # Unix, so the mode bits are read
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(info, target)
    return path


def zip_folder(folder: Path, path: Path, prefix: str = "") -> Path:
    """Zip every file under ``folder`` with names relative to it, under ``prefix``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(folder).as_posix())
    return path
