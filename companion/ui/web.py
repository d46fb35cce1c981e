"""Lesson web content: a per-student off-the-record profile, sealed so that a lesson page
reaches only its own bundle, and the bridge scripts.

The profile (``SealedProfile``) owns its defences, each one enough on its own for what it
covers (``lesson_policy`` holds the rules, ``docs/security.md`` the tests):

- ``NetworkBlocker``, the request interceptor, kept alive by the profile: every request
  that is not ``lesson:`` of the page's own bundle, ``data:``, ``blob:`` or ``about:`` is
  blocked;
- ``LessonSchemeHandler`` serves a bundle only to its own pages, with a
  Content-Security-Policy on every response (``lesson_scheme``); ``/__companion__/<path>``
  in any lesson is the app's own player files (the SCORM player, which must share the
  package's origin); files are streamed from disk, so media can seek;
- settings: no file URLs, no remote URLs from local content, no windows opened by script,
  WebRTC on public interfaces only (and Chromium's ``disable_non_proxied_udp`` policy from
  ``CHROMIUM_FLAGS``), no DNS prefetch, no hyperlink auditing, no plugins;
- the page (``lesson_page.LessonPage``) navigates only inside its bundle and opens no
  windows.

``register_scheme()`` must run before the QApplication exists (Qt WebEngine's rule).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QByteArray, QFile, QIODevice, QObject, QUrl
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineScript,
    QWebEngineSettings,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from shiboken6 import Shiboken

from companion.content.paths import player_files_path, relay_script_path
from companion.ui import web_gate
from companion.ui.lesson_page import shorten
from companion.ui.lesson_policy import CHROMIUM_FLAGS, SCHEME, may_request, proxy_flags
from companion.ui.lesson_scheme import (
    BundleRoot,
    LessonSchemeHandler,
    lesson_url,
    register_scheme,
    resolve,
)

__all__ = [
    "CHROMIUM_FLAGS",
    "NetworkBlocker",
    "SealedProfile",
    "attach_channel",
    "clear_profile",
    "engine_flags",
    "lesson_url",
    "make_profile",
    "network_blocker",
    "register_scheme",
    "resolve",
]

log = logging.getLogger("companion.ui")

QWEBCHANNEL_JS = ":/qtwebchannel/qwebchannel.js"
MAX_BLOCKED_KEPT = 200
PROXY_SWITCHES = ("--proxy-server", "--proxy-bypass-list", "--proxy-pac-url", "--no-proxy-server",
                  "--proxy-auto-detect")
# Run first in every frame: WebRTC's interfaces are removed, so that a page cannot reach a
# TURN server over TCP (Chromium's UDP policy in CHROMIUM_FLAGS covers UDP only).
NO_WEBRTC_JS = """
(function () {
  Object.getOwnPropertyNames(window).forEach(function (name) {
    if (/^(webkit)?RTC/.test(name)) {
      try { delete window[name]; } catch (e) { window[name] = undefined; }
    }
  });
})();
"""

_OFF = (
    QWebEngineSettings.WebAttribute.LocalContentCanAccessFileUrls,
    QWebEngineSettings.WebAttribute.LocalContentCanAccessRemoteUrls,
    QWebEngineSettings.WebAttribute.JavascriptCanOpenWindows,
    QWebEngineSettings.WebAttribute.AllowWindowActivationFromJavaScript,
    QWebEngineSettings.WebAttribute.AllowRunningInsecureContent,
    QWebEngineSettings.WebAttribute.AllowGeolocationOnInsecureOrigins,
    QWebEngineSettings.WebAttribute.DnsPrefetchEnabled,
    QWebEngineSettings.WebAttribute.HyperlinkAuditingEnabled,
    QWebEngineSettings.WebAttribute.PluginsEnabled,
    QWebEngineSettings.WebAttribute.ScreenCaptureEnabled,
    QWebEngineSettings.WebAttribute.JavascriptCanPaste,
    QWebEngineSettings.WebAttribute.JavascriptCanAccessClipboard,
    QWebEngineSettings.WebAttribute.NavigateOnDropEnabled,
    QWebEngineSettings.WebAttribute.PdfViewerEnabled,
)
_ON = (QWebEngineSettings.WebAttribute.WebRTCPublicInterfacesOnly,)


class NetworkBlocker(QWebEngineUrlRequestInterceptor):
    """Blocks every request but a bundle's own files and in-page data; keeps (shortened)
    what it blocked, the latest ``MAX_BLOCKED_KEPT``."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.blocked: list[str] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl()
        initiator = info.initiator().toString(QUrl.ComponentFormattingOption.FullyEncoded)
        if not may_request(url.scheme(), url.host(), initiator):
            self.blocked.append(shorten(url.toString()))
            del self.blocked[:-MAX_BLOCKED_KEPT]
            info.block(True)


def _read_qrc(path: str) -> str:
    f = QFile(path)
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):
        raise FileNotFoundError(path)
    try:
        return bytes(f.readAll().data()).decode()
    finally:
        f.close()


APP_WORLD = int(QWebEngineScript.ScriptWorldId.ApplicationWorld.value)
MAIN_WORLD = int(QWebEngineScript.ScriptWorldId.MainWorld.value)


def _script(name: str, source: str, world: int = MAIN_WORLD,
            sub_frames: bool = False) -> QWebEngineScript:
    script = QWebEngineScript()
    script.setName(name)
    script.setSourceCode(source)
    script.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
    script.setWorldId(world)
    script.setRunsOnSubFrames(sub_frames)
    return script


def attach_channel(page: QWebEnginePage, channel: QWebChannel) -> None:
    """Give ``page`` the bridge's channel, in the app's isolated world only (the page's own
    scripts never see the channel, only ``window.companion``)."""
    page.setWebChannel(channel, APP_WORLD)


class SealedProfile(QWebEngineProfile):
    """A fresh off-the-record profile for one student: nothing is written to disk, a page
    reaches only its own bundle, and the bridge scripts are injected.

    ``interceptor`` and ``handler`` belong to the profile (Qt children, and attributes here
    so that Python keeps them as long as the profile).
    """

    def __init__(self, student_id: str, bundle_root: BundleRoot, bridge_script: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)  # no storage name: off the record
        self.setObjectName(f"lesson-profile-{student_id}")
        self.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
        self.setPersistentCookiesPolicy(
            QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies
        )
        self.setPersistentPermissionsPolicy(
            QWebEngineProfile.PersistentPermissionsPolicy.StoreInMemory
        )
        settings = self.settings()
        for attribute in _OFF:
            settings.setAttribute(attribute, False)
        for attribute in _ON:
            settings.setAttribute(attribute, True)
        self.interceptor = NetworkBlocker(self)
        self.setUrlRequestInterceptor(self.interceptor)
        self.handler = LessonSchemeHandler(bundle_root, self, player_files_path())
        self.installUrlSchemeHandler(QByteArray(SCHEME.encode()), self.handler)
        scripts = self.scripts()
        scripts.insert(_script("companion-no-webrtc", NO_WEBRTC_JS, sub_frames=True))
        scripts.insert(_script("qwebchannel", _read_qrc(QWEBCHANNEL_JS), APP_WORLD))
        scripts.insert(_script("companion-relay",
                               relay_script_path().read_text(encoding="utf-8"), APP_WORLD))
        scripts.insert(_script("companion-bridge", bridge_script))


def engine_flags(flags: str) -> str:
    """``flags`` (the Chromium switches already asked for) with the sealed engine's own:
    WebRTC without UDP, and every connection through the app's gate, started here (so this
    runs before the QApplication exists)."""
    # any proxy switch already there goes (one inherited from a parent process names that
    # process's gate): this process's gate is the only way out
    kept = [flag for flag in flags.split() if not flag.startswith(PROXY_SWITCHES)]
    if CHROMIUM_FLAGS not in kept:
        kept.append(CHROMIUM_FLAGS)
    return " ".join([*kept, proxy_flags(web_gate.start().port)])


def make_profile(student_id: str, bundle_root: BundleRoot, bridge_script: str,
                 parent: QObject | None = None) -> SealedProfile:
    """A ``SealedProfile`` for one student."""
    return SealedProfile(student_id, bundle_root, bridge_script, parent)


def network_blocker(profile: QWebEngineProfile) -> NetworkBlocker | None:
    """The profile's request interceptor (what it blocked is in ``blocked``)."""
    return getattr(profile, "interceptor", None)


def dispose(page: QWebEnginePage | None, profile: QWebEngineProfile | None) -> None:
    """Clear the profile's cookies, cache and storage, then delete the page before its
    profile (Qt WebEngine's rule), both now."""
    if profile is not None:
        clear_profile(profile)
    if page is not None:
        Shiboken.delete(page)
    if profile is not None:
        Shiboken.delete(profile)


def clear_profile(profile: QWebEngineProfile) -> None:
    """Forget everything the profile holds: cookies, cache, visited links."""
    profile.cookieStore().deleteAllCookies()
    profile.clearHttpCache()
    profile.clearAllVisitedLinks()
