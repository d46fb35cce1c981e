"""Web lessons and media lessons in the session window.

A web lesson (``bundle.web``) is a page on hosts the school listed: it gets its own
off-the-record profile whose request interceptor lets through only those hosts
(``HostAllowList``), and a page that refuses to navigate anywhere else or open windows
(``WebLessonPage``): the page stays where it was and the ``LessonBar`` tells the student
why. The web engine reaches the network only through the app's gate (``web_gate``), which
a web lesson opens for its hosts while it runs. A media lesson (``bundle.media``) plays its
file in the app's own media page (``lesson://<lesson>/__companion__/media/player.html``),
which reports playing and stopped through the lesson bridge. Both end with "I'm done" in
the ``LessonBar`` and the lesson's check quiz.

Signals:
    WebLessonPage.navigation_blocked(str): the host a navigation or window was refused for.
    LessonBar.done_requested(): the student pressed "I'm done".
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineProfile,
    QWebEngineUrlRequestInfo,
    QWebEngineUrlRequestInterceptor,
)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from companion.content.web_lesson import host_allowed
from companion.ui import web, web_gate

log = logging.getLogger("companion.ui")

MEDIA_PAGE = "__companion__/media/player.html"
INNER_SCHEMES = frozenset({"data", "blob", "about"})


def _allowed(url: QUrl, hosts: tuple[str, ...]) -> bool:
    scheme = url.scheme()
    if scheme in INNER_SCHEMES:
        return True
    return scheme in ("https", "http") and host_allowed(url.host(), hosts)


class HostAllowList(QWebEngineUrlRequestInterceptor):
    """Lets through requests to the lesson's hosts only; records what it blocked."""

    def __init__(self, hosts: tuple[str, ...], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hosts = hosts
        self.blocked: list[str] = []

    def interceptRequest(self, info: QWebEngineUrlRequestInfo) -> None:
        url = info.requestUrl()
        if not _allowed(url, self.hosts):
            self.blocked.append(url.toString())
            info.block(True)


class WebLessonPage(QWebEnginePage):
    """A web lesson's page: navigation stays on the lesson's hosts, and no new windows.

    Signals:
        navigation_blocked(str): the host (or address) that was refused.
    """

    navigation_blocked = Signal(str)

    def __init__(self, profile: QWebEngineProfile, hosts: tuple[str, ...],
                 parent: QObject | None = None) -> None:
        super().__init__(profile, parent)
        self.hosts = hosts

    def acceptNavigationRequest(self, url: QUrl | str, navigation_type: Any,
                                is_main_frame: bool) -> bool:
        target = QUrl(url) if isinstance(url, str) else url
        if _allowed(target, self.hosts):
            return True
        log.info("web lesson: navigation refused")
        self.navigation_blocked.emit(target.host() or target.scheme())
        return False

    def createWindow(  # type: ignore[override]  # None refuses the window, as Qt allows
        self, _type: QWebEnginePage.WebWindowType
    ) -> QWebEnginePage | None:
        self.navigation_blocked.emit("a new window")
        return None


class WebLesson(QObject):
    """One run of a web lesson: its own off-the-record profile and page, disposed after."""

    def __init__(self, student_id: str, hosts: tuple[str, ...]) -> None:
        super().__init__()
        self.profile: QWebEngineProfile | None = QWebEngineProfile()
        self.profile.setObjectName(f"web-lesson-{student_id}")
        self.profile.setHttpCacheType(QWebEngineProfile.HttpCacheType.MemoryHttpCache)
        self.profile.setPersistentCookiesPolicy(
            QWebEngineProfile.PersistentCookiesPolicy.NoPersistentCookies)
        self.interceptor = HostAllowList(hosts, self.profile)
        self.profile.setUrlRequestInterceptor(self.interceptor)
        self.page: WebLessonPage | None = WebLessonPage(self.profile, hosts)
        # the web engine reaches the network only through the gate: open it for these hosts
        gate = web_gate.current()
        self._gate_ticket = gate.allow(hosts) if gate is not None else None

    def dispose(self) -> None:
        """Close the gate to the lesson's hosts; clear cookies, cache and storage; delete
        the page, then the profile."""
        gate = web_gate.current()
        if gate is not None and self._gate_ticket is not None:
            gate.release(self._gate_ticket)
            self._gate_ticket = None
        page, profile = self.page, self.profile
        self.page = self.profile = None
        web.dispose(page, profile)


class LessonBar(QWidget):
    """A notice and "I'm done" above a web or media lesson.

    Signals:
        done_requested(): the student is done with the lesson.
    """

    done_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lesson_bar")
        self.notice = QLabel("")
        self.notice.setObjectName("lesson_notice")
        self.notice.setAccessibleName("Lesson notice")
        self.notice.setWordWrap(True)
        self.done_button = QPushButton("I'm done")
        self.done_button.setAccessibleName("I'm done with this lesson")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 4, 16, 4)
        layout.addWidget(self.notice, 1)
        layout.addWidget(self.done_button)
        self.done_button.clicked.connect(self.done_requested)
        self.hide()

    def show_for(self, hosts: tuple[str, ...] | None, has_quiz: bool) -> None:
        """Show the bar for a web lesson (its hosts) or a media lesson (None)."""
        where = (f"This lesson stays on {', '.join(hosts)}. " if hosts else "")
        quiz = ("When you are done, press \"I'm done\" for a short check quiz."
                if has_quiz else "This lesson has no check quiz, so it earns 0 XP.")
        self.notice.setText(where + quiz)
        self.show()

    def on_navigation_blocked(self, host: str) -> None:
        self.notice.setText(f"That link leads to {host}, which is not part of this lesson, "
                            "so it was not opened. The lesson stays where it was.")


def media_url(lesson_id: str, media_path: str) -> QUrl:
    """The app's media page playing ``media_path`` (relative to the bundle root)."""
    url = web.lesson_url(lesson_id, MEDIA_PAGE)
    url.setFragment(media_path)
    return url
