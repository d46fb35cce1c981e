"""The app's sign-in and run over the service's real Unix socket (``companion.app.remote``,
``remote_run``), on a temporary data folder with the demo school. The service and the app
share one fake clock, so a minute of a lesson takes no minute of the test; the service is
stopped and started again on the same folder to see that no line is lost."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from companion.app.hosting import MACHINE_SOCKET, service_socket
from companion.app.remote import (
    NO_SIGN_IN,
    SERVICE_STOPPED,
    RemoteLibrary,
    RemoteSignIn,
    ServiceDown,
    ServiceLink,
)
from companion.app.remote_run import RemoteRun
from companion.commands.service import DEFAULT_SOCKET, Hosted, build_service
from companion.content import demo_lessons_path, load_library
from companion.core import rules
from companion.core.catalogue import Catalogue
from companion.core.clock import FakeClock
from companion.core.sampler import Observation
from companion.core.session_types import LessonLocked, TickResult
from companion.service.client import ServiceClient, ServiceRefused, unix_socket
from companion.service.endpoint import UnixEndpoint
from companion.store import runs
from tests.service.conftest import AVA, DRILL

DRILL_ANSWERS = {"drill-1": "13", "drill-2": "9", "drill-3": "42", "drill-4": "8", "drill-5": "7"}
DRILL_KEY = {"drill-1": "13", "drill-2": "9", "drill-3": "42", "drill-4": "8", "drill-5": "100"}


@dataclass
class Machine:
    """A service on a Unix socket in this process (restartable), and the app's side."""

    data: Path
    socket: Path
    clock: FakeClock
    hosted: Hosted | None = None
    endpoint: UnixEndpoint | None = None
    inputs: list[int] = field(default_factory=list)
    clients: list[ServiceClient] = field(default_factory=list)

    def start(self) -> None:
        self.hosted = build_service(self.data, "sandbox", self.clock, demo_school=True)
        self.endpoint = UnixEndpoint(self.hosted.service, self.socket)
        self.endpoint.start()

    def stop(self) -> None:
        if self.endpoint is not None:
            self.endpoint.close()
            self.endpoint = None
        if self.hosted is not None:
            self.hosted.close()
            self.hosted = None

    def observe(self) -> Observation:
        return Observation(last_input_ms=self.inputs[-1] if self.inputs else None)

    def seconds(self, run: RemoteRun, n: int) -> list[TickResult]:
        """``n`` seconds of a student at work (an input every second)."""
        out = []
        for _ in range(n):
            self.clock.advance(1000)
            self.inputs.append(self.clock.monotonic_ms())
            out.append(run.tick())
        return out


@pytest.fixture
def machine() -> Iterator[Machine]:
    with tempfile.TemporaryDirectory(prefix="svc", dir="/tmp") as short:  # socket paths are short
        found = Machine(Path(short) / "data", Path(short) / "s.sock", FakeClock())
        found.start()
        yield found
        for client in found.clients:
            client.close()
        found.stop()


@pytest.fixture
def catalogue() -> Catalogue:
    return load_library([demo_lessons_path()], Path(tempfile.gettempdir()) / "cache-i17c").catalogue


def app_side(machine: Machine, catalogue: Catalogue) -> tuple[ServiceLink, RemoteSignIn, RemoteRun]:
    from companion.system.fakes import FakeFocus, FakeInput, FakeLock

    link = ServiceLink(ServiceClient(unix_socket(machine.socket, 5.0)))
    machine.clients.append(link.client)
    run = RemoteRun(
        link,
        machine.clock,
        catalogue,
        FakeInput(),
        FakeFocus(),
        FakeLock(),
        observe=machine.observe,
    )
    return link, RemoteSignIn(link), run


def study(machine: Machine, run: RemoteRun, answers: dict[str, str]) -> int:
    """Ten seconds between answers; the lines written."""
    written = 0
    for item, response in answers.items():
        written += sum(len(t.lines) for t in machine.seconds(run, 10))
        run.note_response(item, response)
        run.answer(item, response == DRILL_KEY[item], "app")  # as the page bridge scores
        written += 1
    return written


def test_the_socket_is_chosen_only_when_named_or_on_a_machine_without_copied_folders(
    tmp_path: Path,
) -> None:
    assert MACHINE_SOCKET == DEFAULT_SOCKET  # where `companion service` listens by default
    here = tmp_path / "service.sock"
    here.touch()
    assert service_socket({"COMPANION_SERVICE_SOCKET": "/x/s.sock"}, here) == Path("/x/s.sock")
    assert service_socket({}, here) == here
    assert service_socket({"COMPANION_DATA_DIR": "/d"}, here) is None
    assert service_socket({"COMPANION_CONFIG_DIR": "/c"}, here) is None
    assert service_socket({}, tmp_path / "none.sock") is None


def test_sign_in_and_a_drill_give_the_summary_the_service_stored(
    machine: Machine, catalogue: Catalogue
) -> None:
    link, signin, run = app_side(machine, catalogue)
    assert [c.id for c in signin.classes()] == ["demo-class-1", "demo-class-2"]
    assert AVA in [s.id for s in signin.students("demo-class-1")]
    wrong = signin.sign_in(AVA, "0000")
    assert (wrong.status, wrong.remaining_attempts) == ("wrong_pin", 4)
    signed = signin.sign_in(AVA, "1234")
    assert signed.ok and signed.user is not None and signed.user.user_id == AVA
    guide = signin.sign_in_guide("demo-guide-1", "9999")
    assert guide.ok and guide.user is not None and guide.user.user_id == "demo-guide-1"

    library = RemoteLibrary(link, catalogue)
    states = {
        row.lesson.id: row.state for course in library.lessons_for(AVA) for row in course.lessons
    }
    assert states[DRILL] != "locked" and "locked" in states.values()
    locked = next(lesson for lesson, state in states.items() if state == "locked")
    with pytest.raises(LessonLocked):
        run.start(AVA, locked)

    handle = run.start(AVA, DRILL)
    written = study(machine, run, DRILL_ANSWERS)
    live = run.live()
    assert (live.answered, live.correct) == (5, 4)
    summary = run.complete()

    assert machine.hosted is not None
    db = machine.hosted.db
    row = runs.get_run(db, handle.run_id)
    assert row is not None and row.state == "closed"
    journal = runs.journal(db, handle.run_id)
    assert len(journal) == 1 + written + 1  # start, every line of the app, end
    stored = rules.score(journal, rules.classify(journal))
    assert summary.xp == Decimal(row.xp) == stored.xp
    assert summary.accuracy == float(stored.accuracy or 0) == 0.8
    assert (summary.questions, summary.correct) == (5, 4)
    assert summary.active_ms == stored.active_ms == 50_000
    assert summary.completed and not summary.mastered
    assert any("Accuracy: 4 of 5" in line for line in summary.explain)
    today = library.today(AVA)
    assert today.xp == summary.xp and today.runs == 1


def test_a_service_stopped_mid_lesson_gets_every_line_when_it_is_back(
    machine: Machine, catalogue: Catalogue
) -> None:
    link, signin, run = app_side(machine, catalogue)
    heard: list[tuple[bool, str | None]] = []
    link.subscribe(lambda up, text: heard.append((up, text)))
    assert signin.sign_in(AVA, "1234").ok
    handle = run.start(AVA, DRILL)
    written = study(machine, run, dict(list(DRILL_ANSWERS.items())[:2]))

    machine.stop()
    written += study(machine, run, dict(list(DRILL_ANSWERS.items())[2:]))
    assert not link.up and link.text == SERVICE_STOPPED
    assert heard == [(False, SERVICE_STOPPED)]
    assert run.live().answered == 5  # the window's figures go on
    waiting = run._client.pending(handle.run_id)
    assert waiting >= 3  # the answers at least, in memory
    with pytest.raises(ServiceDown, match="nobody can sign in"):
        signin.sign_in("demo-student-02", "1234")
    assert str(NO_SIGN_IN).startswith("The companion service")

    machine.start()
    assert link.probe()
    assert heard[-1] == (True, None)
    assert run._client.pending(handle.run_id) == 0
    summary = run.complete()

    assert machine.hosted is not None
    journal = runs.journal(machine.hosted.db, handle.run_id)
    assert len(journal) == 1 + written + 1  # not one line lost
    assert [line.item for line in journal if line.kind == "answer"] == list(DRILL_ANSWERS)
    row = runs.get_run(machine.hosted.db, handle.run_id)
    assert row is not None and summary.xp == Decimal(row.xp)
    assert summary.reason is None and summary.questions == 5


def test_a_lesson_ended_while_the_service_is_away_is_closed_when_it_is_back(
    machine: Machine, catalogue: Catalogue
) -> None:
    link, signin, run = app_side(machine, catalogue)
    assert signin.sign_in(AVA, "1234").ok
    handle = run.start(AVA, DRILL)
    study(machine, run, DRILL_ANSWERS)
    machine.stop()
    summary = run.quit()
    assert summary.reason == SERVICE_STOPPED and summary.questions == 5  # this app's reckoning
    assert run.waiting == 1 and run.run is None
    run.sign_out(AVA)  # kept until the close is handed over

    machine.start()
    assert link.probe()
    assert run.waiting == 0
    assert machine.hosted is not None
    row = runs.get_run(machine.hosted.db, handle.run_id)
    assert row is not None and row.state == "closed" and not row.completed
    assert link.client.request("status")["openRuns"] == 0
    with pytest.raises(ServiceRefused) as refused:  # and the sign-in ended after it
        link.client.request("library", student=AVA)
    assert refused.value.code == "not_signed_in"
