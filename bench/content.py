"""Benchmark: importing a large SCORM package and showing its first frame.

Writes a SCORM 1.2 package of about 50 MB in 2,000 files (a SCO page, scripts, styles and
media-like binary files, as authoring tools export), zipped. ``import_s`` is the time of
``companion.content.importer.import_content`` (check, extract, verify) into an empty
library; ``first_frame_s`` the time from asking the session window's player page to load
until the package's SCO has rendered and called ``LMSInitialize`` (offscreen WebEngine,
after one warm-up load of another lesson, as the app has its web engine running when a
student opens a lesson). The last line is JSON: {"import_s", "first_frame_s", "bytes",
"files"}. Targets: import under 5 s, first frame under 2 s.

Run: .venv/bin/python bench/content.py [--megabytes N] [--files N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from companion.app import prepare_qt
from companion.content.importer import import_content
from companion.content.package import load_package

MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="bench.package" version="1"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
<metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
<organizations default="o"><organization identifier="o"><title>Bench</title>
<item identifier="i" identifierref="r"><title>Bench SCO</title></item>
</organization></organizations>
<resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco"
 href="index.html"><file href="index.html"/></resource></resources></manifest>"""
SCO = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>Bench</title>
<link rel="stylesheet" href="css/s1.css"><script src="js/s0.js"></script></head>
<body><h1>Bench lesson</h1><p>First frame.</p><script>
var w = window, api = null;
while (w && !api) { api = w.API || null; if (w.parent === w) break; w = w.parent; }
requestAnimationFrame(function () { if (api) api.LMSInitialize(""); });
</script></body></html>"""


def write_package(path: Path, total_bytes: int, files: int) -> int:
    """The package zip; returns its unpacked size."""
    media = max(files // 4, 1)
    text_files = files - media - 2
    media_size = (total_bytes - text_files * 2000) // media
    written = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("imsmanifest.xml", MANIFEST)
        archive.writestr("index.html", SCO)
        for i in range(text_files):
            body = (f"/* file {i} */\n" + f"var x{i} = {i};\n" * 120)[:2000]
            name = f"js/s{i}.js" if i % 2 == 0 else f"css/s{i}.css"
            archive.writestr(name, body)
            written += len(body)
        for i in range(media):
            data = os.urandom(media_size)  # media does not compress
            archive.writestr(zipfile.ZipInfo(f"media/clip{i}.mp4"), data,
                             compress_type=zipfile.ZIP_STORED)
            written += len(data)
    return written


def first_frame(package_dir: Path) -> float:
    prepare_qt(offscreen=True)
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWebChannel import QWebChannel
    from PySide6.QtWebEngineCore import QWebEnginePage
    from PySide6.QtWebEngineWidgets import QWebEngineView
    from PySide6.QtWidgets import QApplication

    from companion.content import bridge_script_path, demo_lessons_path, load_bundle
    from companion.ui import web
    from companion.ui.bridge import LessonBridge
    from companion.ui.scorm_player import ScormPlayer

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert app is not None
    bundle = load_package(package_dir)[0]
    warm = load_bundle(demo_lessons_path() / "demo-course-1" / "1-math-drill",
                       package_dir.parent / "cache")
    roots = {bundle.lesson.id: bundle.root, warm.lesson.id: warm.root}
    profile = web.make_profile("bench", roots.get, bridge_script_path().read_text())
    page = QWebEnginePage(profile)
    view = QWebEngineView()
    view.resize(1024, 700)
    view.setPage(page)
    view.show()
    channel = QWebChannel()
    player = ScormPlayer()
    lesson_bridge = LessonBridge()
    channel.registerObject("companion", lesson_bridge)  # as the session window does
    channel.registerObject("scorm", player.bridge)
    page.setWebChannel(channel)
    loop = QEventLoop()
    page.loadFinished.connect(lambda _ok: loop.quit())
    page.load(web.lesson_url(warm.lesson.id, "index.html"))
    loop.exec()
    initialized = QEventLoop()
    player.bridge.called.connect(lambda name, _e, _v: name == "LMSInitialize"
                                 and initialized.quit())
    QTimer.singleShot(30_000, initialized.quit)
    started = time.perf_counter()
    page.load(player.open(bundle, "bench", None))
    initialized.exec()
    seconds = time.perf_counter() - started
    assert player.run is not None and player.run.initialized, "the SCO never initialized"
    view.setPage(QWebEnginePage(view))
    del page
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--megabytes", type=int, default=50)
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        size = write_package(root / "bench.zip", args.megabytes * 1_000_000, args.files)
        started = time.perf_counter()
        imported = import_content(root / "bench.zip", root / "library")
        import_s = time.perf_counter() - started
        print(f"import: {import_s:.3f} s ({size} bytes, {args.files} files)")
        frame_s = first_frame(imported.folder)
        print(f"first frame: {frame_s:.3f} s")
        print(json.dumps({"import_s": round(import_s, 3), "first_frame_s": round(frame_s, 3),
                          "bytes": size, "files": args.files}))


if __name__ == "__main__":
    main()
