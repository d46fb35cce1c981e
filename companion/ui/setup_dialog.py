"""The set-up dialog: client id and secret (to the keyring), school, a guide PIN; it tests
the token and pulls the roster in a worker thread, with a busy indicator.

Signals:
    configured(): the credentials were stored and the roster pulled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from companion.ui.tasks import BackgroundTask

SetupWork = Callable[[str, str, str], Any]


class SetupDialog(QDialog):
    """Credentials and school for one environment.

    Signals:
        configured(): set-up succeeded.
    """

    configured = Signal()

    def __init__(self, env_name: str, reason: str, work: SetupWork,
                 parent: QWidget | None = None) -> None:
        """``work(client_id, secret, school_id)`` verifies, stores and pulls (in a thread)."""
        super().__init__(parent)
        self.setWindowTitle(f"Set up Timeback Companion ({env_name})")
        self._work = work
        self._task: BackgroundTask | None = None
        self.reason_label = QLabel(reason)
        self.reason_label.setWordWrap(True)
        self.reason_label.setAccessibleName("Why set-up is needed")
        self.env_label = QLabel(env_name)
        self.client_id = QLineEdit()
        self.client_id.setAccessibleName("Client id")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("Client secret")
        self.school = QLineEdit()
        self.school.setAccessibleName("School sourcedId")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setAccessibleName("Progress")
        self.progress.hide()
        self.message = QLabel("")
        self.message.setObjectName("error_label")
        self.message.setWordWrap(True)
        self.test_button = QPushButton("Test and pull the roster")
        self.test_button.setAccessibleName("Test and pull the roster")
        self.test_button.setDefault(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        form = QFormLayout()
        form.addRow("Environment", self.env_label)
        form.addRow("Client id", self.client_id)
        form.addRow("Client secret", self.secret)
        form.addRow("School", self.school)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason_label)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.test_button)
        layout.addWidget(self.buttons)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.test_button.clicked.connect(self.on_test_clicked)
        self.buttons.rejected.connect(self.reject)

    def on_test_clicked(self) -> None:
        cid, secret, school = (self.client_id.text().strip(), self.secret.text(),
                               self.school.text().strip())
        if not (cid and secret and school):
            self.message.setText("Fill in the client id, the secret and the school.")
            return
        self.test_button.setEnabled(False)
        self.progress.show()
        self.message.setText("Checking the credentials and pulling the roster…")
        task = BackgroundTask(lambda: self._work(cid, secret, school), "setup", self)
        task.succeeded.connect(self.on_succeeded)
        task.failed.connect(self.on_failed)
        self._task = task
        task.start()

    def on_succeeded(self, _result: object) -> None:
        self.progress.hide()
        self.configured.emit()
        self.accept()

    def on_failed(self, exc: object) -> None:
        self.progress.hide()
        self.test_button.setEnabled(True)
        self.message.setText(f"Set-up failed: {exc}")
