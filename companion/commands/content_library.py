"""``companion content check|import|list``: the lessons added on this computer.

- ``check PATH [--json]`` says what an import would make of PATH (a SCORM package as a zip
  or folder, a lesson bundle, or a folder of lessons) without importing it. With ``--json``
  its last line is one JSON object: ``{"format", "version", "title", "scos",
  "masteryScore"}``, or ``{"refused": true, "reason": ...}`` (exit status 2).
- ``import PATH [--subject S] [--grade G] [--check-quiz FILE]`` adds it to this computer's library
  (``companion.store.paths.library_dir()``), which the app and ``content push`` read.
- ``list`` prints the library's courses and lessons, and what it refused.

Exit status: 0 done, 2 refused or a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from companion.content import BundleError, load_bundle, load_library
from companion.content.bundle import LESSON_FILE
from companion.content.importer import import_content
from companion.content.package import check_package, describe_sco, is_package
from companion.core.catalogue import SUBJECTS
from companion.store import paths


def register_actions(actions: Any) -> None:
    """Add ``check``, ``import`` and ``list`` to ``content``'s actions."""
    check = actions.add_parser("check", help="say what an import would make of a package",
                               description=__doc__)
    check.add_argument("path", type=Path, metavar="PATH")
    check.add_argument("--json", action="store_true", help="one JSON object on the last line")
    check.set_defaults(func=run_check)
    add = actions.add_parser("import", help="add a package or lessons to this computer",
                             description=__doc__)
    add.add_argument("path", type=Path, metavar="PATH")
    add.add_argument("--subject", choices=SUBJECTS, default="None",
                     help="the subject of a SCORM package's lessons (default: None)")
    add.add_argument("--grade", default="00", help="the grade of a SCORM package's lessons")
    add.add_argument("--check-quiz", type=Path, default=None, metavar="FILE",
                     help="a JSON check quiz for a SCORM package that reports no "
                          "interactions (a list of questions, or an object by item id)")
    add.set_defaults(func=run_import)
    show = actions.add_parser("list", help="list the lessons added on this computer",
                              description=__doc__)
    show.set_defaults(func=run_list)


def describe(path: Path) -> dict[str, Any]:
    """What ``check`` prints for PATH; raises BundleError."""
    if is_package(path):
        return check_package(path).manifest.to_json()
    with tempfile.TemporaryDirectory(prefix="companion-check-") as scratch:
        if (path.is_dir() and (path / LESSON_FILE).is_file()) or path.suffix.lower() == ".zip":
            bundle = load_bundle(path, Path(scratch))
            return {"format": "bundle", "version": None, "title": bundle.lesson.title,
                    "scos": [], "masteryScore": None}
        if path.is_dir():
            library = load_library([path], Path(scratch))
            if library.errors:
                raise library.errors[0]
            if not library.bundles:
                raise BundleError(str(path), "holds no lessons")
            return {"format": "folder", "version": None, "title": path.name, "scos": [],
                    "masteryScore": None,
                    "lessons": [b.lesson.id for b in library.bundles.values()]}
    raise BundleError(str(path), "does not exist" if not path.exists()
                      else "is neither a folder nor a .zip file")


def run_check(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    try:
        result = describe(args.path)
    except BundleError as exc:
        if args.json:
            print(json.dumps({"refused": True, "reason": str(exc)}), file=out)
        else:
            print(f"refused: {exc}", file=out)
        return 2
    if args.json:
        print(json.dumps(result), file=out)
        return 0
    version = f" SCORM {result['version']}" if result["version"] else ""
    print(f"{result['format']}{version}: {result['title']}", file=out)
    if result["format"] == "scorm":
        info = check_package(args.path)
        for sco in info.manifest.scos:
            print(f"  {describe_sco(sco)}", file=out)
    return 0


def run_import(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    quiz = None
    if args.check_quiz is not None:
        try:
            quiz = json.loads(args.check_quiz.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            print(f"refused: {args.check_quiz}: not a readable JSON check quiz ({exc})",
                  file=out)
            return 2
    try:
        imported = import_content(args.path, paths.library_dir(), subject=args.subject,
                                  grade=args.grade, check_quiz=quiz)
    except BundleError as exc:
        print(f"refused: {exc}", file=out)
        return 2
    verb = "replaced" if imported.replaced else "added"
    print(f"{verb} {imported.kind} {imported.course_id!r}: {imported.title}", file=out)
    for lesson_id, title in imported.lessons:
        print(f"  {lesson_id}  {title}", file=out)
    return 0


def run_list(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    folder = paths.library_dir()
    if not folder.is_dir():
        print("no lessons have been added on this computer", file=out)
        return 0
    library = load_library([folder], paths.data_dir() / "lesson-cache")
    catalogue = library.catalogue
    for course in sorted(catalogue.courses, key=lambda c: c.id):
        print(f"{course.id}  {course.title}", file=out)
        for lesson in catalogue.lessons_in_course(course.id):
            kind = "scorm" if library.bundles[lesson.id].scorm is not None else "bundle"
            print(f"  {lesson.order}. {lesson.id}  {lesson.title} ({kind})", file=out)
    for error in library.errors:
        print(f"refused: {error}", file=out)
    if not catalogue.lessons and not library.errors:
        print("no lessons have been added on this computer", file=out)
    return 0
