"""The small Qt parts: bridge argument checks, the lesson scheme's path rule, the input
filter (time only), the single-instance socket, the sync status words."""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from companion.core.clock import FakeClock
from companion.sync.status import SyncState, SyncStatus, WaitingGroup
from companion.ui.bridge import LessonBridge
from companion.ui.sensing_qt import QtInputSource
from companion.ui.single_instance import SingleInstance
from companion.ui.sync_bridge import describe
from companion.ui.web import lesson_url, resolve


def test_bridge_passes_valid_calls_and_drops_malformed(qtbot: Any) -> None:
    bridge = LessonBridge()
    got: list[tuple[str, bool]] = []
    bridge.answered.connect(lambda item, ok: got.append((item, ok)))
    bridge.answer("q1", True)
    bridge.answer("", True)
    bridge.answer("x" * 500, False)
    bridge.answer("q2", "yes")
    bridge.answer(42, True)
    assert got == [("q1", True)]
    media: list[bool] = []
    bridge.media_changed.connect(media.append)
    bridge.media(True)
    bridge.media("no")
    assert media == [True]


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
    source.install(qapp)
    try:
        edit = QLineEdit()
        qtbot.addWidget(edit)
        clock.advance(1_500)
        QApplication.sendEvent(edit, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_A,
                                               Qt.KeyboardModifier.NoModifier, "a"))
        assert source.last_input_ms() == 6_500
        clock.advance(700)
        QApplication.sendEvent(edit, QMouseEvent(
            QEvent.Type.MouseMove, QPointF(3, 4), QPointF(3, 4), Qt.MouseButton.NoButton,
            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
        assert source.last_input_ms() == 7_200
        clock.advance(700)
        QApplication.sendEvent(edit, QEvent(QEvent.Type.Show))  # not input
        assert source.last_input_ms() == 7_200
        # nothing but one integer is kept
        assert {k: type(v) for k, v in vars(source).items() if not k.startswith("_filter")} \
            == {"_clock": FakeClock, "_last_ms": int, "_installed": bool}
    finally:
        source.remove(qapp)
    assert not source.available()


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
