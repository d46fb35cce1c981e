"""The desktop process: what Qt needs before the QApplication exists, where its messages
go, and ``run_app`` (the window through ``Shell``, or the offscreen self-test)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

OFFSCREEN_CHROMIUM_FLAGS = "--disable-gpu --disable-logging --log-level=3"
QUIET_CHROMIUM = "--log-level=3"  # fatal messages only
QUIET_QT_RULES = "qt.vulkan*=false;qt.rhi.*=false;qt.qpa.gl=false;qt.glx=false;qt.xcb.glx*=false"

_qt_log = logging.getLogger("companion.qt")


def has_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a window can be shown: always outside Linux/BSD; there, an X or Wayland
    display, or a Qt platform chosen on purpose (QT_QPA_PLATFORM)."""
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    if platform in ("win32", "darwin", "cygwin"):
        return True
    return any(environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def qt_message_to_log(kind: Any, context: Any, message: str) -> None:
    """Qt's and the web engine's messages go to the log file, not the terminal: notes about
    the GPU, Vulkan or D-Bus on a classroom computer are for support, not for the student.
    Critical and fatal ones are still printed."""
    from PySide6.QtCore import QtMsgType

    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.DEBUG,
        QtMsgType.QtWarningMsg: logging.INFO,
    }.get(kind, logging.ERROR)
    category = getattr(context, "category", None) or "default"
    _qt_log.log(level, "[%s] %s", category, message)
    if level >= logging.ERROR:
        print(message, file=sys.stderr)


def prepare_qt(offscreen: bool) -> None:
    """Environment and attributes Qt needs before the QApplication exists."""
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        # Offscreen there is no GPU: keep Chromium from trying (and from logging about it).
        os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", OFFSCREEN_CHROMIUM_FLAGS)
        os.environ.setdefault("QSG_RHI_BACKEND", "null")
    from companion.ui.web import engine_flags

    # lesson pages: WebRTC without UDP, every connection through the app's gate
    flags = engine_flags(os.environ.get("QTWEBENGINE_CHROMIUM_FLAGS", ""))
    if "--log-level" not in flags:  # Chromium's notes about the GPU and D-Bus: nobody can act
        flags = f"{flags} {QUIET_CHROMIUM}"
    os.environ["QTWEBENGINE_CHROMIUM_FLAGS"] = flags
    # Qt's own notes about Vulkan and GLX on machines without them, likewise (a
    # QT_LOGGING_RULES the user set still wins: theirs come after ours)
    rules = os.environ.get("QT_LOGGING_RULES", "")
    os.environ["QT_LOGGING_RULES"] = ";".join(r for r in (QUIET_QT_RULES, rules) if r)
    from PySide6.QtCore import QCoreApplication, Qt, qInstallMessageHandler

    qInstallMessageHandler(qt_message_to_log)
    QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
    from companion.ui.web import register_scheme

    register_scheme()


def say_cannot_start(message: str, window: bool) -> None:
    """Say on stderr (and, with ``window``, in a message box) why the app cannot start.

    Called before any WebEngine object exists: the box is a plain widget.
    """
    print(f"error: {message}", file=sys.stderr)
    if not window:
        return
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    QMessageBox.critical(None, "Timeback Companion cannot start", message)


def run_app(env: str | None, self_test: bool = False) -> int:
    """Run the desktop app (or, with ``self_test``, a scripted demo lesson offscreen);
    returns the exit status."""
    if not self_test and not has_display():
        print(
            "No display was found, so the window cannot be shown. Running the self-test "
            "offscreen instead (set QT_QPA_PLATFORM=offscreen to run the app headless).",
            file=sys.stderr,
        )
        self_test = True
    from companion.system.webengine import root_refusal

    refusal = root_refusal()
    if refusal is not None:
        headless = os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal")
        say_cannot_start(refusal, window=not (self_test or headless))
        return 1
    prepare_qt(offscreen=self_test)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    if self_test:
        from companion.app.selftest import run_self_test

        return run_self_test(app, env)
    from companion.app.shell import Shell

    urls = [arg for arg in sys.argv[1:] if arg.lower().startswith("timeback-companion://")]
    shell = Shell(app, env, urls=urls)
    shell.fatal.connect(lambda _message: app.exit(1))
    status = shell.start()
    if status is not None:
        return status
    try:
        return app.exec()
    finally:
        shell.close()
