"""Adding content to this computer's library folder: SCORM packages and lesson bundles.

``import_content(path, library_dir)`` checks what ``path`` is (a SCORM package as a zip or
folder, a lesson bundle, or a folder of lessons), refuses it with a ``BundleError`` naming
it and the problem, or copies it into ``library_dir`` where ``load_library`` reads it.
Nothing in the library changes until the copy is complete and reads back as lessons: the
copy is made in a staging folder beside its place and renamed into it (a package imported
again replaces its earlier copy, keeping the lesson ids, so progress carries over).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from companion.content.bundle import LESSON_FILE, load_bundle
from companion.content.errors import BundleError
from companion.content.library import load_library
from companion.content.package import (
    PACKAGE_FILE,
    check_package,
    is_package,
    load_package,
)
from companion.content.zipsafe import PACKAGE_LIMITS, Limits, ZipProblem, check_zip
from companion.core.catalogue import SUBJECTS

Progress = Callable[[int, int], None]  # (bytes done, bytes in all)
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import added: the course and the lessons, in order."""

    kind: str  # "scorm" | "bundle" | "folder"
    course_id: str
    title: str
    lessons: tuple[tuple[str, str], ...]  # (lesson id, title)
    replaced: bool
    folder: Path


def import_content(
    path: Path,
    library_dir: Path,
    *,
    subject: str = "None",
    grade: str = "00",
    check_quiz: Any = None,
    limits: Limits = PACKAGE_LIMITS,
    progress: Progress | None = None,
) -> Imported:
    """Import a package, bundle or folder of lessons into ``library_dir``; BundleError.

    ``check_quiz`` (a SCORM package only) is kept as its ``checkQuiz``: questions asked
    when a lesson of a package that reports no interactions is done."""
    if subject not in SUBJECTS:
        raise BundleError(str(path), f"subject must be one of {', '.join(SUBJECTS)}")
    library_dir.mkdir(parents=True, exist_ok=True)
    if is_package(path):
        return _import_package(path, library_dir, subject, grade, check_quiz, limits,
                               progress)
    return _import_lessons(path, library_dir, limits, progress)


def _import_package(
    path: Path, library_dir: Path, subject: str, grade: str, check_quiz: Any,
    limits: Limits, progress: Progress | None,
) -> Imported:
    info = check_package(path, limits)
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=library_dir))
    try:
        if path.is_dir():
            _copy_folder(path, staging, progress)
        else:
            _extract(path, staging, limits, progress)
        meta: dict[str, Any] = {"id": info.package_id, "subject": subject, "grade": grade,
                                "source": path.name}
        if check_quiz is not None:
            meta["checkQuiz"] = check_quiz
        (staging / PACKAGE_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
        bundles = load_package(staging, limits)
        target = library_dir / info.package_id
        replaced = _move_into_place(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return Imported("scorm", info.package_id, info.manifest.title,
                    tuple((b.lesson.id, b.lesson.title) for b in bundles), replaced, target)


def _import_lessons(
    path: Path, library_dir: Path, limits: Limits, progress: Progress | None
) -> Imported:
    name = str(path)
    if not path.exists():
        raise BundleError(name, "does not exist")
    is_bundle = (path.is_dir() and (path / LESSON_FILE).is_file()) or (
        path.is_file() and path.suffix.lower() == ".zip")
    lessons: tuple[tuple[str, str], ...]
    with tempfile.TemporaryDirectory(prefix=".check-", dir=library_dir) as scratch:
        if is_bundle:
            bundle = load_bundle(path, Path(scratch), limits)
            lessons = ((bundle.lesson.id, bundle.lesson.title),)
            course_id, title, kind = bundle.course.id, bundle.course.title, "bundle"
        elif path.is_dir():
            library = load_library([path], Path(scratch), limits)
            if library.errors:
                raise library.errors[0]
            if not library.bundles:
                raise BundleError(name, "holds no lessons (no lesson.json, course folder or "
                                        "SCORM package)")
            lessons = tuple((b.lesson.id, b.lesson.title) for b in library.bundles.values())
            course_id, title, kind = path.name, path.name, "folder"
        else:
            raise BundleError(name, "is neither a folder nor a .zip file")
    # a bundle goes in as it is; a folder of lessons goes in as the course folders (and
    # standalone bundles) it holds, each beside the others already there
    parts = [path] if is_bundle else [c for c in sorted(path.iterdir())
                                      if not c.name.startswith((".", "_"))]
    replaced = False
    for part in parts:
        replaced = _copy_in(part, library_dir, progress) or replaced
    target = library_dir / path.name if is_bundle else library_dir
    return Imported(kind, course_id, title, lessons, replaced, target)


def _copy_in(part: Path, library_dir: Path, progress: Progress | None) -> bool:
    """Copy a folder or file into ``library_dir`` under its name; True when it replaced."""
    target = library_dir / part.name
    staging = Path(tempfile.mkdtemp(prefix=".import-", dir=library_dir))
    try:
        if part.is_dir():
            _copy_folder(part, staging / "content", progress)
            return _move_into_place(staging / "content", target)
        replaced = target.exists()
        shutil.copyfile(part, staging / "content")
        os.replace(staging / "content", target)
        return replaced
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(staging: Path, target: Path) -> bool:
    """Rename ``staging`` to ``target``, replacing an earlier copy; True when it replaced."""
    if not target.exists():
        os.replace(staging, target)
        return False
    old = target.with_name(f".old-{target.name}-{os.getpid()}")
    os.replace(target, old)
    try:
        os.replace(staging, target)
    except OSError:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return True


def _copy_folder(source: Path, dest: Path, progress: Progress | None) -> None:
    files = [p for p in sorted(source.rglob("*")) if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    done = 0
    dest.mkdir(parents=True, exist_ok=True)
    for file in files:
        out = dest / file.relative_to(source)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file, out)
        done += file.stat().st_size
        if progress is not None:
            progress(done, total)


def _extract(path: Path, dest: Path, limits: Limits, progress: Progress | None) -> None:
    """Extract a checked package zip into ``dest``, dropping a single top folder."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = check_zip(archive, limits)
            files = [m for m in members if not m.is_dir()]
            prefix = _common_top(files)
            total = sum(m.file_size for m in files)
            done = 0
            for info in files:
                name = info.filename[len(prefix):]
                if not info.filename.startswith(prefix) or not name:
                    continue  # beside the package's folder (e.g. __MACOSX/)
                out = dest.joinpath(*PurePosixPath(name).parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, out.open("xb") as dst:
                    while chunk := src.read(_CHUNK):
                        done += len(chunk)
                        if done > limits.max_bytes:
                            raise ZipProblem(f"too large unpacked (more than "
                                             f"{limits.max_bytes} bytes)")
                        dst.write(chunk)
                if progress is not None:
                    progress(done, total)
    except ZipProblem as exc:
        raise BundleError(str(path), str(exc)) from None
    except (zipfile.BadZipFile, EOFError, NotImplementedError) as exc:
        raise BundleError(str(path), f"cannot be extracted ({exc})") from None
    except OSError as exc:
        raise BundleError(str(path), f"cannot be extracted ({exc.strerror or exc})") from None


def _common_top(files: list[zipfile.ZipInfo]) -> str:
    """"" when the manifest is at the zip's top, else its only folder ("name/")."""
    names = [m.filename for m in files if not m.filename.startswith("__MACOSX/")]
    if "imsmanifest.xml" in names:
        return ""
    tops = {n.split("/", 1)[0] for n in names}
    return next(iter(tops)) + "/" if len(tops) == 1 else ""
