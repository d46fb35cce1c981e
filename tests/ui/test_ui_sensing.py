"""Per-run sensing: sources chosen when a run starts (with fallbacks), closed when it ends."""

from __future__ import annotations

from typing import Any

from companion.core.clock import FakeClock
from companion.system.external import FakeForeground, ForegroundReader, ForegroundWindow
from companion.system.fakes import FakeFocus, FakeInput, FakeLock
from companion.system.select import FallbackInput, SensingUnavailable
from companion.ui.run_sensing import Pickers, RunSensing
from tests.ui.conftest import Harness
from tests.ui.test_ui_lesson import DRILL, open_lesson, sign_in


class ClosingInput(FakeInput):
    """An OS input source that records being closed."""

    name = "os-idle"

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.closed = False

    def close(self) -> None:
        self.closed = True
        self.is_available = False


class ClosingForeground(FakeForeground):
    def __init__(self, window: ForegroundWindow) -> None:
        super().__init__(window)
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_no_input_source_means_sensing_unavailable() -> None:
    clock = FakeClock(monotonic_ms=5_000)

    def none(_clock: Any, _first: Any) -> FallbackInput:
        raise SensingUnavailable("nothing")

    def no_foreground() -> ForegroundReader:
        raise SensingUnavailable("wayland")

    sensing = RunSensing(clock, FakeInput(clock, available=False), FakeFocus(),
                         Pickers(input=none, lock=FakeLock, foreground=no_foreground))
    obs = sensing.observe()
    assert not obs.sensing_available
    assert sensing.current is not None
    assert sensing.current.describe() == {"input": "none", "focus": "FakeFocus",
                                          "lock": "FakeLock"}


def test_sources_chain_foreground_names_the_front_app_and_close_at_the_end() -> None:
    clock = FakeClock(monotonic_ms=5_000)
    qt_input = FakeInput(clock, available=True)
    os_input = ClosingInput(clock)
    reader = ClosingForeground(ForegroundWindow("Solitaire"))
    focus = FakeFocus(focus=False)
    sensing = RunSensing(clock, qt_input, focus, Pickers(
        input=lambda _c, first: FallbackInput([*first, os_input]),
        lock=FakeLock, foreground=lambda: reader))
    sensing.open()
    qt_input.touch()
    obs = sensing.observe()
    assert obs.sensing_available and obs.last_input_ms == 5_000
    assert not obs.focused and obs.app == "Solitaire"
    sensing.close()
    assert os_input.closed and reader.closed
    assert sensing.current is None
    assert qt_input.available()  # the app's own filter stays


def test_a_run_opens_sensing_and_its_end_closes_it(qtbot: Any, harness: Harness) -> None:
    w = harness.window
    sign_in(harness, "Ava")
    open_lesson(qtbot, harness, DRILL)
    assert w.run_sensing is not None and w.run_sensing.current is not None
    assert w.run_sensing.current.describe()["input"] == "fake"
    with qtbot.waitSignal(w.session.finished):
        w.session.end_not_completed()
    assert w.run_sensing.current is None
