"""SCORM packages as lessons: checking a package (zip or folder) and reading an imported one.

``check_package(path)`` says what an import would make of a package, without writing
anything: the manifest (``companion.content.scorm``) once the zip rules hold and every
launch file is there. ``load_package(folder)`` reads an imported package folder as lesson
bundles: one launchable item is a lesson, several are a course whose lessons follow the
organization's order (``order`` 1, 2, ...). A package's mastery score raises a lesson's
mastery threshold, never lowers it below the app's own (learning-rules.md section 4).

An imported package folder holds the package's files and ``companion-package.json``
(``id``, ``subject``, ``grade``, and optionally ``checkQuiz``: a check quiz for a package
that reports no interactions, as a list for every lesson or an object by item id), written
by ``companion.content.importer``.
"""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, replace
from hashlib import sha256
from pathlib import Path, PurePosixPath
from typing import Any

from companion.content.bundle import LessonBundle, check_tree
from companion.content.errors import BundleError
from companion.content.external import QuizQuestion, parse_check_quiz
from companion.content.scorm import (
    MANIFEST_FILE,
    Manifest,
    ManifestProblem,
    Sco,
    ScormLaunch,
    read_manifest,
)
from companion.content.zipsafe import PACKAGE_LIMITS, Limits, ZipProblem, check_zip
from companion.core.catalogue import SUBJECTS, Course, Lesson, Subject
from companion.core.journal import LessonSettings

PACKAGE_FILE = "companion-package.json"
_ID_PART = re.compile(r"[^a-z0-9]+")
_MAX_ID = 60


@dataclass(frozen=True, slots=True)
class PackageInfo:
    """What a package holds: its manifest and the id its lessons would have."""

    package_id: str
    manifest: Manifest


def host_id(*parts: str) -> str:
    """A lesson or course id made of ``parts`` that is also a valid URL host label."""
    slug = "-".join(p for p in (_ID_PART.sub("-", part.lower()).strip("-") for part in parts)
                    if p) or "package"
    if len(slug) <= _MAX_ID:
        return slug
    digest = sha256("\x00".join(parts).encode()).hexdigest()[:8]
    return slug[: _MAX_ID - 9].rstrip("-") + "-" + digest


def is_package(path: Path) -> bool:
    """True for a folder with an imsmanifest.xml, or a zip holding one (at its top or in
    its only folder)."""
    if path.is_dir():
        return (path / MANIFEST_FILE).is_file()
    if path.is_file() and path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                return _zip_prefix(archive.namelist()) is not None
        except (zipfile.BadZipFile, OSError):
            return False
    return False


def check_package(path: Path, limits: Limits = PACKAGE_LIMITS) -> PackageInfo:
    """Check a package (zip or folder) without importing it; raises BundleError."""
    name = str(path)
    if path.is_dir():
        check_tree(path.resolve(), name, limits)
        manifest = _manifest(path / MANIFEST_FILE, name)
        _check_launch_files(manifest, lambda p: (path / p).is_file(), name)
        return PackageInfo(package_id(manifest, path), manifest)
    if not path.exists():
        raise BundleError(name, "does not exist")
    if not (path.is_file() and path.suffix.lower() == ".zip"):
        raise BundleError(name, "is neither a folder nor a .zip file")
    if path.stat().st_size > limits.max_bytes:
        raise BundleError(name, f"too large (the limit is {limits.max_bytes} bytes)")
    try:
        with zipfile.ZipFile(path) as archive:
            members = check_zip(archive, limits)
            names = {m.filename for m in members if not m.is_dir()}
            prefix = _zip_prefix(list(names))
            if prefix is None:
                raise BundleError(name, f"not a SCORM package: no {MANIFEST_FILE} at its top")
            manifest = _parse(archive.read(prefix + MANIFEST_FILE), name)
    except zipfile.BadZipFile as exc:
        raise BundleError(name, f"not a valid zip file ({exc})") from None
    except ZipProblem as exc:
        raise BundleError(name, str(exc)) from None
    _check_launch_files(manifest, lambda p: prefix + p in names, name)
    return PackageInfo(package_id(manifest, path), manifest)


def package_id(manifest: Manifest, path: Path) -> str:
    """The course id of a package: its manifest identifier (or its file name)."""
    return host_id(manifest.identifier or path.stem)


def load_package(folder: Path, limits: Limits = PACKAGE_LIMITS) -> list[LessonBundle]:
    """The lesson bundles of an imported package folder; raises BundleError."""
    root = folder.resolve()
    name = str(folder)
    check_tree(root, name, limits)
    manifest = _manifest(root / MANIFEST_FILE, name)
    _check_launch_files(manifest, lambda p: (root / p).is_file(), name)
    meta = _read_meta(root / PACKAGE_FILE, name)
    course_id = meta.get("id") or package_id(manifest, folder)
    subject = meta.get("subject", "None")
    if subject not in SUBJECTS:
        raise BundleError(name, f"{PACKAGE_FILE}: 'subject' must be one of {', '.join(SUBJECTS)}")
    grade = str(meta.get("grade") or "00")
    typed_subject: Subject = subject
    course = Course(course_id, manifest.title, typed_subject, grade)
    assert manifest.api is not None  # _manifest refuses a package of no known version
    quizzes = _quizzes(meta.get("checkQuiz"), [s.id for s in manifest.scos], name)
    bundles = []
    for order, sco in enumerate(manifest.scos, start=1):
        lesson_id = course_id if len(manifest.scos) == 1 else host_id(course_id, sco.id)
        settings = LessonSettings()
        if sco.mastery_score is not None and sco.mastery_score > settings.mastery_threshold:
            settings = replace(settings, mastery_threshold=sco.mastery_score)
        lesson = Lesson(lesson_id, sco.title, course_id, typed_subject, grade, order, settings)
        launch = ScormLaunch(manifest.api, sco.href, sco.id, sco.type, sco.mastery_score,
                             manifest.version or "", sco.completion_threshold,
                             sco.launch_data)
        entry = root.joinpath(*PurePosixPath(sco.path).parts).resolve()
        bundles.append(LessonBundle(lesson, course, root, entry, folder,
                                    check_quiz=quizzes.get(sco.id, ()), scorm=launch))
    return bundles


def _quizzes(
    value: Any, sco_ids: list[str], name: str
) -> dict[str, tuple[QuizQuestion, ...]]:
    """The check quiz of each item: one list for all, or an object by item id."""
    where = f"{name}: {PACKAGE_FILE}"
    if value is None:
        return {}
    if isinstance(value, list):
        quiz = parse_check_quiz(value, where)
        return dict.fromkeys(sco_ids, quiz)
    if not isinstance(value, dict):
        raise BundleError(where, "'checkQuiz' must be a list of questions or an object "
                                 "of them by item id")
    unknown = sorted(set(value) - set(sco_ids))
    if unknown:
        raise BundleError(where, f"'checkQuiz' names item(s) the package does not launch: "
                                 f"{', '.join(map(repr, unknown))}")
    return {sco: parse_check_quiz(questions, where) for sco, questions in value.items()}


def _zip_prefix(names: list[str]) -> str | None:
    """Where the manifest sits in a zip: "" at its top, "folder/" in its only folder."""
    if MANIFEST_FILE in names:
        return ""
    tops = {n.split("/", 1)[0] for n in names if n and not n.startswith("__MACOSX/")}
    if len(tops) == 1:
        top = next(iter(tops)) + "/"
        if top + MANIFEST_FILE in names:
            return top
    return None


def _manifest(file: Path, name: str) -> Manifest:
    if not file.is_file():
        raise BundleError(name, f"not a SCORM package: missing {MANIFEST_FILE}")
    return _parse(file.read_bytes(), name)


def _parse(data: bytes, name: str) -> Manifest:
    try:
        manifest = read_manifest(data)
    except ManifestProblem as exc:
        raise BundleError(name, str(exc)) from None
    if manifest.version is None:
        raise BundleError(name, "the manifest says neither its SCORM version (schemaversion) "
                                "nor a SCORM namespace")
    return manifest


def _check_launch_files(manifest: Manifest, exists: Any, name: str) -> None:
    for sco in manifest.scos:
        if not exists(sco.path):
            raise BundleError(name, f"item {sco.id!r} launches {sco.path!r}, which is not "
                                    "in the package")


def _read_meta(file: Path, name: str) -> dict[str, Any]:
    if not file.is_file():
        return {}
    try:
        obj = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError(name, f"{PACKAGE_FILE} is not valid JSON") from None
    if not isinstance(obj, dict):
        raise BundleError(name, f"{PACKAGE_FILE} must hold a JSON object")
    return obj


def describe_sco(sco: Sco) -> str:
    """One line for a guide: the item, its launch file and its mastery score."""
    mastery = "" if sco.mastery_score is None else f", mastery {float(sco.mastery_score):.0%}"
    return f"{sco.id}: {sco.title} ({sco.type}, {sco.href}{mastery})"
