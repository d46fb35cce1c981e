"""The page a lesson bundle runs in: it stays in its bundle, opens no windows, and the app
sees for itself whether its audio or video is playing.

Navigation (``acceptNavigationRequest``) is allowed only to the bundle the app opened
(``lesson_policy.may_navigate``); ``createWindow`` gives nothing, so ``window.open`` and
``target=_blank`` open no window. Media attendance is the app's own observation: Qt's
``recentlyAudibleChanged``, or a check that runs in the app's isolated script world (which
the page cannot reach or change) and sees a visible, unmuted video or an unmuted audio element
whose playback position moves. What the page *says* about its media is not used.

Signals:
    refused(str): a navigation or window the page asked for and did not get (shortened).
    media_seen(bool): the app saw the lesson's media start (True) or stop (False).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, QUrl, Signal
from PySide6.QtWebEngineCore import QWebEnginePage, QWebEngineProfile, QWebEngineScript

from companion.ui.lesson_policy import may_navigate

log = logging.getLogger("companion.ui")

MEDIA_CHECK_MS = 1000
APP_WORLD = int(QWebEngineScript.ScriptWorldId.ApplicationWorld.value)
_MEDIA_CHECK = """
(function () {
  var seen = window.__companionMediaSeen || (window.__companionMediaSeen = new WeakMap());
  var playing = false;
  var all = document.querySelectorAll("video, audio");
  for (var i = 0; i < all.length; i += 1) {
    var m = all[i];
    var last = seen.get(m);
    seen.set(m, m.currentTime);
    if (m.paused || m.ended || m.muted || m.volume === 0) continue;
    if (last === undefined || m.currentTime === last) continue;
    if (m.tagName === "VIDEO") {
      var r = m.getBoundingClientRect();
      var style = window.getComputedStyle(m);
      if (r.width < 8 || r.height < 8 || style.visibility !== "visible"
          || Number(style.opacity) === 0 || document.hidden) continue;
    }
    playing = true;
  }
  return playing;
})()
"""
SHORT = 120
# How Chromium's console words what it refused a page.
REFUSAL_WORDS = ("Refused to", "Not allowed to load local resource", "Unsafe attempt")


def shorten(text: str, limit: int = SHORT) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


class LessonPage(QWebEnginePage):
    """A lesson's page, confined to its bundle.

    Signals:
        refused(str): a navigation or window that was refused.
        media_seen(bool): the app's own view of whether the lesson's media plays.
    """

    refused = Signal(str)
    media_seen = Signal(bool)

    def __init__(self, profile: QWebEngineProfile, parent: QObject | None = None) -> None:
        super().__init__(profile, parent)
        self.bundle: str | None = None  # the lesson id the app opened here
        self._audible = False
        self._scripted = False
        self._playing = False
        self.media_timer = QTimer(self)
        self.media_timer.setInterval(MEDIA_CHECK_MS)
        self.media_timer.timeout.connect(self.check_media)
        self.recentlyAudibleChanged.connect(self.on_audible_changed)
        self.loadStarted.connect(self.on_load_started)

    def open_bundle(self, lesson_id: str, url: QUrl) -> None:
        """Show ``url`` of ``lesson_id`` (the only bundle this page may then navigate in)."""
        self.bundle = lesson_id
        self.load(url)
        self.media_timer.start()

    @property
    def media_playing(self) -> bool:
        """The app's own view: audible, or a visible playing video or audio element."""
        return self._playing

    def acceptNavigationRequest(self, url: QUrl | str,
                                navigation_type: QWebEnginePage.NavigationType,
                                is_main_frame: bool) -> bool:
        target = QUrl(url)
        if may_navigate(target.scheme(), target.host(), self.bundle):
            return True
        self._refuse(f"navigation to {target.toString()}")
        return False

    def createWindow(  # type: ignore[override]  # None: no window (Qt's documented answer)
            self, window_type: QWebEnginePage.WebWindowType) -> QWebEnginePage | None:
        self._refuse("a new window")
        return None

    def javaScriptConsoleMessage(self, level: QWebEnginePage.JavaScriptConsoleMessageLevel,
                                 message: str, line: int, source: str) -> None:
        """The page's console goes to the log (debug), never to Qt's message handler; what
        Chromium refused the page (its security policy, local files) is reported too."""
        if message.startswith(REFUSAL_WORDS):
            self._refuse(message)
        else:
            log.debug("lesson console: %s", shorten(message))

    def check_media(self) -> None:
        """Ask the isolated world whether a media element plays; update ``media_playing``."""
        self.runJavaScript(_MEDIA_CHECK, APP_WORLD, self.on_media_checked)

    def on_media_checked(self, result: object) -> None:
        self._scripted = result is True
        self._update_media()

    def on_audible_changed(self, audible: bool) -> None:
        self._audible = bool(audible)
        self._update_media()

    def on_load_started(self) -> None:
        self._scripted = False
        self._update_media()

    def _update_media(self) -> None:
        playing = self._audible or self._scripted
        if playing != self._playing:
            self._playing = playing
            self.media_seen.emit(playing)

    def _refuse(self, what: str) -> None:
        shown = shorten(what)
        log.warning("lesson page: refused %s", shown)
        self.refused.emit(shown)
