"""The sign-in screen: class → a grid of the students' names → PIN, on the cached roster.

Keyboard: arrows and Enter choose a class; arrows move through the name grid (up and down
by a row) and Enter picks a name; Enter in the PIN field signs in; Escape goes back a page.
A student who cannot sign in (turned off in the roster) keeps a greyed-out button that says
so in words, not only in a tooltip.

A student's first PIN on this computer needs a guide's PIN; that form appears when the
service answers "needs_pin". "Sign in as guide" lists the roster's teachers.

"Sign in with Timeback" (enabled once the launch listener runs) asks the app to open the
browser; the result arrives through the launch listener, not through this widget.

The names of a class, the guides and every PIN check (scrypt, about 50 ms) are asked of the
sign-in service (``ui.ports.SignIn``) off the UI thread; the screen says it is loading or
checking meanwhile, and answers that come back after the student moved on are dropped.

Signals:
    signed_in(object): a student signed in (the roster user).
    guide_signed_in(object): a guide signed in (the roster user).
    timeback_requested(): the "Sign in with Timeback" button was pressed.
    classes_loaded(int): the class list was filled (the number of classes).
    names_shown(int): the name grid was filled (the number of names).
    pin_checked(str): a PIN check (or a guide's PIN change) answered: its status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from companion.core.pins import valid_pin
from companion.core.signin_types import GuideInfo, SignInResult
from companion.ui.pin_text import display_name, pin_change_message, pin_field, result_message
from companion.ui.ports import SignIn
from companion.ui.styles import (
    activate_on_enter,
    chain_tab_order,
    make_heading,
    repolish,
    set_role,
)
from companion.ui.tasks import BackgroundTask

__all__ = ["SignInWidget", "display_name", "pin_change_message", "pin_field", "result_message"]

GRID_COLUMNS = 4
LOADING_NAMES = "Loading the names…"
CHECKING_PIN = "Checking your PIN…"
TURNED_OFF = "turned off — ask a guide"
# arrow key → (step through the grid, in columns)
GRID_STEPS = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1,
              Qt.Key.Key_Up: -GRID_COLUMNS, Qt.Key.Key_Down: GRID_COLUMNS}


def name_button_text(user: Any) -> str:
    """A name button's text: the name, and on a second line why it cannot be used."""
    name = display_name(user)
    if getattr(user, "can_sign_in", True):
        return name
    return f"{name}\n({TURNED_OFF})"


class SignInWidget(QWidget):
    """Class list, name grid and PIN pages on a stack.

    Signals:
        signed_in(object): a student signed in.
        guide_signed_in(object): a guide signed in.
        timeback_requested(): "Sign in with Timeback" was pressed.
        classes_loaded(int): the class list was filled.
        names_shown(int): the name grid was filled.
        pin_checked(str): a PIN check answered (its status).
    """

    signed_in = Signal(object)
    guide_signed_in = Signal(object)
    timeback_requested = Signal()
    classes_loaded = Signal(int)
    names_shown = Signal(int)
    pin_checked = Signal(str)

    def __init__(self, service: SignIn | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self._ticket = 0  # moves on with the screen: answers for an older one are dropped
        self._checking = False  # a PIN check is on its way
        self._tasks: list[BackgroundTask] = []
        self._user: Any = None
        self._guide_mode = False
        # a class chosen whose names have not shown yet (the store was still opening, or
        # they are being read): a reload asks for them again
        self._pending_class: str | None = None
        self._pending_guide = False  # "Sign in as guide" pressed before the store was open
        self._loading_guides = False  # the guides are being read
        self._lockout_left = 0
        self._lockout_timer = QTimer(self)
        self._lockout_timer.setInterval(1000)
        self._lockout_timer.timeout.connect(self.on_lockout_tick)
        self.stack = QStackedWidget()
        self._build_classes_page()
        self._build_names_page()
        self._build_pin_page()
        layout = QVBoxLayout(self)
        layout.addWidget(self.stack)
        self._connect_signals()
        self.reload()

    # --- pages ------------------------------------------------------------------------

    def _build_classes_page(self) -> None:
        page = QWidget()
        title = QLabel("Choose your class")
        make_heading(title)
        self.class_list = QListWidget()
        self.class_list.setAccessibleName("Classes")
        self.class_status = QLabel("")
        self.class_status.setWordWrap(True)
        self.guide_button = QPushButton("Sign in as guide")
        self.guide_button.setAccessibleName("Sign in as guide")
        self.timeback_button = QPushButton("Sign in with Timeback")
        self.timeback_button.setAccessibleName("Sign in with Timeback")
        self.timeback_button.setEnabled(False)
        self.timeback_button.setToolTip("Available once this computer is online.")
        buttons = QHBoxLayout()
        buttons.addWidget(self.timeback_button)
        buttons.addStretch(1)
        buttons.addWidget(self.guide_button)
        layout = QVBoxLayout(page)
        layout.addWidget(title)
        layout.addWidget(self.class_list, 1)
        layout.addWidget(self.class_status)
        layout.addLayout(buttons)
        self.stack.addWidget(page)
        activate_on_enter(self.guide_button, self.timeback_button)
        chain_tab_order(self.class_list, self.timeback_button, self.guide_button)

    def _build_names_page(self) -> None:
        page = QWidget()
        self.names_title = QLabel("Who are you?")
        make_heading(self.names_title)
        self.names_grid_host = QWidget()
        self.names_grid = QGridLayout(self.names_grid_host)
        self.names_grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.names_grid.setSpacing(12)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.names_grid_host)
        scroll.setAccessibleName("Names")
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the names take the focus, not it
        self.names_back = QPushButton("Back to classes")
        self.names_back.setAccessibleName("Back to classes")
        activate_on_enter(self.names_back)
        layout = QVBoxLayout(page)
        layout.addWidget(self.names_title)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.names_back, 0, Qt.AlignmentFlag.AlignLeft)
        self.stack.addWidget(page)

    def _build_pin_page(self) -> None:
        page = QWidget()
        self.pin_title = QLabel("")
        make_heading(self.pin_title)
        self.pin_edit = pin_field("Your PIN")
        self.pin_button = QPushButton("Sign in")
        self.pin_button.setAccessibleName("Sign in")
        self.pin_button.setDefault(True)
        set_role(self.pin_button, "primary")
        self.error_label = QLabel("")
        self.error_label.setObjectName("error_label")
        self.error_label.setWordWrap(True)
        self.error_label.setAccessibleDescription("Sign-in message")
        form = QFormLayout()
        form.addRow("PIN", self.pin_edit)
        # the guide's form for a first PIN or a reset
        self.first_pin_box = QWidget()
        self.guide_combo = QComboBox()
        self.guide_combo.setAccessibleName("Guide")
        self.guide_pin_edit = pin_field("Guide PIN")
        self.new_pin_edit = pin_field("New PIN for the student")
        self.set_pin_button = QPushButton("Set PIN and sign in")
        self.set_pin_button.setAccessibleName("Set PIN and sign in")
        guide_form = QFormLayout(self.first_pin_box)
        guide_form.addRow(QLabel("A guide sets your first PIN:"))
        guide_form.addRow("Guide", self.guide_combo)
        guide_form.addRow("Guide PIN", self.guide_pin_edit)
        guide_form.addRow("New PIN", self.new_pin_edit)
        guide_form.addRow(self.set_pin_button)
        self.first_pin_box.hide()
        self.pin_back = QPushButton("Back")
        self.pin_back.setAccessibleName("Back to names")
        buttons = QHBoxLayout()
        buttons.addWidget(self.pin_back)
        buttons.addStretch(1)
        buttons.addWidget(self.pin_button)
        layout = QVBoxLayout(page)
        layout.addWidget(self.pin_title)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.first_pin_box)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.stack.addWidget(page)
        activate_on_enter(self.pin_button, self.pin_back, self.set_pin_button)
        # top to bottom, left to right, as on the screen
        chain_tab_order(self.pin_edit, self.guide_combo, self.guide_pin_edit,
                        self.new_pin_edit, self.set_pin_button, self.pin_back, self.pin_button)

    def _connect_signals(self) -> None:
        self.class_list.itemActivated.connect(self.on_class_chosen)
        self.class_list.itemClicked.connect(self.on_class_chosen)
        self.guide_button.clicked.connect(self.on_guide_clicked)
        self.timeback_button.clicked.connect(self.timeback_requested)
        self.names_back.clicked.connect(self.show_classes)
        self.pin_back.clicked.connect(self.on_pin_back)
        self.pin_button.clicked.connect(self.on_pin_submitted)
        self.pin_edit.returnPressed.connect(self.on_pin_submitted)
        self.new_pin_edit.returnPressed.connect(self.on_set_pin)
        self.set_pin_button.clicked.connect(self.on_set_pin)

    # --- navigation -------------------------------------------------------------------

    def set_timeback_available(self, available: bool) -> None:
        """Enable "Sign in with Timeback" (the launch listener runs)."""
        self.timeback_button.setEnabled(available)
        self.timeback_button.setToolTip("" if available else
                                        "Available once this computer is online.")

    def reload(self) -> None:
        """Read the classes again (after a roster refresh).

        A student already past the class list (choosing a name, typing a PIN) stays where
        they are; on the class list the selection is kept, and a class chosen while the
        store was still opening is opened now.
        """
        if self.service is None:  # the store is still opening: keep the quick list
            self.set_classes([])
            return
        if (self._pending_guide or self._loading_guides) and self.stack.currentIndex() == 0:
            self.set_classes(self.service.classes(), show=False)
            self._load_guides()  # no guides yet: the roster is still coming, the next reload
            return
        pending, self._pending_class = self._pending_class, None
        current = self.class_list.currentItem()
        keep = pending or (current.data(Qt.ItemDataRole.UserRole) if current else None)
        self.set_classes(self.service.classes(), show=self.stack.currentIndex() == 0)
        for row in range(self.class_list.count()):
            item = self.class_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == keep:
                self.class_list.setCurrentRow(row)
                if pending is not None and self.stack.currentIndex() == 0:
                    self.on_class_chosen(item)
                break
        else:
            self._pending_class = pending  # not listed yet: the next reload tries again

    def set_classes(self, classes: list[Any], show: bool = True) -> None:
        """Fill the class list with ``classes`` (``ClassInfo``-like: ``id``, ``title``);
        with ``show``, go to the class list."""
        self.class_list.clear()
        for cls in classes:
            item = QListWidgetItem(getattr(cls, "title", str(cls)))
            item.setData(Qt.ItemDataRole.UserRole, cls.id)
            self.class_list.addItem(item)
        empty = self.class_list.count() == 0
        self.class_status.setText("Loading the class list…" if empty else "")
        if not empty:
            self.class_list.setCurrentRow(0)
        if show:
            self.show_classes()
        if not empty:
            self.classes_loaded.emit(self.class_list.count())

    def show_classes(self) -> None:
        """Back to the class list, forgetting any half-finished sign-in."""
        self._move_on()
        self._user = None
        self._guide_mode = False
        self.pin_edit.clear()
        self.stack.setCurrentIndex(0)
        self.class_list.setFocus()

    def show_names(self, users: list[Any], title: str) -> None:
        """The grid of name buttons."""
        while self.names_grid.count():
            item = self.names_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.names_title.setText(title)
        previous: QWidget | None = None
        for i, user in enumerate(users):
            button = QPushButton(name_button_text(user))
            button.setObjectName("student_button")
            button.setAccessibleName(f"Sign in as {display_name(user)}")
            button.clicked.connect(lambda _=False, u=user: self.choose_user(u))
            activate_on_enter(button)
            button.installEventFilter(self)
            if not getattr(user, "can_sign_in", True):
                button.setEnabled(False)
                button.setAccessibleName(f"{display_name(user)}: cannot sign in")
                button.setAccessibleDescription("This account is turned off. Ask a guide.")
                button.setToolTip("This account is turned off. Ask a guide.")
            self.names_grid.addWidget(button, i // GRID_COLUMNS, i % GRID_COLUMNS)
            if previous is not None:
                QWidget.setTabOrder(previous, button)
            previous = button
        if previous is not None:
            QWidget.setTabOrder(previous, self.names_back)
        self.stack.setCurrentIndex(1)
        self._focus_name(None)

    def name_buttons(self) -> list[QPushButton]:
        """The name buttons currently shown (for tests and keyboard navigation)."""
        found = []
        for i in range(self.names_grid.count()):
            item = self.names_grid.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QPushButton):
                found.append(widget)
        return found

    def _focus_name(self, user: Any) -> None:
        """Focus ``user``'s name button (after "Back"), else the first one that works."""
        buttons = [b for b in self.name_buttons() if b.isEnabled()]
        wanted = None if user is None else f"Sign in as {display_name(user)}"
        chosen = next((b for b in buttons if b.accessibleName() == wanted), None)
        if chosen is None and buttons:
            chosen = buttons[0]
        (chosen or self.names_back).setFocus()

    def move_in_grid(self, button: QPushButton, key: Qt.Key) -> bool:
        """Move the focus from ``button`` by an arrow ``key`` (skipping turned-off names);
        False if there is nowhere to go that way."""
        buttons = self.name_buttons()
        if button not in buttons or key not in GRID_STEPS:
            return False
        step = GRID_STEPS[key]
        i = buttons.index(button) + step
        while 0 <= i < len(buttons):
            if buttons[i].isEnabled():
                buttons[i].setFocus(Qt.FocusReason.TabFocusReason)
                return True
            i += step
        return False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Arrow keys on a name button move through the grid."""
        if (event.type() == QEvent.Type.KeyPress and isinstance(watched, QPushButton)
                and isinstance(event, QKeyEvent) and event.key() in GRID_STEPS
                and event.modifiers() == Qt.KeyboardModifier.NoModifier):
            self.move_in_grid(watched, Qt.Key(event.key()))
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Escape goes back a page (PIN → names → classes)."""
        if event.key() == Qt.Key.Key_Escape and self.stack.currentIndex() > 0:
            if self.stack.currentIndex() == 2:
                self.on_pin_back()
            else:
                self.show_classes()
            event.accept()
            return
        super().keyPressEvent(event)

    def choose_user(self, user: Any) -> None:
        """Go to the PIN page for ``user``."""
        self._move_on()
        self._user = user
        self._lockout_timer.stop()
        if self._guide_mode:  # visibly a guide's screen: the guide's PIN opens the guide view
            self.pin_title.setText(f"Guide sign-in: {display_name(user)}")
            self.pin_edit.setPlaceholderText("Guide PIN")
            self.pin_edit.setAccessibleName("Guide PIN")
        else:
            self.pin_title.setText(f"Hello, {display_name(user)}")
            self.pin_edit.setPlaceholderText("Your PIN")
            self.pin_edit.setAccessibleName("Your PIN")
        set_role(self.pin_title, "guide" if self._guide_mode else "student")
        repolish(self.pin_title)
        self.pin_edit.clear()
        self.error_label.setText("")
        self.first_pin_box.hide()
        self.stack.setCurrentIndex(2)
        self.pin_edit.setFocus()

    # --- slots ------------------------------------------------------------------------

    def on_class_chosen(self, item: QListWidgetItem) -> None:
        if self.service is None:  # remembered: the names show as soon as the store is open
            self._pending_class = item.data(Qt.ItemDataRole.UserRole)
            self.class_status.setText("One moment, the class list is still opening…")
            return
        class_id = str(item.data(Qt.ItemDataRole.UserRole))
        title = item.text()
        service = self.service
        self._pending_class, self._loading_guides = class_id, False
        self.class_status.setText(LOADING_NAMES)
        self._ask("students", lambda: service.students(class_id),
                  lambda students: self._on_names(students, title, guides=False))

    def on_guide_clicked(self) -> None:
        if self.service is None:  # remembered: the guides show as soon as the store is open
            self._pending_guide = True
            self.class_status.setText("One moment, the class list is still opening…")
            return
        self._load_guides()

    def _load_guides(self) -> None:
        assert self.service is not None
        service, pending = self.service, self._pending_guide
        before = self.class_status.text()
        self.class_status.setText(LOADING_NAMES)

        def shown(guides: list[GuideInfo]) -> None:
            self._loading_guides = False
            if not guides and pending:  # the roster is still coming: the next reload
                self.class_status.setText(before)
                return
            self._pending_guide = False
            self._on_names(guides, "Which guide are you?", guides=True)

        self._ask("guides", service.guides, shown)
        self._loading_guides = True

    def _on_names(self, users: list[Any], title: str, *, guides: bool) -> None:
        if not guides:
            self._pending_class = None
        if self.class_status.text() == LOADING_NAMES:
            self.class_status.setText("")
        self._guide_mode = guides
        self.show_names(list(users), title)
        self._guide_mode = guides
        self.names_shown.emit(len(users))

    def on_pin_back(self) -> None:
        self._move_on()
        user = self._user
        self._user = None
        self.pin_edit.clear()
        self.stack.setCurrentIndex(1)
        self._focus_name(user)

    def on_pin_submitted(self) -> None:
        if self._user is None or self.service is None or self._checking:
            return
        pin = self.pin_edit.text()
        if not pin.strip():  # Enter on an empty field uses no try
            self.error_label.setText("Type your PIN, then press Enter.")
            self.pin_edit.setFocus()
            return
        service, user, guide = self.service, self._user, self._guide_mode

        def check() -> tuple[SignInResult, list[GuideInfo]]:
            check_pin = service.sign_in_guide if guide else service.sign_in
            result = check_pin(user.id, pin)
            # a student's first PIN: the guides who may set it, for the form
            needs = result.status == "needs_pin" and not guide
            return result, service.guides() if needs else []

        self.pin_edit.clear()
        self.error_label.setText(CHECKING_PIN)
        self._ask("pin-check", check, lambda answer: self._on_checked(user, guide, *answer))
        self._checking = True

    def _on_checked(self, user: Any, guide: bool, result: SignInResult,
                    guides: list[GuideInfo]) -> None:
        self._checking = False
        if result.status == "ok":
            signed = result.user or user
            self.show_classes()
            (self.guide_signed_in if guide else self.signed_in).emit(signed)
            self.pin_checked.emit(result.status)
            return
        self.error_label.setText(result_message(result))
        if result.status == "locked_out":
            self._count_down(int(getattr(result, "retry_after_s", 0) or 0))
        if result.status == "needs_pin" and not guide:
            self._show_first_pin_form(guides)
        self.pin_checked.emit(result.status)

    def _ask(self, name: str, fn: Callable[[], Any], done: Callable[[Any], None]) -> None:
        """Run ``fn`` off the UI thread; ``done(result)`` on it, unless the screen has moved
        on meanwhile (then the answer is dropped)."""
        ticket = self._move_on()

        def call() -> tuple[int, Callable[[Any], None], Any, Exception | None]:
            try:
                return ticket, done, fn(), None
            except Exception as exc:  # shown on the screen, on the UI thread
                return ticket, done, None, exc

        task = BackgroundTask(call, f"signin-{name}", self)
        task.succeeded.connect(self.on_answer)
        task.finished.connect(self.on_task_finished)
        self._tasks.append(task)
        task.start()

    def on_answer(self, answer: tuple[int, Callable[[Any], None], Any, Exception | None]
                  ) -> None:
        ticket, done, result, error = answer
        if ticket != self._ticket:
            return
        if error is not None:
            self._checking = False
            message = f"Sign-in did not work: {error}"
            (self.error_label if self.stack.currentIndex() == 2 else self.class_status
             ).setText(message)
            return
        done(result)

    def on_task_finished(self) -> None:
        done = self.sender()
        self._tasks = [task for task in self._tasks if task is not done]

    def _move_on(self) -> int:
        """A new screen or question: answers still on their way for the old one are
        dropped, and a new PIN may be checked."""
        self._ticket += 1
        self._checking = False
        return self._ticket

    def _count_down(self, seconds: int) -> None:
        """Count the lockout down on the screen, once a second, until the PIN may be tried."""
        self._lockout_left = max(seconds, 1)
        self._lockout_timer.start()

    def on_lockout_tick(self) -> None:
        self._lockout_left -= 1
        if self._lockout_left <= 0:
            self._lockout_timer.stop()
            self.error_label.setText("You can try your PIN again now.")
            return
        self.error_label.setText(
            f"Too many wrong PINs. Try again in {self._lockout_left} seconds.")

    def _show_first_pin_form(self, guides: list[GuideInfo]) -> None:
        self.guide_combo.clear()
        for guide in guides:
            self.guide_combo.addItem(display_name(guide), guide.id)
        self.guide_pin_edit.clear()
        self.new_pin_edit.clear()
        self.first_pin_box.show()
        self.guide_combo.setFocus()

    def on_set_pin(self) -> None:
        if self._user is None or self.service is None or self._checking:
            return
        guide_id = self.guide_combo.currentData()
        new_pin = self.new_pin_edit.text()
        if not valid_pin(new_pin):
            self.error_label.setText("A PIN is 4 to 6 digits.")
            return
        if guide_id is None:
            self.error_label.setText("Choose the guide who sets the PIN.")
            return
        service, student_id, guide_pin = self.service, self._user.id, self.guide_pin_edit.text()
        self.guide_pin_edit.clear()
        self.error_label.setText(CHECKING_PIN)
        self._ask("pin-set", lambda: service.set_pin(student_id, new_pin, guide_id, guide_pin),
                  lambda result: self._on_pin_set(result, new_pin))
        self._checking = True

    def _on_pin_set(self, result: SignInResult, new_pin: str) -> None:
        self._checking = False
        if result.status != "ok":
            self.error_label.setText(pin_change_message(result))
            self.pin_checked.emit(result.status)
            return
        self.first_pin_box.hide()
        self.pin_edit.setText(new_pin)
        self.new_pin_edit.clear()
        self.on_pin_submitted()
