"""Opening one lesson offscreen for ``companion preview``: what the page did in N seconds.

The lesson is loaded exactly as the session window loads it (the sealed per-student
profile, the ``lesson:`` scheme, the bridge scripts) but nothing is recorded: answers,
media and completion are only counted. A SCORM package's lesson is watched by
``companion.ui.scorm_preview``. The preview ends after ``seconds``, or earlier when the
lesson completes (``complete()``, or the package finishing). A web lesson is loaded in its
own profile limited to its hosts, a media lesson in the app's media page.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QEventLoop, QTimer, QUrl
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import QWebEnginePage
from shiboken6 import Shiboken

from companion.content import bridge_script_path
from companion.ui import web
from companion.ui.bridge import LessonBridge
from companion.ui.lesson_page import LessonPage
from companion.ui.scorm_preview import PREVIEW_STUDENT, ScormWatch
from companion.ui.web_lesson import WebLesson, media_url

LOAD_TIMEOUT_MS = 30_000


def preview_page(bundle: Any, seconds: float) -> dict[str, Any]:
    """Load ``bundle``'s page, let it run, and report (the keys of ``PreviewReport``)."""
    answers: list[dict[str, Any]] = []
    calls = [0]
    completion: list[str] = []
    bridge = LessonBridge()
    channel = QWebChannel()
    channel.registerObject("companion", bridge)
    scorm = ScormWatch(channel) if bundle.scorm is not None else None
    roots = {bundle.lesson.id: bundle.root}
    web_lesson = WebLesson(PREVIEW_STUDENT, bundle.web.hosts) if bundle.web else None
    profile = web.make_profile(PREVIEW_STUDENT, roots.get,
                               bridge_script_path().read_text(encoding="utf-8"))
    sealed = LessonPage(profile)  # confined to the bundle, as in the session window
    page_refused: list[str] = []
    sealed.refused.connect(page_refused.append)
    page: QWebEnginePage = sealed
    navigation_refused: list[str] = []
    if web_lesson is not None:
        assert web_lesson.page is not None
        page = web_lesson.page
        web_lesson.page.navigation_blocked.connect(navigation_refused.append)
    else:
        web.attach_channel(page, channel)  # never for a page from the web
    loop = QEventLoop()
    loaded: list[bool] = []

    def on_answer(item: str, correct: bool, _scored_by: str = "content") -> None:
        calls[0] += 1
        answers.append({"item": item, "correct": correct})

    def on_complete() -> None:
        calls[0] += 1
        completion.append("completed")
        loop.quit()

    def on_media(_playing: bool) -> None:
        calls[0] += 1

    bridge.answered.connect(on_answer)
    bridge.completed.connect(on_complete)
    bridge.media_reported.connect(on_media)
    page.loadFinished.connect(loaded.append)
    profile.handler.allow_opened(bundle.lesson.id)  # the one bundle this page may reach
    if scorm is not None:
        scorm.finished.connect(loop.quit)
        url = scorm.open(bundle)
    elif bundle.web is not None:
        url = QUrl(bundle.web.url)
    elif bundle.media is not None:
        url = media_url(bundle.lesson.id, bundle.media.relative_to(bundle.root).as_posix())
    else:
        entry = bundle.entry.relative_to(bundle.root).as_posix()
        url = web.lesson_url(bundle.lesson.id, entry)
    page.loadFinished.connect(lambda _ok: QTimer.singleShot(int(seconds * 1000), loop.quit))
    timeout = QTimer()
    timeout.setSingleShot(True)
    timeout.timeout.connect(loop.quit)
    timeout.start(LOAD_TIMEOUT_MS + int(seconds * 1000))
    if page is sealed:
        sealed.open_bundle(bundle.lesson.id, url)
    else:
        page.load(url)
    loop.exec()
    timeout.stop()
    connected = _evaluate(page, "!!(window.companion && window.companion.ready)")
    blocker = web.network_blocker(profile)
    refused = list(blocker.blocked) if blocker is not None else []
    refused += [refused_url(message) for message in page_refused]
    if web_lesson is not None:
        refused += [*web_lesson.interceptor.blocked, *navigation_refused]
    report: dict[str, Any] = {
        "loaded": bool(loaded and loaded[0]),
        "initialized": bool(connected),
        "api": None,
        "calls": calls[0],
        "completion": completion[-1] if completion else None,
        "success": None,
        "score": None,
        "answers": answers,
        "refused": refused,
    }
    if scorm is not None:
        report.update(scorm.report())
    if web_lesson is not None:
        web_lesson.dispose()
    Shiboken.delete(sealed)  # the page goes before its profile
    web.clear_profile(profile)
    Shiboken.delete(profile)
    return report


_REFUSED_URL = re.compile(r"^Refused to [a-z ]+? '([^']+)'")


def refused_url(message: str) -> str:
    """The address in a refusal the page reported (Chromium's "Refused to connect to
    'https://…' because …"), else the message itself."""
    found = _REFUSED_URL.match(message)
    return found.group(1) if found else message


def _evaluate(page: QWebEnginePage, code: str) -> Any:
    out: list[Any] = []
    loop = QEventLoop()

    def got(value: Any) -> None:
        out.append(value)
        loop.quit()

    page.runJavaScript(code, 0, got)
    if not out:
        QTimer.singleShot(5000, loop.quit)
        loop.exec()
    return out[0] if out else None
