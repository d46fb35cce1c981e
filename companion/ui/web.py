"""Lesson web content: a per-student off-the-record profile, the ``lesson:`` URL scheme
serving bundle files, a request interceptor that blocks the network, and the bridge scripts.

``lesson://<lesson-id>/<path>`` maps to ``<bundle root>/<path>``; anything that resolves
outside the bundle's root, or names an unknown lesson, is refused. ``/__companion__/<path>``
in any lesson is the app's own player files (``PLAYER_PREFIX``: the SCORM player, which must
share the package's origin). Files are streamed from disk, so media can seek. Every request
that is not ``lesson:``, ``qrc:``, ``data:``, ``blob:`` or ``about:`` is blocked.

``register_scheme()`` must run before the QApplication exists (Qt WebEngine's rule); it
imports only QtWebEngineCore.
"""

from __future__ import annotations

import logging
import mimetypes
import weakref
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QByteArray, QFile, QIODevice, QObject, QUrl
from PySide6.QtWebEngineCore import (
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
    QWebEngineUrlRequestJob,
    QWebEngineUrlScheme,
    QWebEngineUrlSchemeHandler,
)

from companion.content.paths import player_files_path

log = logging.getLogger("companion.ui")

SCHEME = b"lesson"
ALLOWED_SCHEMES = frozenset({"lesson", "qrc", "data", "blob", "about"})
QWEBCHANNEL_JS = ":/qtwebchannel/qwebchannel.js"
PLAYER_PREFIX = "/__companion__/"

BundleRoot = Callable[[str], Path | None]


def register_scheme() -> None:
    """Register ``lesson:`` with Qt WebEngine (call once, before the QApplication)."""
    if QWebEngineUrlScheme.schemeByName(QByteArray(SCHEME)).name() == QByteArray(SCHEME):
        return
    scheme = QWebEngineUrlScheme(QByteArray(SCHEME))
    scheme.setSyntax(QWebEngineUrlScheme.Syntax.Host)
    scheme.setFlags(
        QWebEngineUrlScheme.Flag.SecureScheme
        | QWebEngineUrlScheme.Flag.LocalAccessAllowed
        | QWebEngineUrlScheme.Flag.ContentSecurityPolicyIgnored
        | QWebEngineUrlScheme.Flag.FetchApiAllowed  # packages read their own files by fetch
    )
    QWebEngineUrlScheme.registerScheme(scheme)


def lesson_url(lesson_id: str, entry: str) -> QUrl:
    """The URL of a bundle file, e.g. ``lesson://demo-1/index.html``."""
    url = QUrl()
    url.setScheme(SCHEME.decode())
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
    """Serves ``lesson://<id>/<path>`` from the bundle's folder, nothing outside it."""

    def __init__(self, bundle_root: BundleRoot, parent: QObject | None = None,
                 player_root: Path | None = None) -> None:
        super().__init__(parent)
        self._bundle_root = bundle_root
        self._player_root = player_root

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        url = job.requestUrl()
        root = self._bundle_root(url.host())
        if root is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        path = url.path()
        if self._player_root is not None and path.startswith(PLAYER_PREFIX):
            target = resolve(self._player_root, path[len(PLAYER_PREFIX):])
        else:
            target = resolve(root, path)
        if target is None:
            log.warning("lesson content: refused %s", url.toString())
            job.fail(QWebEngineUrlRequestJob.Error.RequestDenied)
            return
        mime = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        file = QFile(str(target), job)  # streamed and seekable: Qt answers range requests
        if not file.open(QIODevice.OpenModeFlag.ReadOnly):
            job.fail(QWebEngineUrlRequestJob.Error.RequestFailed)
            return
        job.reply(QByteArray(mime.encode()), file)


class NetworkBlocker(QWebEngineUrlRequestInterceptor):
    """Blocks every request that would leave the computer; counts what it blocked."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.blocked: list[str] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl()
        if url.scheme() not in ALLOWED_SCHEMES:
            self.blocked.append(url.toString())
            info.block(True)


def _read_qrc(path: str) -> str:
    f = QFile(path)
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):
        raise FileNotFoundError(path)
    try:
        return bytes(f.readAll().data()).decode()
    finally:
        f.close()


def _script(name: str, source: str) -> QWebEngineScript:
    script = QWebEngineScript()
    script.setName(name)
    script.setSourceCode(source)
    script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    script.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
    script.setRunsOnSubFrames(False)
    return script


_kept_blockers: weakref.WeakKeyDictionary[QWebEngineProfile, NetworkBlocker] = (
    weakref.WeakKeyDictionary()
)


def network_blocker(profile: QWebEngineProfile) -> NetworkBlocker | None:
    """The profile's NetworkBlocker (what it blocked is in ``blocked``)."""
    return _kept_blockers.get(profile)


def make_profile(
    student_id: str,
    bundle_root: BundleRoot,
    bridge_script: str,
    parent: QObject | None = None,
) -> QWebEngineProfile:
    """A fresh off-the-record profile for one student: nothing is written to disk, the
    network is blocked, ``lesson:`` is served and the bridge scripts are injected."""
    profile = QWebEngineProfile(parent)  # no storage name: off the record
    profile.setObjectName(f"lesson-profile-{student_id}")
    profile.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
    profile.setPersistentCookiesPolicy(
        QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies
    )
    blocker = NetworkBlocker(profile)
    profile.setUrlRequestInterceptor(blocker)
    _kept_blockers[profile] = blocker  # Qt keeps no reference: without one it is destroyed
    handler = LessonSchemeHandler(bundle_root, profile, player_files_path())
    profile.installUrlSchemeHandler(QByteArray(SCHEME), handler)
    scripts = profile.scripts()
    scripts.insert(_script("qwebchannel", _read_qrc(QWEBCHANNEL_JS)))
    scripts.insert(_script("companion-bridge", bridge_script))
    return profile


def clear_profile(profile: QWebEngineProfile) -> None:
    """Forget everything the profile holds: cookies, cache, visited links."""
    profile.cookieStore().deleteAllCookies()
    profile.clearHttpCache()
    profile.clearAllVisitedLinks()
