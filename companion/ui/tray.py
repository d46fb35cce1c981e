"""The tray icon: the sync state in its tooltip, and open / sync now / guide view / quit.

Skipped quietly where the system has no tray (``Tray.create`` returns None).

Signals:
    open_requested(), sync_requested(), guide_requested(), setup_requested(), quit_requested()
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QApplication, QMenu, QStyle, QSystemTrayIcon

from companion.ui.sync_bridge import describe


class Tray(QObject):
    """The tray icon and its menu.

    Signals:
        open_requested(): show the window.
        sync_requested(): sync now.
        guide_requested(): open the guide sign-in.
        setup_requested(): open the set-up dialog.
        quit_requested(): quit the app.
    """

    open_requested = Signal()
    sync_requested = Signal()
    guide_requested = Signal()
    setup_requested = Signal()
    quit_requested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        style = QApplication.style()
        icon: QIcon = style.standardIcon(QStyle.StandardPixmap.SP_ComputerIcon)
        self.icon = QSystemTrayIcon(icon, self)
        self.menu = QMenu()
        self.status_action = QAction("Up to date", self.menu)
        self.status_action.setEnabled(False)
        self.open_action = QAction("Open", self.menu)
        self.sync_action = QAction("Sync now", self.menu)
        self.guide_action = QAction("Guide view", self.menu)
        self.setup_action = QAction("Set up…", self.menu)
        self.quit_action = QAction("Quit", self.menu)
        for action in (self.status_action, self.open_action, self.sync_action,
                       self.guide_action, self.setup_action, self.quit_action):
            self.menu.addAction(action)
        self.icon.setContextMenu(self.menu)
        self.icon.setToolTip("Timeback Companion")
        self._connect_signals()

    @classmethod
    def create(cls, parent: QObject | None = None) -> Tray | None:
        """A tray icon, or None when the system has no tray."""
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return None
        tray = cls(parent)
        tray.icon.show()
        return tray

    def _connect_signals(self) -> None:
        self.open_action.triggered.connect(self.open_requested)
        self.sync_action.triggered.connect(self.sync_requested)
        self.guide_action.triggered.connect(self.guide_requested)
        self.setup_action.triggered.connect(self.setup_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self.icon.activated.connect(self.on_activated)

    def on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.open_requested.emit()

    def on_sync_status(self, status: Any) -> None:
        text = describe(status)
        self.status_action.setText(text)
        self.icon.setToolTip(f"Timeback Companion: {text}")
