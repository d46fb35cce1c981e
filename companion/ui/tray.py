"""The tray icon: the sync state in its menu and tooltip, and open / sync now / guide view /
set up / quit.

The menu, its actions and the status text live on ``Tray`` itself; the system tray icon is
added only by ``show_icon`` (``Tray.create`` does so where the system has a tray and
returns None where it has none), so the menu works and can be tested without a tray.
"Quit" asks first (``confirm_quit``) and only then emits ``quit_requested``.

Signals:
    open_requested(), sync_requested(), guide_requested(), setup_requested(), quit_requested()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox, QStyle, QSystemTrayIcon

from companion.ui.sync_bridge import describe

APP_NAME = "Timeback Companion"
QUIT_QUESTION = "Quit Timeback Companion? A lesson that is still open ends as not finished."


def status_text(status: Any) -> str:
    """The sync state in words for the tray: up to date, N pending, offline, or the problem."""
    return str(describe(status))


def ask_to_quit() -> bool:
    """Ask the person at the computer whether to quit (a modal question)."""
    answer = QMessageBox.question(None, APP_NAME, QUIT_QUESTION)
    return answer == QMessageBox.StandardButton.Yes


class Tray(QObject):
    """The tray menu (and, where the system has a tray, its icon).

    Signals:
        open_requested(): show the window.
        sync_requested(): sync now.
        guide_requested(): open the guide sign-in.
        setup_requested(): open the set-up dialog.
        quit_requested(): quit the app (the person said yes).
    """

    open_requested = Signal()
    sync_requested = Signal()
    guide_requested = Signal()
    setup_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None,
                 confirm_quit: Callable[[], bool] = ask_to_quit) -> None:
        super().__init__(parent)
        self._confirm_quit = confirm_quit
        self.icon: QSystemTrayIcon | None = None
        self.status_text = "Up to date"
        self.menu = QMenu()
        self.menu.setAccessibleName(f"{APP_NAME} menu")
        self.status_action = QAction(f"Sync: {self.status_text}", self.menu)
        self.status_action.setEnabled(False)
        self.open_action = QAction("Open", self.menu)
        self.sync_action = QAction("Sync now", self.menu)
        self.guide_action = QAction("Guide view", self.menu)
        self.setup_action = QAction("Set up…", self.menu)
        self.about_action = QAction("About Timeback Companion", self.menu)
        self.quit_action = QAction("Quit", self.menu)
        self.about_box: QMessageBox | None = None
        for action in (self.status_action, self.open_action, self.sync_action,
                       self.guide_action, self.setup_action, self.about_action,
                       self.quit_action):
            self.menu.addAction(action)
        self.menu.insertSeparator(self.open_action)
        self.menu.insertSeparator(self.quit_action)
        self._connect_signals()

    @classmethod
    def create(cls, parent: QObject | None = None) -> Tray | None:
        """A tray with its icon shown, or None when the system has no tray."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return None
        tray = cls(parent)
        tray.show_icon()
        return tray

    def _connect_signals(self) -> None:
        self.open_action.triggered.connect(self.open_requested)
        self.sync_action.triggered.connect(self.sync_requested)
        self.guide_action.triggered.connect(self.guide_requested)
        self.setup_action.triggered.connect(self.setup_requested)
        self.quit_action.triggered.connect(self.on_quit_triggered)
        self.about_action.triggered.connect(self.on_about_triggered)

    def show_icon(self) -> None:
        """Put the icon in the system tray, with this menu and the status as its tooltip."""
        if self.icon is None:
            style = QApplication.style()
            image: QIcon = style.standardIcon(QStyle.StandardPixmap.SP_ComputerIcon)
            self.icon = QSystemTrayIcon(image, self)
            self.icon.setContextMenu(self.menu)
            self.icon.setToolTip(self.tooltip())
            self.icon.activated.connect(self.on_activated)
        self.icon.show()

    def attach(self, window: Any, quit_app: Callable[[], object]) -> None:
        """Connect the actions to the main window (open, sync now, guide view) and quit."""
        self.open_requested.connect(window.bring_forward)
        self.sync_requested.connect(window.on_sync_requested)
        self.guide_requested.connect(window.on_guide_requested)
        self.quit_requested.connect(quit_app)

    def tooltip(self) -> str:
        """The icon's tooltip: the app and the sync state."""
        return f"{APP_NAME}: {self.status_text}"

    def on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_requested.emit()

    def on_about_triggered(self) -> None:
        from companion.ui.about_box import show_about

        self.about_box = show_about()

    def on_quit_triggered(self) -> None:
        if self._confirm_quit():
            self.quit_requested.emit()

    def on_sync_status(self, status: Any) -> None:
        self.status_text = status_text(status)
        self.status_action.setText(f"Sync: {self.status_text}")
        if self.icon is not None:
            self.icon.setToolTip(self.tooltip())
