"""``companion preview PATH [--seconds N]``: open a lesson with no student and say what it did.

PATH is any kind of lesson: a bundle (folder or zip: opened in the session window itself,
``companion.ui.preview``), a SCORM package (zip or folder; a course opens its first
lesson), a web or media lesson, or a lesson in another application. Nothing is imported
and no run is recorded. The last line printed is one JSON object (``PreviewReport``):
``{"kind", "initialized", "api", "calls", "completion", "success", "score", "answers",
"refused"}``. ``initialized`` is whether the SCORM API's ``LMSInitialize`` / ``Initialize``
was called (for a bundle: whether the page connected to the bridge); ``calls`` counts every
API (or bridge) call; ``completion`` and ``success`` are the last values the package set;
``score`` the last scaled score; ``answers`` what the page or package reported;
``refused`` what the app refused (network requests, files outside the lesson).

Exit status: 0 the lesson loaded, 1 it did not load, 2 PATH is not a usable lesson.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from companion.content import BundleError, load_bundle
from companion.content.package import is_package, load_package
from companion.content.scorm import MANIFEST_FILE

REFUSED_PREFIX = "lesson content: refused "


@dataclass
class PreviewReport:
    """What ``companion preview`` prints on its last line."""

    kind: str | None
    initialized: bool = False
    api: str | None = None
    calls: int = 0
    completion: str | None = None
    success: str | None = None
    score: float | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def register(subparsers: Any, name: str, help_text: str) -> None:
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text,
                                                       description=__doc__)
    p.add_argument("path", type=Path, metavar="PATH")
    p.add_argument("--seconds", type=float, default=5.0,
                   help="how long to let the lesson run (default 5)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    out = stdout or sys.stdout
    if args.seconds < 0:
        print("error: --seconds must not be negative", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="companion-preview-") as scratch:
        try:
            bundle, kind = first_lesson(args.path, Path(scratch))
        except BundleError as exc:
            print(str(exc), file=sys.stderr)
            print(PreviewReport(kind=None, refused=[str(exc)]).to_json(), file=out)
            return 2
        if bundle.external is not None:
            print(f"{bundle.lesson.title}: a lesson in another application "
                  f"({bundle.external.url or bundle.external.app}); nothing to load here",
                  file=out)
            print(PreviewReport(kind=kind).to_json(), file=out)
            return 0
        if kind == "bundle":
            return _in_session_window(bundle, args.seconds, out)
        report, loaded = _play(bundle, kind, args.seconds)
    print(report.to_json(), file=out)
    return 0 if loaded else 1


def _in_session_window(bundle: Any, seconds: float, out: TextIO) -> int:
    """A bundle in the real session window, driven by a stand-in run that writes nothing."""
    from companion.app import has_display, prepare_qt
    from companion.content import bridge_script_path

    shown = has_display()
    prepare_qt(offscreen=not shown)
    from PySide6.QtWidgets import QApplication

    from companion.ui.preview import run_preview

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)

    def say(text: str) -> None:
        print(text, file=out, flush=True)

    say(f"previewing {bundle.lesson.id} ({bundle.lesson.title}); nothing is recorded")
    report = run_preview(app, bundle, seconds, bridge_script_path().read_text(encoding="utf-8"),
                         say, show=shown and app.platformName() != "offscreen")
    print(json.dumps(report.to_json()), file=out, flush=True)
    return 0 if report.initialized else 1


def first_lesson(path: Path, scratch: Path) -> tuple[Any, str]:
    """The lesson a preview opens and its kind: "scorm", "bundle", "web", "media" or
    "external"."""
    if is_package(path):
        folder = path
        if not path.is_dir():
            from companion.content.importer import import_content

            imported = import_content(path, scratch / "library")
            folder = imported.folder
        elif not (path / MANIFEST_FILE).is_file():
            raise BundleError(str(path), f"missing {MANIFEST_FILE}")
        bundles = load_package(folder)
        return bundles[0], "scorm"
    bundle = load_bundle(path, scratch / "cache")
    kinds = (("external", bundle.external), ("web", bundle.web), ("media", bundle.media))
    return bundle, next((kind for kind, part in kinds if part is not None), "bundle")


def _play(bundle: Any, kind: str, seconds: float) -> tuple[PreviewReport, bool]:
    from companion.app import prepare_qt

    prepare_qt(offscreen=True)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert app is not None
    from companion.ui.lesson_preview import preview_page

    refused_files = _RefusedFiles()
    logger = logging.getLogger("companion.ui")
    logger.addHandler(refused_files)
    try:
        result = preview_page(bundle, seconds)
    finally:
        logger.removeHandler(refused_files)
    loaded = bool(result.pop("loaded"))
    result["refused"] = [*result["refused"], *refused_files.urls]
    return PreviewReport(kind=kind, **result), loaded


class _RefusedFiles(logging.Handler):
    """Collects the lesson files the scheme handler refused."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.urls: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(REFUSED_PREFIX):
            self.urls.append(message[len(REFUSED_PREFIX):])
