"""The ``lesson:`` URL scheme: ``lesson://<lesson-id>/<path>`` serves ``<bundle root>/<path>``
to that bundle's own pages, nothing else.

The handler answers a request only when ``lesson_policy.may_serve`` allows it (the request's
initiator is the same bundle, or the app opened it), only for a file that resolves inside
the bundle's root, and only up to ``MAX_FILE_BYTES``; files are streamed from disk, not read
whole. Every response carries the Content-Security-Policy, which the scheme honours (it is
registered without ``ContentSecurityPolicyIgnored`` and without local-file access).

``register_scheme()`` must run before the QApplication exists (Qt WebEngine's rule).
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QFile, QIODevice, QObject, QUrl
from PySide6.QtWebEngineCore import (
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)

from companion.ui.lesson_policy import (
    CONTENT_SECURITY_POLICY,
    MAX_FILE_BYTES,
    PRIVATE_FILES,
    SCHEME,
    may_serve,
)

log = logging.getLogger("companion.ui")

BundleRoot = Callable[[str], Path | None]
_NAME = QByteArray(SCHEME.encode())


PLAYER_PREFIX = "/__companion__/"
"""Where the app's own player files (``content.paths.player_files_path``) appear in every
lesson, so the SCORM player shares the package's origin."""


def register_scheme() -> None:
    """Register ``lesson:`` with Qt WebEngine (call once, before the QApplication)."""
    if QWebEngineUrlScheme.schemeByName(_NAME).name() == _NAME:
        return
    scheme = QWebEngineUrlScheme(_NAME)
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(
        QWebEngineUrlScheme.Flag.SecureScheme
        | QWebEngineUrlScheme.Flag.CorsEnabled
        | QWebEngineUrlScheme.Flag.FetchApiAllowed
    )
    QWebEngineUrlScheme.registerScheme(scheme)


def lesson_url(lesson_id: str, entry: str) -> QUrl:
    """The URL of a bundle file, e.g. ``lesson://demo-1/index.html``."""
    url = QUrl()
    url.setScheme(SCHEME)
    url.setHost(lesson_id)
    url.setPath("/" + entry.lstrip("/"))
    return url


def resolve(root: Path, path: str) -> Path | None:
    """The file under ``root`` that ``path`` names, or None if it is outside or missing."""
    base = root.resolve()
    try:
        target = (base / path.lstrip("/")).resolve()
    except (OSError, ValueError):
        return None
    if target != base and base not in target.parents:
        return None
    return target if target.is_file() else None


class LessonSchemeHandler(QWebEngineUrlSchemeHandler):
    """Serves ``lesson://<id>/<path>`` from the bundle's folder to the bundle's own pages.

    ``opened`` holds the lesson ids the app itself opened (``allow_opened``): a request
    with no initiator (the app's own navigation) gets only one of those. ``refused`` counts
    the requests it turned away (for ``companion preview`` and the tests).
    """

    def __init__(self, bundle_root: BundleRoot, parent: QObject | None = None,
                 player_root: Path | None = None) -> None:
        super().__init__(parent)
        self._bundle_root = bundle_root
        self._player_root = player_root  # served at PLAYER_PREFIX in every lesson
        self.opened: frozenset[str] = frozenset()
        self.refused: list[str] = []
        self.csp = CONTENT_SECURITY_POLICY  # "" serves without one (the tests' layer checks)
        self.max_bytes = MAX_FILE_BYTES

    def allow_opened(self, lesson_id: str) -> None:
        """The app opens ``lesson_id`` in this profile."""
        self.opened = self.opened | {lesson_id.lower()}

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        url = job.requestUrl()
        initiator = job.initiator().toString(QUrl.ComponentFormattingOption.FullyEncoded)
        if not may_serve(url.host(), initiator, self.opened):
            self._refuse(job, url, f"asked by {initiator or 'nobody'}")
            return
        if job.requestMethod() != QByteArray(b"GET"):
            self._refuse(job, url, "not a GET")
            return
        root = self._bundle_root(url.host())
        if root is None:
            self._refuse(job, url, "no such lesson", QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        path = url.path()
        if self._player_root is not None and path.startswith(PLAYER_PREFIX):
            target = resolve(self._player_root, path[len(PLAYER_PREFIX):])
        else:
            target = resolve(root, path)
        if target is not None and target.parent == root.resolve() \
                and target.name.lower() in PRIVATE_FILES:
            self._refuse(job, url, "the app's own file")
            return
        if target is None:
            self._refuse(job, url, "outside the bundle or missing",
                         QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        file = QFile(str(target), job)
        if file.size() > self.max_bytes or not file.open(QIODevice.OpenModeFlag.ReadOnly):
            self._refuse(job, url, "too large or unreadable")
            return
        if self.csp:
            headers: Any = {  # a QMultiMap: each name maps to its list of values
                QByteArray(b"Content-Security-Policy"): [QByteArray(self.csp.encode())],
                QByteArray(b"X-Content-Type-Options"): [QByteArray(b"nosniff")],
            }
            job.setAdditionalResponseHeaders(headers)
        mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        job.reply(QByteArray(mime.encode()), file)  # streamed from disk by Qt

    def _refuse(self, job: QWebEngineUrlRequestJob, url: QUrl, why: str,
                error: QWebEngineUrlRequestJob.Error =
                QWebEngineUrlRequestJob.Error.RequestDenied) -> None:
        shown = url.toString()[:200]
        self.refused.append(shown)
        log.warning("lesson content: refused %s (%s)", shown, why)
        job.fail(error)
