"""The small Qt parts: bridge argument checks, the lesson scheme's path rule, the input
filter (time only), the single-instance socket, the sync status words."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QMetaMethod, QPoint, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit

from companion.core.answer_key import parse_answer_key
from companion.core.clock import FakeClock
from companion.sync.status import SyncState, SyncStatus, WaitingGroup
from companion.ui.bridge import SURFACE, LessonBridge
from companion.ui.sensing_qt import QtInputSource
from companion.ui.single_instance import SingleInstance
from companion.ui.sync_bridge import describe
from companion.ui.web import lesson_url, resolve


def test_bridge_passes_valid_calls_and_drops_malformed(qtbot: Any) -> None:
    now = [10_000]
    bridge = LessonBridge(clock=lambda: now[0])
    got: list[tuple[str, bool, str]] = []
    refused: list[str] = []
    bridge.answered.connect(lambda item, ok, by: got.append((item, ok, by)))
    bridge.refused.connect(refused.append)
    assert bridge.answer("q1", True) == {"counted": True, "correct": True, "reason": ""}
    now[0] += 1_000
    for item, response in (("", True), ("x" * 500, False), ("q2", "yes"), (42, True)):
        assert bridge.answer(item, response)["counted"] is False
    assert bridge.answer("q1", False)["reason"] == "the item was answered already"
    assert got == [("q1", True, "content")]
    assert len(refused) == 5 and all(len(text) < 200 for text in refused)
    assert bridge.calls == 6
    media: list[bool] = []
    bridge.media_reported.connect(media.append)
    bridge.media(True)
    bridge.media("no")
    assert media == [True]


def test_bridge_scores_against_the_key_and_keeps_the_pace(qtbot: Any) -> None:
    now = [0]
    bridge = LessonBridge(clock=lambda: now[0])
    bridge.use_lesson(parse_answer_key({"q1": ["12"], "q2": ["b"], "q3": ["c"]}), 1.0)
    got: list[tuple[str, bool, str]] = []
    bridge.answered.connect(lambda item, ok, by: got.append((item, ok, by)))
    assert bridge.answer("q1", "12.0") == {"counted": True, "correct": True, "reason": ""}
    now[0] += 999
    too_soon = bridge.answer("q2", "b")
    assert too_soon["counted"] is False and "sooner" in too_soon["reason"]
    now[0] += 1
    assert bridge.answer("q2", "a") == {"counted": True, "correct": False, "reason": ""}
    now[0] += 5_000
    assert bridge.answer("q9", "x")["reason"] == "the item is not in the lesson's key"
    assert bridge.answer("q3", True)["counted"] is False  # the page may not score itself
    assert bridge.answer("q3", "x" * 5_000_000)["counted"] is False
    assert got == [("q1", True, "app"), ("q2", False, "app")]


def test_a_flood_of_huge_refused_calls_logs_one_short_line(
        qtbot: Any, caplog: pytest.LogCaptureFixture) -> None:
    bridge = LessonBridge(clock=lambda: 0)
    refused: list[str] = []
    bridge.refused.connect(refused.append)
    caplog.set_level(logging.WARNING, logger="companion.ui")
    for _ in range(50):
        bridge.answer("x" * 5_000_000, True)
        bridge.media("y" * 5_000_000)
    lines = [r.getMessage() for r in caplog.records if r.name == "companion.ui"]
    assert len(lines) == 2 and all(len(line) < 200 for line in lines)
    assert len(refused) == 100 and all(len(text) < 200 for text in refused)


def test_the_bridge_offers_the_page_exactly_three_calls(qtbot: Any) -> None:
    meta = LessonBridge().metaObject()
    own = {bytes(meta.method(i).name().data()).decode()
           for i in range(meta.methodOffset(), meta.methodCount())
           if meta.method(i).methodType() in (QMetaMethod.MethodType.Slot,
                                              QMetaMethod.MethodType.Method)}
    assert own == set(SURFACE) == {"answer", "media", "complete"}


def test_lesson_paths_stay_inside_the_bundle(tmp_path: Path) -> None:
    root = tmp_path / "bundle"
    (root / "img").mkdir(parents=True)
    (root / "index.html").write_text("<p>hi</p>")
    (root / "img" / "a.png").write_bytes(b"png")
    (tmp_path / "secret.txt").write_text("no")
    assert resolve(root, "/index.html") == (root / "index.html").resolve()
    assert resolve(root, "/img/a.png") == (root / "img" / "a.png").resolve()
    assert resolve(root, "/../secret.txt") is None
    assert resolve(root, "/img/../../secret.txt") is None
    assert resolve(root, "/missing.html") is None
    assert resolve(root, "/img") is None  # a folder is not a file
    assert lesson_url("demo-1", "index.html").toString() == "lesson://demo-1/index.html"


def test_input_filter_keeps_only_the_time(qtbot: Any, qapp: QApplication) -> None:
    clock = FakeClock(monotonic_ms=5_000)
    source = QtInputSource(clock)
    assert source.last_input_ms() is None and not source.available()
    edit = QLineEdit()
    qtbot.addWidget(edit)
    edit.show()
    qtbot.waitExposed(edit)
    source.install(qapp)
    try:
        window = edit.windowHandle()
        assert window is not None
        clock.advance(1_500)
        # through the platform's input path, as real input arrives at the window
        QTest.keyClick(window, Qt.Key.Key_A)
        assert source.last_input_ms() == 6_500
        assert edit.text() == "a"  # the filter never consumes input
        clock.advance(700)
        QTest.mouseClick(window, Qt.MouseButton.LeftButton, pos=QPoint(3, 4))
        assert source.last_input_ms() == 7_200
        clock.advance(700)
        QApplication.sendEvent(window, QEvent(QEvent.Type.Show))  # not input
        assert source.last_input_ms() == 7_200
        # an event sent straight to a widget is not platform input and is not watched:
        # the filter is on the windows, never application-wide
        clock.advance(100)
        QApplication.sendEvent(edit, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_B,
                                               Qt.KeyboardModifier.NoModifier, "b"))
        assert source.last_input_ms() == 7_200
        # nothing but one integer is kept
        assert {k: type(v) for k, v in vars(source).items() if not k.startswith("_filter")} \
            == {"_clock": FakeClock, "_last_ms": int, "_app": type(qapp)}
    finally:
        source.remove(qapp)
    assert not source.available()


def test_input_filter_watches_windows_opened_later(qtbot: Any, qapp: QApplication) -> None:
    clock = FakeClock(monotonic_ms=1_000)
    source = QtInputSource(clock)
    source.install(qapp)
    try:
        later = QLineEdit()
        qtbot.addWidget(later)
        later.show()
        qtbot.waitExposed(later)
        later.activateWindow()
        window = later.windowHandle()
        assert window is not None
        source.watch(window)  # what focusWindowChanged does when it takes the focus
        clock.advance(250)
        QTest.keyClick(window, Qt.Key.Key_C)
        assert source.last_input_ms() == 1_250
    finally:
        source.remove(qapp)


def test_second_instance_wakes_the_first(qtbot: Any) -> None:
    name = f"companion-test-{uuid.uuid4().hex[:8]}"
    first = SingleInstance(name)
    assert first.acquire()
    try:
        second = SingleInstance(name)
        with qtbot.waitSignal(first.activated, timeout=5_000):
            assert not second.acquire()
    finally:
        first.close()


def test_sync_status_words() -> None:
    assert describe(SyncStatus()) == "Up to date"
    assert describe(SyncStatus(state=SyncState.SENDING, pending=3, in_flight=2)) == "5 pending"
    assert describe(SyncStatus(state=SyncState.OFFLINE, pending=4)) == "Offline, 4 waiting"
    assert describe(SyncStatus(state=SyncState.ERROR, reason="403")) == "Sync problem: 403"
    assert describe(SyncStatus(state=SyncState.ERROR, pending=2)) == "Sync problem"
    noah = WaitingGroup("run", "held", 2, "no email in the roster for Noah Smith")
    waiting = SyncStatus(state=SyncState.WAITING, held=2, waiting=(noah,))
    assert describe(waiting) == "2 waiting: no email in the roster for Noah Smith"
    assert describe(replace(waiting, sync_now_running=True, sent=5)) == "Syncing now… 5 sent"


def test_single_instance_hands_a_link_to_the_running_one(qtbot: Any) -> None:
    name = f"companion-test-{uuid.uuid4().hex[:12]}"
    first = SingleInstance(name)
    assert first.acquire()
    link = "timeback-companion://open?lesson=demo-math-drill"
    try:
        second = SingleInstance(name)
        with qtbot.waitSignal(first.url_received, timeout=5_000) as got, \
                qtbot.waitSignal(first.activated, timeout=5_000):
            assert not second.acquire([link, "bad\nline"])
        assert got.args == [link]
    finally:
        first.close()


def test_sync_status_bridge_throttles_and_delivers_the_last_status(qtbot: Any) -> None:
    import threading

    from companion.sync.status import StatusBoard
    from companion.ui.sync_bridge import SyncStatusBridge

    board = StatusBoard()
    bridge = SyncStatusBridge(board, min_interval_ms=200)
    got: list[SyncStatus] = []
    bridge.changed.connect(got.append)
    try:
        def work() -> None:
            for i in range(1, 2001):
                board.update(pending=2000 - i, sent=i)

        worker = threading.Thread(target=work)
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: bool(got) and got[-1].sent == 2000, timeout=5_000)
        assert len(got) <= 5  # 2,000 changes, a handful of UI updates
        assert got[-1].pending == 0
    finally:
        bridge.close()
