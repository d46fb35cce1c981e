"""The windows as a client of the machine service: ``COMPANION_SERVICE_SOCKET`` names a
service's socket (here a service on a temporary data folder with the demo school, in this
process on a real Unix socket), and the app opens no database of its own. A student signs
in with a demo PIN and studies the drill; the service stops mid-lesson and the window says
so; it comes back and the summary is what it stored; while it is away, the sign-in screen
says why nobody can sign in."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from companion.app.remote import NO_SIGN_IN, SERVICE_STOPPED
from companion.commands.service import Hosted, build_service
from companion.core.clock import FakeClock
from companion.service.endpoint import UnixEndpoint
from companion.store import runs
from companion.store.paths import database_path
from companion.system.fakes import FakeFocus, FakeInput, FakeLock
from tests.ui.conftest import choose_class, submit_pin

AVA = "demo-student-01"
DRILL = "demo-math-drill"


class Service:
    def __init__(self, data: Path, socket: Path, clock: FakeClock) -> None:
        self.data, self.socket, self.clock = data, socket, clock
        self.hosted: Hosted | None = None
        self.endpoint: UnixEndpoint | None = None

    def start(self) -> None:
        self.hosted = build_service(self.data, "sandbox", self.clock, demo_school=True)
        self.endpoint = UnixEndpoint(self.hosted.service, self.socket)
        self.endpoint.start()

    def stop(self) -> None:
        if self.endpoint is not None:
            self.endpoint.close()
        if self.hosted is not None:
            self.hosted.close()
        self.endpoint = self.hosted = None


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    with tempfile.TemporaryDirectory(prefix="svc", dir="/tmp") as short:
        running = Service(
            Path(short) / "data", Path(short) / "s.sock", FakeClock(monotonic_ms=1_000_000)
        )
        running.start()
        monkeypatch.setenv("COMPANION_SERVICE_SOCKET", str(running.socket))
        yield running
        running.stop()


def seconds(service: Service, keys: FakeInput, session: Any, n: int) -> None:
    for _ in range(n):
        service.clock.advance(1000)
        keys.touch()
        session.on_tick()


def test_a_student_studies_on_the_service_and_the_window_says_when_it_stops(
    qapp: Any, qtbot: Any, service: Service
) -> None:
    from companion.app.shell import Shell

    clock = service.clock
    keys = FakeInput(clock)
    errors: list[str] = []
    shell = Shell(
        qapp,
        None,
        clock=clock,
        input_source=keys,
        focus_source=FakeFocus(),
        lock_source=FakeLock(),
        single_instance=False,
        tray=False,
        start_sync=False,
        launch_port=None,
        report_error=errors.append,
    )
    try:
        with qtbot.waitSignal(shell.ready, timeout=30_000):
            assert shell.start() is None, errors
        window = shell.window
        assert window is not None
        qtbot.addWidget(window)
        assert shell.runtime is None  # no database, lease or credentials in the app
        assert not database_path("sandbox").exists()
        signin = window.signin
        assert signin.class_list.count() == 2
        choose_class(qtbot, signin)
        next(b for b in signin.name_buttons() if b.accessibleName() == "Sign in as Ava").click()
        signin.pin_edit.setText("1234")
        with qtbot.waitSignal(window.signed_in, timeout=10_000):
            submit_pin(qtbot, signin)
        assert window.student is not None and window.student.user_id == AVA

        window.on_lesson_chosen(DRILL)
        session = window.session
        assert session.running and window.stack.currentWidget() is session
        run_id = session.controller.run.run_id
        for item, response in (("drill-1", "13"), ("drill-2", "9")):
            seconds(service, keys, session, 10)
            assert session.bridge.answer(item, response)["counted"]
        assert session.accuracy_label.text() == "Accuracy 100%"

        service.stop()
        seconds(service, keys, session, 5)
        assert window.service_notice.isVisible()
        assert window.service_notice.text() == SERVICE_STOPPED
        assert session.bridge.answer("drill-3", "41")["counted"]  # kept in memory meanwhile
        seconds(service, keys, session, 5)
        assert session.focused_label.text() == "0:30"

        service.start()
        assert shell.remote is not None
        shell.remote.on_probe()
        assert not window.service_notice.isVisible()
        with qtbot.waitSignal(session.finished, timeout=10_000) as done:
            session.on_completed()
        summary = done.args[0]
        assert service.hosted is not None
        row = runs.get_run(service.hosted.db, run_id)
        assert row is not None and row.state == "closed"
        answers = [
            (line.item, line.correct)
            for line in runs.journal(service.hosted.db, run_id)
            if line.kind == "answer"
        ]
        assert answers == [("drill-1", True), ("drill-2", True), ("drill-3", False)]
        assert summary.xp == Decimal(row.xp)
        assert (summary.questions, summary.correct) == (3, 2)
        assert summary.active_ms == 30_000
        window.on_summary_done()

        service.stop()
        window.sign_out("button")
        shell.remote.on_probe()
        assert window.stack.currentWidget() is signin
        assert signin.class_status.text() == NO_SIGN_IN
        assert window.service_notice.text() == SERVICE_STOPPED
    finally:
        shell.close()
