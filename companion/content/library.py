"""All the lessons the app can offer, read from lesson folders, one bad bundle at a time.

Each folder given to ``load_library`` holds course folders (``<course-id>/course.json``
with lesson bundles beside it: sub-folders and ``.zip`` files). A lesson folder or a zip
placed directly in a given folder is read as a standalone bundle, and a folder holding an
``imsmanifest.xml`` as an imported SCORM package (``companion.content.package``: one lesson,
or a course of several). A bundle that cannot be used is recorded in ``Library.errors`` and
the others still load.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from companion.content.bundle import (
    COURSE_FILE,
    LESSON_FILE,
    LessonBundle,
    load_bundle,
    read_course,
)
from companion.content.errors import BundleError
from companion.content.package import load_package
from companion.content.scorm import MANIFEST_FILE
from companion.content.zipsafe import DEFAULT_LIMITS, Limits
from companion.core.catalogue import Catalogue, Course

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Library:
    """The catalogue of loaded lessons, their bundles by lesson id, and what was refused."""

    catalogue: Catalogue
    bundles: dict[str, LessonBundle] = field(default_factory=dict)
    errors: list[BundleError] = field(default_factory=list)


def load_library(
    folders: list[Path],
    cache_dir: Path,
    limits: Limits = DEFAULT_LIMITS,
    placeholders: Mapping[str, str] | None = None,
) -> Library:
    """Read every course folder under each of ``folders`` (in name order).

    Refused bundles go to ``errors``; so does a lesson whose id, or whose order within its
    course, is already taken (the first one found keeps it), and a lesson whose course is
    described differently by an earlier bundle. ``placeholders`` fill external lessons'
    urls (``load_bundle``).
    """
    collector = _Collector(placeholders)
    for folder in folders:
        if not folder.is_dir():
            collector.refuse(BundleError(str(folder), "lesson folder does not exist"))
            continue
        for child in _entries(folder):
            if child.is_dir() and (child / MANIFEST_FILE).is_file():
                collector.load_package(child)
            elif child.is_dir() and not (child / LESSON_FILE).exists():
                _load_course_folder(child, cache_dir, limits, collector)
            else:
                collector.load(child, cache_dir, limits)
    return collector.library()


def _load_course_folder(
    folder: Path, cache_dir: Path, limits: Limits, collector: _Collector
) -> None:
    try:
        read_course(folder)
    except BundleError as exc:  # the lessons would each repeat this; report it once
        collector.refuse(exc)
        return
    if not (folder / COURSE_FILE).is_file():
        log.info("%s has no %s; its lessons describe their course", folder, COURSE_FILE)
    for child in _entries(folder):
        collector.load(child, cache_dir, limits)


def _entries(folder: Path) -> list[Path]:
    """Bundle candidates in a folder: visible sub-folders and zips, sorted by name."""
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith((".", "_"))
        and (p.is_dir() or (p.is_file() and p.suffix.lower() == ".zip"))
    )


class _Collector:
    """Accumulates bundles, refusing those that clash with what is already loaded."""

    def __init__(self, placeholders: Mapping[str, str] | None = None) -> None:
        self.placeholders = placeholders
        self.bundles: dict[str, LessonBundle] = {}
        self.courses: dict[str, Course] = {}
        self.orders: dict[tuple[str, int], str] = {}
        self.errors: list[BundleError] = []

    def refuse(self, error: BundleError) -> None:
        log.warning("lesson refused: %s", error)
        self.errors.append(error)

    def load(self, path: Path, cache_dir: Path, limits: Limits) -> None:
        try:
            bundle = load_bundle(path, cache_dir, limits, self.placeholders)
            self._check_clashes(bundle)
        except BundleError as exc:
            self.refuse(exc)
            return
        self._keep(bundle)

    def load_package(self, folder: Path) -> None:
        """Every lesson of an imported SCORM package, or none when one is refused."""
        try:
            bundles = load_package(folder)
            probe = _Collector(self.placeholders)
            probe.bundles, probe.courses = dict(self.bundles), dict(self.courses)
            probe.orders = dict(self.orders)
            for bundle in bundles:
                probe._check_clashes(bundle)
                probe._keep(bundle)
        except BundleError as exc:
            self.refuse(exc)
            return
        for bundle in bundles:
            self._keep(bundle)

    def _keep(self, bundle: LessonBundle) -> None:
        lesson = bundle.lesson
        self.bundles[lesson.id] = bundle
        self.courses.setdefault(lesson.course_id, bundle.course)
        self.orders[(lesson.course_id, lesson.order)] = lesson.id

    def _check_clashes(self, bundle: LessonBundle) -> None:
        lesson = bundle.lesson
        name = str(bundle.source or bundle.root)
        if lesson.id in self.bundles:
            first = self.bundles[lesson.id]
            raise BundleError(
                name, f"lesson id {lesson.id!r} is already used by {first.source or first.root}"
            )
        known = self.courses.get(lesson.course_id)
        if known is not None and known != bundle.course:
            raise BundleError(
                name, f"course {lesson.course_id!r} is described differently by another bundle"
            )
        taken = self.orders.get((lesson.course_id, lesson.order))
        if taken is not None:
            raise BundleError(
                name,
                f"order {lesson.order} in course {lesson.course_id!r} is already taken "
                f"by lesson {taken!r}",
            )

    def library(self) -> Library:
        catalogue = Catalogue(
            courses=tuple(self.courses.values()),
            lessons=tuple(b.lesson for b in self.bundles.values()),
        )
        return Library(catalogue, dict(self.bundles), list(self.errors))
