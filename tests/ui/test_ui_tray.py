"""The tray's menu without a system tray (offscreen has none): the sync state in words, and
open / sync now / guide view / quit acting on the real window."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox, QSystemTrayIcon

from companion.sync.status import SyncState, SyncStatus
from companion.ui import tray as tray_module
from companion.ui.tray import Tray, status_text
from tests.ui.conftest import ANSWER_TIMEOUT_MS, Harness


class Answers:
    """A stand-in for the "Quit?" question: records that it was asked, answers ``yes``."""

    def __init__(self, yes: bool) -> None:
        self.yes = yes
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.yes


def make_tray(qtbot: Any, parent: Any = None, **kwargs: Any) -> Tray:
    """A tray whose menu (a top-level widget) is closed and deleted after the test."""
    tray = Tray(parent, **kwargs)
    qtbot.addWidget(tray.menu)
    return tray


@pytest.mark.parametrize(("status", "words"), [
    (SyncStatus(), "Up to date"),
    (SyncStatus(state=SyncState.SENDING, pending=3, in_flight=2), "5 pending"),
    (SyncStatus(state=SyncState.WAITING, pending=1), "1 pending"),
    (SyncStatus(state=SyncState.OFFLINE), "Offline"),
    (SyncStatus(state=SyncState.OFFLINE, pending=4), "Offline, 4 waiting"),
    (SyncStatus(state=SyncState.ERROR, reason="HTTP 403: forbidden"),
     "Sync problem: HTTP 403: forbidden"),
    (SyncStatus(state=SyncState.STOPPED, reason="no credentials"),
     "Sync problem: no credentials"),
    (SyncStatus(state=SyncState.ERROR, pending=2), "Sync problem"),
])
def test_sync_state_in_words(qtbot: Any, status: SyncStatus, words: str) -> None:
    tray = make_tray(qtbot)
    assert status_text(status) == words
    tray.on_sync_status(status)
    assert tray.status_action.text() == f"Sync: {words}"
    assert not tray.status_action.isEnabled()  # a line to read, not a command
    assert tray.tooltip() == f"Timeback Companion: {words}"


def test_menu_lists_the_state_then_the_actions(qtbot: Any) -> None:
    tray = make_tray(qtbot)
    texts = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    assert texts == ["Sync: Up to date", "Open", "Sync now", "Guide view", "Set up…",
                     "About Timeback Companion", "Quit"]
    assert tray.menu.accessibleName()
    assert tray.icon is None  # nothing shown until show_icon()


def test_create_needs_a_system_tray(qtbot: Any) -> None:
    made = Tray.create()
    assert (made is None) == (not QSystemTrayIcon.isSystemTrayAvailable())
    if made is not None:
        qtbot.addWidget(made.menu)


@pytest.fixture
def attached(qtbot: Any, harness: Harness) -> tuple[Tray, Answers, list[str]]:
    quits: list[str] = []
    answers = Answers(yes=False)
    tray = make_tray(qtbot, harness.shell, confirm_quit=answers)
    tray.attach(harness.window, lambda: quits.append("quit"))
    return tray, answers, quits


def test_open_brings_the_window_forward(qtbot: Any, harness: Harness,
                                        attached: tuple[Tray, Answers, list[str]]) -> None:
    tray, _answers, _quits = attached
    w = harness.window
    w.showMinimized()
    qtbot.waitUntil(w.isMinimized)
    with qtbot.waitSignal(tray.open_requested):
        tray.open_action.trigger()
    assert w.isVisible() and not w.isMinimized()


def test_sync_now_wakes_the_worker(qtbot: Any, harness: Harness,
                                   attached: tuple[Tray, Answers, list[str]]) -> None:
    tray, _answers, _quits = attached
    worker = harness.shell.runtime.worker
    assert worker is not None
    worker._wake.clear()
    tray.sync_action.trigger()
    assert worker._wake.is_set()


def test_guide_view_opens_the_guide_sign_in(qtbot: Any, harness: Harness,
                                            attached: tuple[Tray, Answers, list[str]]) -> None:
    tray, _answers, _quits = attached
    w = harness.window
    with qtbot.waitSignal(w.signin.names_shown, timeout=ANSWER_TIMEOUT_MS):
        tray.guide_action.trigger()
    assert w.stack.currentWidget() is w.signin
    assert w.signin.stack.currentIndex() == 1
    assert w.signin.names_title.text() == "Which guide are you?"
    assert [b.text() for b in w.signin.name_buttons()]


def test_quit_asks_first(qtbot: Any, harness: Harness,
                         attached: tuple[Tray, Answers, list[str]]) -> None:
    tray, answers, quits = attached
    with qtbot.assertNotEmitted(tray.quit_requested):
        tray.quit_action.trigger()
    assert (answers.asked, quits) == (1, [])  # "No": still running
    answers.yes = True
    with qtbot.waitSignal(tray.quit_requested):
        tray.quit_action.trigger()
    assert (answers.asked, quits) == (2, ["quit"])


def test_the_quit_question_says_what_happens(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def question(_parent: Any, _title: str, text: str) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.No

    monkeypatch.setattr(QMessageBox, "question", question)
    assert tray_module.ask_to_quit() is False
    assert asked and "open ends as not finished" in asked[0]
