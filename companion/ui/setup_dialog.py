"""The set-up dialog (first run on a real environment, a refused credential, or the tray):
client id and secret (to the keyring), the school, a roster pull with a progress bar, the
classes this computer serves and the guide PINs. Every step runs in a background task.

``SetupLauncher`` opens the dialog over the main window (one at a time).

Signals:
    configured(): set-up finished (credentials stored, roster pulled, config written).
    page_changed(int): the dialog moved to another page (0 credentials, 1 school, 2 classes).
    problem(str): a step failed; the message is shown in the dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from companion.core.pins import valid_pin
from companion.core.signin_types import PulledRoster, School
from companion.ui.ports import SetupSteps
from companion.ui.signin import pin_field
from companion.ui.styles import chain_tab_order, set_role
from companion.ui.tasks import BackgroundTask

if TYPE_CHECKING:
    from companion.ui.main_window import MainWindow

CREDENTIALS_PAGE, SCHOOL_PAGE, CLASSES_PAGE = 0, 1, 2


class SetupDialog(QDialog):
    """Set-up of one environment, page by page.

    Signals:
        configured(): set-up finished.
        page_changed(int): the page now shown.
        problem(str): a step failed (the message).
    """

    configured = Signal()
    page_changed = Signal(int)
    problem = Signal(str)

    def __init__(self, flow: SetupSteps, reason: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.flow = flow
        self.setWindowTitle(f"Set up Timeback Companion ({flow.env_name})")
        self._task: BackgroundTask | None = None
        self._pulled: PulledRoster | None = None
        self.guide_pins: dict[str, QLineEdit] = {}
        self.reason_label = QLabel(reason)
        self.reason_label.setWordWrap(True)
        self.reason_label.setAccessibleDescription("Why set-up is needed")
        self.pages = QStackedWidget()
        self._build_credentials_page()
        self._build_school_page()
        self._build_classes_page()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy: the steps cannot say how far they are
        self.progress.setAccessibleName("Progress")
        self.progress.hide()
        self.message = QLabel("")
        self.message.setObjectName("error_label")
        self.message.setWordWrap(True)
        self.message.setAccessibleDescription("Set-up message")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._connect_signals()
        self._go(CREDENTIALS_PAGE)

    # --- pages ------------------------------------------------------------------------

    def _build_credentials_page(self) -> None:
        page = QWidget()
        self.env_label = QLabel(self.flow.env_name)
        self.env_label.setAccessibleDescription("Environment")
        self.client_id = QLineEdit()
        self.client_id.setAccessibleName("Client id")
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setAccessibleName("Client secret")
        self.check_button = QPushButton("Check and continue")
        self.check_button.setAccessibleName("Check the credentials")
        set_role(self.check_button, "primary")
        form = QFormLayout(page)
        form.addRow("Environment", self.env_label)
        form.addRow("Client id", self.client_id)
        form.addRow("Client secret", self.secret)
        form.addRow(self.check_button)
        self.pages.addWidget(page)

    def _build_school_page(self) -> None:
        page = QWidget()
        self.school_combo = QComboBox()
        self.school_combo.setAccessibleName("School")
        self.pull_button = QPushButton("Pull the roster")
        self.pull_button.setAccessibleName("Pull the roster")
        form = QFormLayout(page)
        form.addRow("School", self.school_combo)
        form.addRow(self.pull_button)
        self.pages.addWidget(page)

    def _build_classes_page(self) -> None:
        page = QWidget()
        self.class_list = QListWidget()
        self.class_list.setAccessibleName("Classes this computer serves")
        self.guides_form = QFormLayout()
        self.finish_button = QPushButton("Finish")
        self.finish_button.setAccessibleName("Finish set-up")
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("Classes this computer serves:"))
        layout.addWidget(self.class_list, 1)
        layout.addWidget(QLabel("Guide PINs (4 to 6 digits):"))
        layout.addLayout(self.guides_form)
        layout.addWidget(self.finish_button)
        self.pages.addWidget(page)

    def _connect_signals(self) -> None:
        self.check_button.clicked.connect(self.on_check_clicked)
        self.pull_button.clicked.connect(self.on_pull_clicked)
        self.finish_button.clicked.connect(self.on_finish_clicked)
        self.buttons.rejected.connect(self.reject)

    # --- steps ------------------------------------------------------------------------

    def on_check_clicked(self) -> None:
        cid, secret = self.client_id.text().strip(), self.secret.text()
        if not (cid and secret):
            self._say("Fill in the client id and the secret.")
            return
        self.secret.clear()  # kept by the flow until stored; not in the widget
        self._run(lambda: self.flow.check_credentials(cid, secret),
                  "Checking the credentials…", self.on_checked)

    def on_checked(self, schools: list[School]) -> None:
        self.school_combo.clear()
        for school in schools:
            self.school_combo.addItem(f"{school.name} ({school.id})", school.id)
        if not schools:
            self._say("These credentials see no school. Ask Timeback for access.")
            return
        self._go(SCHOOL_PAGE)

    def on_pull_clicked(self) -> None:
        school_id = self.school_combo.currentData()
        if not school_id:
            self._say("Choose a school.")
            return
        self._run(lambda: self.flow.pull_roster(school_id),
                  "Pulling the roster…", self.on_pulled)

    def on_pulled(self, pulled: PulledRoster) -> None:
        self._pulled = pulled
        self.class_list.clear()
        for cls in pulled.classes:
            item = QListWidgetItem(f"{cls.title} ({cls.student_count} students)")
            item.setData(Qt.ItemDataRole.UserRole, cls.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.class_list.addItem(item)
        while self.guides_form.rowCount():
            self.guides_form.removeRow(0)
        self.guide_pins = {}
        for guide in pulled.guides:
            field = pin_field(f"PIN for {guide.display_name}")
            if guide.has_pin:
                field.setPlaceholderText("has a PIN already")
                field.setEnabled(False)
            self.guides_form.addRow(guide.display_name, field)
            self.guide_pins[guide.id] = field
        # the PIN fields are made after the Finish button: put them before it for Tab
        chain_tab_order(self.class_list, *self.guide_pins.values(), self.finish_button)
        self.message.setText(f"Pulled {pulled.records} roster records.")
        self._go(CLASSES_PAGE)

    def chosen_classes(self) -> list[str]:
        """The ids of the ticked classes."""
        out = []
        for i in range(self.class_list.count()):
            item = self.class_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(str(item.data(Qt.ItemDataRole.UserRole)))
        return out

    def set_class_checked(self, class_id: str, checked: bool) -> None:
        """Tick or untick one class (keyboard users: the space bar does the same)."""
        for i in range(self.class_list.count()):
            item = self.class_list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == class_id:
                state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
                item.setCheckState(state)

    def on_finish_clicked(self) -> None:
        assert self._pulled is not None
        classes = self.chosen_classes()
        if not classes:
            self._say("Choose at least one class.")
            return
        pins = {gid: f.text() for gid, f in self.guide_pins.items() if f.isEnabled()}
        if not any(pins.values()) and not any(not f.isEnabled() for f in
                                               self.guide_pins.values()):
            self._say("Set a PIN for at least one guide.")
            return
        bad = [gid for gid, pin in pins.items() if pin and not valid_pin(pin)]
        if bad:
            self._say("A PIN is 4 to 6 digits.")
            return
        chosen = {gid: pin for gid, pin in pins.items() if pin}
        school = self._pulled.school_id
        self._run(lambda: self.flow.finish(school, classes, chosen),
                  "Saving…", self.on_finished)

    def on_finished(self, _result: object) -> None:
        self.configured.emit()
        self.accept()

    # --- helpers ----------------------------------------------------------------------

    def _run(self, fn: Callable[[], Any], busy: str, done: Callable[[Any], None]) -> None:
        self.pages.setEnabled(False)
        self.progress.show()
        self.message.setText(busy)
        task = BackgroundTask(fn, "setup", self)
        task.succeeded.connect(self.on_step_ended)
        task.succeeded.connect(done)
        task.failed.connect(self.on_step_failed)
        self._task = task
        task.start()

    def on_step_ended(self, _result: object = None) -> None:
        self.progress.hide()
        self.pages.setEnabled(True)

    def on_step_failed(self, exc: object) -> None:
        self.on_step_ended()
        self._say(str(exc))

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.problem.emit(text)

    def _go(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        first, action = {CREDENTIALS_PAGE: (self.client_id, self.check_button),
                         SCHOOL_PAGE: (self.school_combo, self.pull_button),
                         CLASSES_PAGE: (self.class_list, self.finish_button)}[page]
        # Enter in a field presses the page's own button (set once the dialog owns it)
        action.setDefault(True)
        first.setFocus()
        self.page_changed.emit(page)


class SetupLauncher(QObject):
    """Opens the set-up dialog over the main window and passes on its outcome.

    Signals:
        opened(object): the dialog that was opened.
        configured(): set-up finished.
    """

    opened = Signal(object)
    configured = Signal()

    def __init__(self, window: MainWindow, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.dialog: SetupDialog | None = None

    def open(self, flow: Callable[[], SetupSteps], reason: str) -> None:
        """Show the dialog on the steps ``flow()`` makes, with ``reason`` (or raise the open
        one)."""
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.raise_()
            return
        self.dialog = SetupDialog(flow(), reason, self.window)
        self.dialog.configured.connect(self.configured)
        self.window.signin.class_status.setText(f"Set-up needed. {reason}")
        self.dialog.open()
        self.opened.emit(self.dialog)
