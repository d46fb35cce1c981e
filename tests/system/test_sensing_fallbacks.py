"""The OS-independent parts of the sensing sources, driven by fakes and an injected clock:
idle time to input, lock, sleep, clock jumps, a source dying mid-session, and the choice of
sources, each checked through the journal lines the sampler writes and the rules' totals.
"""

from __future__ import annotations

import pytest

from companion.core.clock import FakeClock
from companion.core.journal import Line
from companion.core.rules import summarize
from companion.core.sampler import Sampler
from companion.system import select as sensing_select
from companion.system.fakes import FakeFocus, FakeInput, FakeLock
from companion.system.lock_linux import LinuxLock
from companion.system.select import (
    FallbackInput,
    IdleTimeInput,
    SensingUnavailable,
    SessionSensing,
    SourceFailed,
    on_wayland,
    pick_input,
)
from companion.system.sensing import NoLockSensing


class OsIdle:
    """A scripted OS idle counter: input happens at OS-clock instants; the OS clock can be
    paused (suspend) while the journal clock runs on."""

    def __init__(self) -> None:
        self.os_now = 500_000
        self.last_event = 400_000
        self.dead = False

    def idle_ms(self) -> int:
        if self.dead:
            raise SourceFailed("service gone")
        return self.os_now - self.last_event

    def reference_ms(self) -> int:
        return self.os_now

    def input_now(self) -> None:
        self.last_event = self.os_now


class Session:
    """A sampler fed by sources every simulated second, collecting the journal."""

    def __init__(self, sensing: SessionSensing, clock: FakeClock, os_idle: OsIdle | None) -> None:
        self.sensing = sensing
        self.clock = clock
        self.os_idle = os_idle
        self.sampler = Sampler(clock.monotonic_ms())
        self.lines: list[Line] = [Line(0, "start", lesson="lesson-1")]
        # the session samples once as the run starts, so a source missing from the
        # beginning makes the whole run unknown
        self.lines += self.sampler.tick(clock.monotonic_ms(), sensing.observe())

    def tick(self, ms: int = 1000, os_ms: int | None = None) -> list[Line]:
        self.clock.advance(ms)
        if self.os_idle is not None:
            self.os_idle.os_now += ms if os_ms is None else os_ms
        out = self.sampler.tick(self.clock.monotonic_ms(), self.sensing.observe())
        self.lines += out
        return out

    def end(self) -> dict[str, object]:
        self.lines.append(Line(self.sampler.run_time(self.clock.monotonic_ms()), "end"))
        return summarize(self.lines)


def idle_session(jitter_ms: int = 100) -> tuple[Session, OsIdle, IdleTimeInput]:
    clock = FakeClock(monotonic_ms=10_000_000)
    os_idle = OsIdle()
    source = IdleTimeInput("os", os_idle.idle_ms, clock, os_idle.reference_ms, jitter_ms)
    source.last_input_ms()  # the session opens the source as the run starts
    session = Session(SessionSensing(source, FakeFocus()), clock, os_idle)
    return session, os_idle, source


def kinds(lines: list[Line]) -> list[str]:
    return [line.kind for line in lines]


# --- idle time → input --------------------------------------------------------------------


def test_idle_time_becomes_input_lines_only_when_the_os_saw_new_input() -> None:
    session, os_idle, source = idle_session()
    assert session.tick() == []  # input from before the run is not the run's
    os_idle.last_event = os_idle.os_now + 300  # a key press 300 ms into the next second
    assert kinds(session.tick()) == ["input"]
    # the stamp is on the journal clock: the event was 1000 - 300 = 700 ms before the tick
    assert source.last_input_ms() == session.clock.monotonic_ms() - 700
    assert session.tick() == []
    assert session.tick() == []


def test_polling_jitter_within_the_allowance_is_not_input() -> None:
    session, os_idle, _ = idle_session(jitter_ms=100)
    session.tick()
    os_idle.input_now()
    assert kinds(session.tick()) == ["input"]
    # the OS clock read a little late, as when a reply is slow: idle looks 80 ms shorter
    os_idle.os_now -= 80
    assert session.tick(os_ms=1000) == []


def test_suspend_pauses_the_os_counter_but_is_no_input() -> None:
    session, os_idle, _ = idle_session()
    session.tick()
    # the machine sleeps 5 minutes: the journal clock (CLOCK_BOOTTIME) counts, the OS idle
    # counter does not
    lines = session.tick(ms=300_000, os_ms=0)
    assert kinds(lines) == ["suspend", "resume"]
    assert lines[0].t == 1000 and lines[1].t == 301_000
    assert session.tick() == []
    os_idle.input_now()  # the student is back
    assert kinds(session.tick()) == ["input"]
    result = session.end()
    assert result["inactiveSeconds"] == 300  # suspended, never active
    assert result["activeSeconds"] == 3


def test_the_journal_clock_jumping_backward_writes_no_earlier_line() -> None:
    session, os_idle, _ = idle_session()
    session.tick()
    os_idle.input_now()
    assert session.tick() == [Line(2000, "input")]
    session.tick()
    os_idle.os_now += 500
    os_idle.input_now()
    # a clock that went back (CLOCK_BOOTTIME must not; stay safe if one does)
    lines = session.tick(ms=-1500, os_ms=1000)
    assert all(line.t >= 3000 for line in lines)
    session.tick(ms=2000)
    os_idle.input_now()
    assert kinds(session.tick()) == ["input"]  # input after the jump is recorded again
    times = [line.t for line in session.lines]
    assert times == sorted(times)


def test_a_jump_forward_of_ten_ticks_is_no_sleep_but_eleven_are() -> None:
    session, _, _ = idle_session()
    assert session.tick(ms=10_000) == []
    assert kinds(session.tick(ms=10_001)) == ["suspend", "resume"]


def test_the_os_idle_counter_going_back_is_not_input() -> None:
    # e.g. the X server restarted: its clock starts again near zero
    session, os_idle, _ = idle_session()
    session.tick()
    os_idle.os_now, os_idle.last_event = 5_000, 1_000
    assert session.tick() == []


# --- sources dying mid-session ------------------------------------------------------------


def test_source_dying_mid_session_falls_back_then_records_sensing_unavailable() -> None:
    clock = FakeClock(monotonic_ms=1_000)
    os_idle = OsIdle()
    primary = IdleTimeInput("os", os_idle.idle_ms, clock, os_idle.reference_ms)
    backup = FakeInput(clock)
    chain = FallbackInput([primary, backup])
    session = Session(SessionSensing(chain, FakeFocus()), clock, os_idle)
    assert chain.in_use == "os"
    session.tick()
    os_idle.dead = True  # the D-Bus service / X server goes away
    backup.touch()
    assert kinds(session.tick()) == ["input"]  # the backup saw it
    assert chain.in_use == "fake"
    assert not primary.available() and primary.error is not None
    backup.is_available = False  # the last source dies too
    assert session.tick() == [Line(3000, "sensing", available=False)]
    assert chain.in_use is None and chain.name == "none"
    backup.is_available = True
    assert session.tick() == [Line(4000, "sensing", available=True)]
    session.tick()
    result = session.end()
    assert result["unknownSeconds"] == 1  # the second with no source: unknown, not active


def test_time_without_any_input_source_is_unknown_never_active() -> None:
    clock = FakeClock()
    session = Session(SessionSensing(FallbackInput([]), FakeFocus()), clock, None)
    assert session.lines[1:] == [Line(0, "sensing", available=False)]
    for _ in range(31):
        session.tick()
    result = session.end()
    assert result["activeSeconds"] == 0
    assert result["unknownSeconds"] == 31


def test_a_source_failing_with_oserror_is_unavailable_and_keeps_its_last_stamp() -> None:
    clock = FakeClock()
    calls = iter([1000])

    def idle() -> int:
        value = next(calls, None)
        if value is None:
            raise OSError("connection reset")
        return value

    closed: list[bool] = []
    source = IdleTimeInput("os", idle, clock, lambda: 5000, close=lambda: closed.append(True))
    assert source.last_input_ms() == -1000
    assert source.last_input_ms() == -1000
    assert not source.available()
    assert closed == [True]
    assert source.error == "OSError: connection reset"


# --- lock and focus -----------------------------------------------------------------------


def test_lock_and_unlock_lines_and_away_time() -> None:
    clock = FakeClock()
    lock = FakeLock()
    session = Session(SessionSensing(FakeInput(clock), FakeFocus(), lock), clock, None)
    session.tick()
    lock.is_locked = True
    assert session.tick() == [Line(2000, "lock")]
    for _ in range(5):
        assert session.tick() == []
    lock.is_locked = False
    assert session.tick() == [Line(8000, "unlock")]
    result = session.end()
    assert result["inactiveSeconds"] == 6
    assert result["activeSeconds"] == 2


class ScriptedLock:
    """A lock source with ``read`` as the Linux ones have (``SourceFailed`` when dead)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.state: bool | None = False  # None: dead
        self.closed = False

    def read(self) -> bool:
        if self.state is None:
            raise SourceFailed(f"{self.name} gone")
        return self.state

    def close(self) -> None:
        self.closed = True


def test_linux_lock_is_locked_if_any_source_says_so_and_drops_a_dead_one() -> None:
    logind, saver = ScriptedLock("logind"), ScriptedLock("screensaver")
    lock = LinuxLock([logind, saver])  # type: ignore[list-item]
    assert not lock.locked()
    saver.state = True
    assert lock.locked()
    saver.state = None
    assert not lock.locked()
    assert saver.closed and lock.in_use == ["logind"]
    logind.state = True
    assert lock.locked()
    logind.state = None
    assert not lock.locked()  # nothing left: unlocked, as with NoLockSensing
    assert lock.in_use == []


def test_focus_lost_names_the_app_in_front() -> None:
    clock = FakeClock()
    focus = FakeFocus()
    session = Session(SessionSensing(FakeInput(clock), focus), clock, None)
    focus.focus, focus.app = False, "Minecraft"
    assert session.tick() == [Line(1000, "focus", focused=False, app="Minecraft")]


def test_a_focus_source_that_cannot_see_makes_unknown_time_not_waste() -> None:
    clock = FakeClock()
    visible = [True]
    focus = FakeFocus(focus=False, app="Browser")
    sensing = SessionSensing(FakeInput(clock), focus, focus_available=lambda: visible[0])
    session = Session(sensing, clock, None)
    assert session.lines[1:] == [Line(0, "focus", focused=False, app="Browser")]
    visible[0] = False
    assert session.tick() == [
        Line(1000, "sensing", available=False),
        Line(1000, "focus", focused=True, app=None),
    ]
    session.tick()
    result = session.end()
    assert result["wasteSeconds"] == 1
    assert result["unknownSeconds"] == 1
    assert result["activeSeconds"] == 0


# --- choosing sources ---------------------------------------------------------------------


@pytest.fixture
def headless(monkeypatch: pytest.MonkeyPatch) -> None:
    """No display and no session bus: no OS source can open."""
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/system_bus_socket")


def test_pick_input_without_any_source_raises_sensing_unavailable(headless: None) -> None:
    with pytest.raises(SensingUnavailable):
        pick_input(FakeClock(), environ={})


def test_pick_input_uses_the_sources_given_first(headless: None) -> None:
    clock = FakeClock()
    qt_like = FakeInput(clock)
    chain = pick_input(clock, first=[qt_like], environ={})
    assert chain.in_use == "fake"
    assert chain.sources == [qt_like]


def test_pick_lock_without_a_bus_cannot_see_locking(headless: None) -> None:
    assert isinstance(sensing_select.pick_lock(), NoLockSensing)


def test_pick_foreground_on_wayland_is_unavailable() -> None:
    with pytest.raises(SensingUnavailable, match="Wayland"):
        sensing_select.pick_foreground(environ={"WAYLAND_DISPLAY": "wayland-0"})


def test_wayland_detection() -> None:
    assert on_wayland({"XDG_SESSION_TYPE": "wayland"})
    assert on_wayland({"WAYLAND_DISPLAY": "wayland-1"})
    assert not on_wayland({"XDG_SESSION_TYPE": "x11", "DISPLAY": ":0"})


def test_describe_names_the_sources_in_use() -> None:
    clock = FakeClock()
    sensing = SessionSensing(FallbackInput([FakeInput(clock)]), FakeFocus(), FakeLock())
    assert sensing.describe() == {"input": "fake", "focus": "FakeFocus", "lock": "FakeLock"}
