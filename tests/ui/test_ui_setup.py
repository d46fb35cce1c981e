"""Set-up on a real environment ("staging" pointed at a running sandbox): a missing or
refused credential opens the set-up dialog with the reason; the right one pulls the roster
and the sign-in screen lists the chosen classes only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from companion.config import load_config
from companion.core.clock import FakeClock
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.system.fakes import FakeFocus, FakeInput, FakeLock
from companion.timeback import SANDBOX_CREDENTIALS, Credentials, service_name
from companion.ui.setup_dialog import CLASSES_PAGE, SCHOOL_PAGE
from tests.ui.staging import MemoryKeyring, memory_keyring, point_staging_at


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        point_staging_at(monkeypatch, handle)
        yield handle


@pytest.fixture
def vault() -> Iterator[MemoryKeyring]:
    with memory_keyring() as backend:
        yield backend


def make_shell(qapp: Any, qtbot: Any) -> Any:
    from companion.app.shell import Shell

    clock = FakeClock(monotonic_ms=1_000_000)
    errors: list[str] = []
    shell = Shell(qapp, "staging", clock=clock, input_source=FakeInput(clock),
                  focus_source=FakeFocus(), lock_source=FakeLock(), single_instance=False,
                  tray=False, start_sync=False, report_error=errors.append)
    return shell


def start_until_setup(qtbot: Any, shell: Any) -> Any:
    with qtbot.waitSignal(shell.setup_opened, timeout=30_000) as opened:
        assert shell.start() is None
    qtbot.addWidget(shell.window)
    return opened.args[0]


def test_missing_credential_then_wrong_then_right_secret(
    qapp: Any, qtbot: Any, sandbox: SandboxHandle, vault: MemoryKeyring
) -> None:
    shell = make_shell(qapp, qtbot)
    try:
        dialog = start_until_setup(qtbot, shell)
        assert "No Timeback credentials for staging" in dialog.reason_label.text()
        assert "Set-up needed" in shell.window.signin.class_status.text()
        # a wrong secret: the dialog says so, nothing is stored
        dialog.client_id.setText(SANDBOX_CREDENTIALS.client_id)
        dialog.secret.setText("not-the-secret")
        with qtbot.waitSignal(dialog.problem, timeout=20_000) as problem:
            dialog.check_button.click()
        assert "refused this client id or secret" in problem.args[0]
        assert "refused" in dialog.message.text()
        assert vault.passwords == {}
        # the right one: stored in the keyring, the school offered
        dialog.secret.setText(SANDBOX_CREDENTIALS.client_secret)
        with qtbot.waitSignal(dialog.page_changed, timeout=20_000) as page:
            dialog.check_button.click()
        assert page.args == [SCHOOL_PAGE]
        stored = vault.passwords[(service_name("staging"), "client_secret")]
        assert stored == SANDBOX_CREDENTIALS.client_secret
        assert dialog.school_combo.currentData() == "demo-school-1"
        with qtbot.waitSignal(dialog.page_changed, timeout=30_000) as page:
            dialog.pull_button.click()
        assert page.args == [CLASSES_PAGE]
        assert dialog.class_list.count() == 2
        dialog.set_class_checked("demo-class-2", False)
        assert dialog.chosen_classes() == ["demo-class-1"]
        dialog.guide_pins["demo-guide-1"].setText("2468")
        with qtbot.waitSignal(shell.ready, timeout=30_000):
            dialog.finish_button.click()
        signin = shell.window.signin
        titles = [signin.class_list.item(i).text() for i in range(signin.class_list.count())]
        assert titles == ["Math Lab A"]
        computer = load_config().computer("staging")
        assert computer is not None
        assert (computer.school_id, computer.class_ids) == ("demo-school-1", ("demo-class-1",))
        assert "secret" not in load_config().path.read_text()  # type: ignore[union-attr]
        svc = shell.services.signin
        assert svc.sign_in_guide("demo-guide-1", "2468").ok
        assert shell.window.env_label.text() == "Environment: staging"
    finally:
        shell.close()


def test_a_refused_stored_secret_opens_set_up_with_the_reason(
    qapp: Any, qtbot: Any, sandbox: SandboxHandle, vault: MemoryKeyring
) -> None:
    from companion.config import save_computer
    from companion.timeback import store_credentials

    store_credentials("staging", Credentials(SANDBOX_CREDENTIALS.client_id, "changed"))
    save_computer("staging", "demo-school-1", ["demo-class-1"])
    shell = make_shell(qapp, qtbot)
    try:
        dialog = start_until_setup(qtbot, shell)
        assert "refused the stored client id or secret" in dialog.reason_label.text()
    finally:
        shell.close()


def test_no_usable_keyring_opens_set_up_with_the_reason(
    qapp: Any, qtbot: Any, sandbox: SandboxHandle
) -> None:
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    before = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    shell = make_shell(qapp, qtbot)
    try:
        dialog = start_until_setup(qtbot, shell)
        assert "The OS keyring cannot be used" in dialog.reason_label.text()
    finally:
        shell.close()
        keyring.set_keyring(before)
