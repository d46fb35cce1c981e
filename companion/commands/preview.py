"""`companion preview BUNDLE [--seconds N]`: open a lesson bundle in the session window with
no student, record nothing, and print what the page reported through the bridge and what the
app refused; the last line is one JSON object (``companion.ui.preview.PreviewReport``).

Exit status 0 when the lesson loaded; 1 when its page did not load; 2 when the bundle is not
valid (the message on stderr) or is a lesson in another application.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
             help_text: str) -> None:
    """Add the `preview` subcommand."""
    p = subparsers.add_parser(name, help=help_text, description=help_text)
    p.add_argument("bundle", metavar="BUNDLE", type=Path, help="a lesson folder or .zip")
    p.add_argument("--seconds", type=float, default=10.0,
                   help="how long to keep the lesson open (default 10; it ends sooner when "
                        "the lesson completes)")
    p.set_defaults(func=run)


def _say(text: str) -> None:
    print(text, flush=True)


def run(args: argparse.Namespace) -> int:
    from companion.app import has_display, prepare_qt
    from companion.content import BundleError, bridge_script_path, load_bundle

    if not 0 < args.seconds <= 3600:
        print("--seconds must be more than 0 and at most 3600", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="companion-preview-") as cache:
        try:
            bundle = load_bundle(args.bundle, Path(cache))
        except BundleError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        if bundle.external is not None:
            print(f"{args.bundle}: this lesson runs in another application; preview shows "
                  "lesson pages", file=sys.stderr)
            return 2
        shown = has_display()
        prepare_qt(offscreen=not shown)
        from PySide6.QtWidgets import QApplication

        from companion.ui.preview import run_preview

        app = QApplication.instance() or QApplication(sys.argv[:1])
        assert isinstance(app, QApplication)
        _say(f"previewing {bundle.lesson.id} ({bundle.lesson.title}); nothing is recorded")
        report = run_preview(app, bundle, args.seconds,
                             bridge_script_path().read_text(encoding="utf-8"), _say,
                             show=shown and app.platformName() != "offscreen")
    print(json.dumps(report.to_json()), flush=True)
    return 0 if report.initialized else 1
