"""Hostile lesson bundles on the real Qt WebEngine: a page reaches only its own bundle.

The hostile page tries every channel at once (``tests/ui/hostile.py``) against a loopback
listener that records every TCP request and UDP datagram; canary files outside the bundle
(and another lesson's bundle) hold a secret. Passing means zero hits and the secret seen
nowhere: not at the listener, not through the bridge, not in what the page could read.

Each defence is tested on its own too, with the others taken away (a plain page, no
interceptor, a scheme handler that serves anything to anyone, like the one before, the
app's network gate opened to loopback), and a control run with all of them taken away shows
that the listener does see such a page.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QByteArray, QFile, QIODevice, QObject
from PySide6.QtWebChannel import QWebChannel
from PySide6.QtWebEngineCore import (
    QWebEnginePage,
    QWebEngineSettings,
    QWebEngineUrlRequestJob,
    QWebEngineUrlSchemeHandler,
)
from PySide6.QtWebEngineWidgets import QWebEngineView
from shiboken6 import Shiboken

from companion.content import bridge_script_path
from companion.ui import web_gate
from companion.ui.bridge import LessonBridge
from companion.ui.lesson_page import LessonPage
from companion.ui.lesson_policy import CONTENT_SECURITY_POLICY
from companion.ui.web import (
    APP_WORLD,
    NetworkBlocker,
    SealedProfile,
    attach_channel,
    lesson_url,
    make_profile,
    resolve,
)
from tests.ui.hostile import HOSTILE, NAVIGATE, OTHER, SECRET, Listener, write_bundles

# Channels a Content-Security-Policy governs (a frame's own navigation is not among them).
CSP_CHANNELS = {"fetch", "xhr", "img", "css-link", "css-import", "css-url", "css-font",
                "beacon", "websocket", "eventsource", "iframe", "prefetch", "preload",
                "form", "media", "script", "blob-worker", "data-worker", "sw"}

# A script-made about:blank frame gets none of the app's scripts, so its RTCPeerConnection
# is there; only the gate keeps its TURN over TCP from the listener.
BLANK_FRAME_WEBRTC = "webrtc-blank-frame"


class OpenHandler(QWebEngineUrlSchemeHandler):
    """The unsafe handler the app had: any bundle to any page, with ``csp`` if given."""

    def __init__(self, roots: dict[str, Path], csp: str, parent: QObject) -> None:
        super().__init__(parent)
        self.roots = roots
        self.csp = csp

    def requestStarted(self, job: QWebEngineUrlRequestJob) -> None:
        url = job.requestUrl()
        root = self.roots.get(url.host())
        target = None if root is None else resolve(root, url.path())
        if target is None:
            job.fail(QWebEngineUrlRequestJob.Error.UrlNotFound)
            return
        file = QFile(str(target), job)
        file.open(QIODevice.OpenModeFlag.ReadOnly)
        if self.csp:
            job.setAdditionalResponseHeaders(
                {QByteArray(b"Content-Security-Policy"): [QByteArray(self.csp.encode())]})
        job.reply(QByteArray(b"text/html" if target.suffix == ".html" else b"text/javascript"),
                  file)


class PlainPage(QWebEnginePage):
    """A page with no rules of its own (its console kept out of Qt's messages)."""

    def javaScriptConsoleMessage(self, level: Any, message: str, line: int,
                                 source: str) -> None:
        pass


class Rig:
    """A profile, a page in a view, the bridge on its channel; layers chosen per test."""

    def __init__(self, qtbot: Any, roots: dict[str, Path], *, interceptor: bool = True,
                 handler: str = "sealed", page: str = "sealed", gate: bool = True) -> None:
        self.qtbot = qtbot
        running = web_gate.current()
        assert running is not None  # prepare_qt started it
        self.gate = running
        # without the gate layer, the gate lets the page through to the loopback listener
        self.gate_ticket = None if gate else running.allow(("127.0.0.1",))
        self.profile: SealedProfile = make_profile(
            "student-1", roots.get, bridge_script_path().read_text(encoding="utf-8"))
        if not interceptor:
            self.profile.setUrlRequestInterceptor(None)
        if handler != "sealed":
            self.profile.removeUrlSchemeHandler(self.profile.handler)
            csp = CONTENT_SECURITY_POLICY if handler == "open+csp" else ""
            self.open_handler = OpenHandler(roots, csp, self.profile)
            self.profile.installUrlSchemeHandler(QByteArray(b"lesson"), self.open_handler)
        self.page: QWebEnginePage = (LessonPage(self.profile) if page == "sealed"
                                     else PlainPage(self.profile))
        self.refused: list[str] = []
        if isinstance(self.page, LessonPage):
            self.page.refused.connect(self.refused.append)
        self.bridge = LessonBridge()
        self.said: list[tuple[str, bool]] = []
        self.bridge.answered.connect(lambda item, ok, _by: self.said.append((item, ok)))
        self.channel = QWebChannel()
        self.channel.registerObject("companion", self.bridge)
        attach_channel(self.page, self.channel)
        self.view = QWebEngineView()
        self.view.setPage(self.page)
        qtbot.addWidget(self.view)

    def open(self, lesson_id: str, entry: str = "index.html") -> None:
        path, _, fragment = entry.partition("#")
        url = lesson_url(lesson_id, path)
        url.setFragment(fragment)
        self.profile.handler.allow_opened(lesson_id)
        if isinstance(self.page, LessonPage):
            self.page.open_bundle(lesson_id, url)
        else:
            self.page.load(url)

    def run_hostile(self, which: str = "") -> dict[str, str]:
        """Open the hostile bundle; what the page reported once every attempt settled
        (``which``: ``only=a,b`` or ``skip=a,b`` of its attempts)."""
        with self.qtbot.waitSignal(self.page.titleChanged, timeout=30_000,
                                   check_params_cb=lambda t: t.startswith("done:")) as done:
            self.open(HOSTILE, f"index.html#{which}")
        report: dict[str, str] = json.loads(done.args[0][len("done:"):])
        return report

    def close(self) -> None:
        if self.gate_ticket is not None:
            self.gate.release(self.gate_ticket)
        self.view.setPage(None)  # type: ignore[arg-type]
        Shiboken.delete(self.page)
        Shiboken.delete(self.profile)


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@pytest.fixture
def roots(tmp_path: Path, listener: Listener) -> dict[str, Path]:
    return write_bundles(tmp_path, listener)


@pytest.fixture
def rig_for(qtbot: Any, roots: dict[str, Path]) -> Iterator[Any]:
    made: list[Rig] = []

    def make(**layers: Any) -> Rig:
        rig = Rig(qtbot, roots, **layers)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        rig.close()


def no_secret(rig: Rig, report: dict[str, str], listener: Listener) -> None:
    assert SECRET not in json.dumps(report)
    assert all(SECRET not in item for item, _ in rig.said)
    assert SECRET.encode() not in listener.hits.everything()


def test_a_sealed_page_reaches_nothing_but_its_own_bundle(
        rig_for: Any, listener: Listener) -> None:
    rig = rig_for()
    report = rig.run_hostile()
    assert listener.hits.channels() == set()
    no_secret(rig, report, listener)
    # the bundle's own scripts and files still work, and so does the bridge
    assert report["ownInline"] == "true" and report["ownFile"] == "true"
    assert report["own-fetch"] == '{"own": "data"}'
    assert report["bridge"] == "answer,complete,media"
    assert report["channel"].startswith("undefined,undefined")  # the app's world is apart
    assert "lesson.json" in " ".join(rig.profile.handler.refused)
    assert len(rig.said) == 1
    assert rig.bridge.calls == 1 and Shiboken.isValid(rig.bridge)
    assert report["window-open"] == "null"
    assert report["service-worker"] in {"unavailable"} or report["service-worker"].startswith(
        "failed")
    assert any("Content Security Policy" in line for line in rig.refused)


def test_the_interceptor_stays_alive_with_its_profile(qtbot: Any, roots: dict[str, Path]) -> None:
    import gc

    profile = make_profile("student-1", roots.get, "")
    gc.collect()
    try:
        assert isinstance(profile.findChild(NetworkBlocker), NetworkBlocker)
        assert profile.findChild(NetworkBlocker) is profile.interceptor
    finally:
        Shiboken.delete(profile)


def test_the_interceptor_alone_blocks_every_channel(rig_for: Any, listener: Listener) -> None:
    rig = rig_for(handler="open", page="plain", gate=False)
    report = rig.run_hostile("skip=lesson-json,webrtc-blank-frame")  # the open handler serves it
    assert listener.hits.channels() == set()
    no_secret(rig, report, listener)
    blocked = " ".join(rig.profile.interceptor.blocked)
    assert f"127.0.0.1:{listener.port}/c/fetch" in blocked
    assert f"lesson://{OTHER}/secret.html" in blocked


def test_the_content_security_policy_alone_blocks_what_it_governs(
        rig_for: Any, listener: Listener) -> None:
    rig = rig_for(interceptor=False, handler="open+csp", page="plain", gate=False)
    report = rig.run_hostile()
    assert listener.hits.channels() & CSP_CHANNELS == set()
    assert SECRET not in report["other-fetch"] + report["other-frame"] + report["other-script"]
    assert report["ownInline"] == "true" and report["ownFile"] == "true"


def test_the_scheme_handler_alone_serves_a_bundle_only_to_its_own_pages(
        rig_for: Any, listener: Listener) -> None:
    rig = rig_for(interceptor=False, page="plain", gate=False)
    rig.profile.handler.csp = ""
    report = rig.run_hostile()
    for name in ("other-fetch", "other-xhr", "other-frame", "other-script", "dotdot",
                 "dotdot-encoded", "symlink"):
        assert SECRET not in report[name], name
    refused = " ".join(rig.profile.handler.refused)
    assert f"lesson://{OTHER}/secret.html" in refused
    assert report["own-fetch"] == '{"own": "data"}'


def test_without_any_defence_the_listener_sees_the_page(rig_for: Any, listener: Listener) -> None:
    """The control: the same page with the defences taken away reaches the listener, so the
    tests above can fail."""
    rig = rig_for(interceptor=False, handler="open", page="plain", gate=False)
    scripts = rig.profile.scripts()
    for script in scripts.find("companion-no-webrtc"):
        scripts.remove(script)
    report = rig.run_hostile()
    reached = listener.hits.channels()
    assert {"fetch", "xhr", "img", "beacon", "websocket", "eventsource", "iframe", "form",
            "css-link", "prefetch", "script", "media", "(not http)"} <= reached
    assert SECRET in report["other-fetch"]
    assert "udp" not in reached  # Chromium's policy (CHROMIUM_FLAGS) still holds


def test_lesson_pages_have_no_webrtc(rig_for: Any, listener: Listener) -> None:
    rig = rig_for(interceptor=False, handler="open", page="plain", gate=False)
    report = rig.run_hostile("only=webrtc,webrtc-srcdoc-frame")
    assert report["webrtc"] == "failed ReferenceError: RTCPeerConnection is not defined"
    assert report["webrtc-srcdoc-frame"] == "no RTCPeerConnection"
    assert listener.hits.channels() == set()


@pytest.mark.parametrize("how", ["location", "form", "other", "file"])
def test_the_page_alone_stays_in_its_bundle(rig_for: Any, listener: Listener, how: str) -> None:
    rig = rig_for(interceptor=False, handler="open", page="sealed", gate=False)
    with rig.qtbot.waitSignal(rig.page.refused, timeout=20_000):
        rig.open(NAVIGATE, f"index.html#{how}")
    assert listener.hits.channels() == set()
    assert rig.page.url().host() == NAVIGATE
    assert any(word in rig.refused[0] for word in ("127.0.0.1", OTHER, "file:"))


@pytest.mark.parametrize("how", ["location", "form"])
def test_navigating_away_is_blocked_by_every_layer(
        rig_for: Any, listener: Listener, how: str) -> None:
    rig = rig_for(page="sealed")
    with rig.qtbot.waitSignal(rig.page.refused, timeout=20_000):
        rig.open(NAVIGATE, f"index.html#{how}")
    assert listener.hits.channels() == set()


def test_webrtc_from_a_blank_frame_reaches_nothing(rig_for: Any, listener: Listener) -> None:
    rig = rig_for()
    rig.run_hostile(f"only={BLANK_FRAME_WEBRTC}")
    assert listener.hits.channels() == set()


def test_without_the_gate_a_blank_frame_reaches_a_turn_server(
        rig_for: Any, listener: Listener) -> None:
    """The control for the test above: every other layer in place, the gate opened."""
    rig = rig_for(gate=False)
    report = rig.run_hostile(f"only={BLANK_FRAME_WEBRTC}")
    assert report[BLANK_FRAME_WEBRTC] == "offered"
    assert listener.hits.channels() == {"(not http)"}


def test_the_gate_alone_blocks_every_channel(rig_for: Any, listener: Listener) -> None:
    rig = rig_for(interceptor=False, handler="open", page="plain")
    scripts = rig.profile.scripts()
    for script in scripts.find("companion-no-webrtc"):
        scripts.remove(script)
    report = rig.run_hostile("skip=lesson-json")
    assert listener.hits.channels() == set()
    assert SECRET not in json.dumps(
        {k: v for k, v in report.items() if not k.startswith("other-")})
    assert f"127.0.0.1:{listener.port}" in " ".join(rig.gate.refused)
    assert report["webrtc"].startswith("gathered")  # WebRTC ran, and reached nothing


MEDIA_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>m</title></head><body>
<audio id="a" src="bees.ogg"></audio><script src="m.js"></script></body></html>"""
MEDIA_SCRIPT = """
window.companion.media(true);  // the page's word, with nothing playing
document.title = "said";
window.playNow = function () { document.getElementById("a").play(); };
"""


def test_media_counts_only_when_the_app_sees_it_play(
        rig_for: Any, roots: dict[str, Path], qtbot: Any) -> None:
    from companion.content import demo_lessons_path

    folder = roots[HOSTILE].parent / "media-lesson"
    folder.mkdir()
    (folder / "index.html").write_text(MEDIA_PAGE)
    (folder / "m.js").write_text(MEDIA_SCRIPT)
    ogg = demo_lessons_path() / "demo-course-1" / "3-listening" / "bees.ogg"
    (folder / "bees.ogg").write_bytes(ogg.read_bytes())
    roots["media-lesson"] = folder
    rig = rig_for()
    rig.profile.settings().setAttribute(
        QWebEngineSettings.WebAttribute.PlaybackRequiresUserGesture, False)
    page = rig.page
    assert isinstance(page, LessonPage)
    said: list[bool] = []
    rig.bridge.media_reported.connect(said.append)
    seen: list[bool] = []
    page.media_seen.connect(seen.append)
    with qtbot.waitSignal(rig.bridge.media_reported, timeout=20_000):
        rig.open("media-lesson")
    for _ in range(3):  # the app looks for itself: nothing plays
        with qtbot.waitCallback() as checked:
            page.runJavaScript("1", APP_WORLD, checked)
        page.check_media()
    with qtbot.waitCallback() as checked:
        page.runJavaScript("1", APP_WORLD, checked)
    assert said == [True] and seen == [] and not page.media_playing
    with qtbot.waitSignal(page.media_seen, timeout=20_000) as playing:
        page.runJavaScript("window.playNow(); 1")
    assert playing.args == [True] and page.media_playing
    with qtbot.waitSignal(page.media_seen, timeout=20_000) as stopped:
        page.runJavaScript("document.getElementById('a').pause(); 1")
    assert stopped.args == [False]


def test_files_over_the_limit_are_not_served(rig_for: Any, listener: Listener) -> None:
    rig = rig_for()
    rig.profile.handler.max_bytes = 100_000  # the page is smaller, big.txt is not
    report = rig.run_hostile("only=own-fetch,big-fetch")
    assert report["own-fetch"] == '{"own": "data"}'
    assert report["big-fetch"] != "200000"  # refused (the fetch fails or never answers)
    assert any("big.txt" in url for url in rig.profile.handler.refused)
