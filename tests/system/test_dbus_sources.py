"""The D-Bus sources (logind, the screen saver, GNOME's idle monitor) against a private
dbus-daemon started here, with the services played by a small jeepney server thread."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from companion.core.clock import FakeClock
from companion.core.sampler import Sampler
from companion.system import input_gnome, lock_linux
from companion.system.fakes import FakeFocus, FakeInput
from companion.system.select import SessionSensing, SourceFailed

jeepney = pytest.importorskip("jeepney")
from jeepney import HeaderFields, MessageType, new_error, new_method_return  # noqa: E402
from jeepney.bus_messages import message_bus  # noqa: E402
from jeepney.io.blocking import open_dbus_connection  # noqa: E402

SESSION_PATH = "/org/freedesktop/login1/session/c7"


@pytest.fixture(scope="module")
def bus() -> Iterator[str]:
    """The address of a private dbus-daemon (session configuration)."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus)")
    process = subprocess.Popen(
        [daemon, "--session", "--nofork", "--print-address=1", "--address=unix:tmpdir=/tmp"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    address = process.stdout.readline().decode().strip()
    try:
        assert address, "dbus-daemon printed no address"
        yield address
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


class FakeDesktop:
    """logind, the freedesktop screen saver and Mutter's idle monitor on one connection."""

    def __init__(self, address: str) -> None:
        self.locked_hint = False
        self.saver_active = False
        self.idle_ms = 5000
        self._conn: Any = open_dbus_connection(bus=address)
        for name in (
            "org.freedesktop.login1",
            "org.freedesktop.ScreenSaver",
            "org.gnome.Mutter.IdleMonitor",
        ):
            self._conn.send_and_get_reply(message_bus.RequestName(name), timeout=5)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _answer(self, msg: Any) -> Any:
        fields = msg.header.fields
        member, path = fields.get(HeaderFields.member), fields.get(HeaderFields.path)
        if member == "GetSession" and msg.body == ("c7",):
            return new_method_return(msg, "o", (SESSION_PATH,))
        if member == "Get" and path == SESSION_PATH and msg.body[1] == "LockedHint":
            return new_method_return(msg, "v", (("b", self.locked_hint),))
        if member == "GetActive" and path == "/org/freedesktop/ScreenSaver":
            return new_method_return(msg, "b", (self.saver_active,))
        if member == "GetIdletime":
            return new_method_return(msg, "t", (self.idle_ms,))
        return new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod")

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self._conn.receive(timeout=0.05)
            except TimeoutError:
                continue
            except OSError:
                return
            if msg.header.message_type == MessageType.method_call:
                self._conn.send(self._answer(msg))

    def stop(self) -> None:
        """The services go away (their connection closes)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._conn.close()


@pytest.fixture
def desktop(bus: str) -> Iterator[FakeDesktop]:
    services = FakeDesktop(bus)
    yield services
    if not services._stop.is_set():
        services.stop()


def test_logind_locked_hint_and_screen_saver_make_lock_lines(
    bus: str, desktop: FakeDesktop
) -> None:
    lock = lock_linux.LinuxLock(
        [lock_linux.LogindLock(bus, session_id="c7"), lock_linux.ScreenSaverLock(bus)]
    )
    assert lock.in_use == ["logind", "screensaver"]
    clock = FakeClock()
    keys = FakeInput(clock)
    sensing = SessionSensing(keys, FakeFocus(), lock)
    sampler = Sampler(0)
    assert sampler.tick(1000, sensing.observe()) == []
    desktop.locked_hint = True
    assert [line.kind for line in sampler.tick(2000, sensing.observe())] == ["lock"]
    desktop.locked_hint = False
    assert [line.kind for line in sampler.tick(3000, sensing.observe())] == ["unlock"]
    desktop.saver_active = True
    assert [line.kind for line in sampler.tick(4000, sensing.observe())] == ["lock"]
    desktop.stop()  # the services disappear mid-session: unlocked, sources dropped
    assert [line.kind for line in sampler.tick(5000, sensing.observe())] == ["unlock"]
    assert lock.in_use == []
    assert keys.available()


def test_logind_session_auto_path_is_used_without_a_session_id(
    bus: str, desktop: FakeDesktop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_SESSION_ID", raising=False)
    with pytest.raises(SourceFailed, match="UnknownMethod"):
        lock_linux.LogindLock(bus)  # our fake logind only knows session c7


def test_open_source_without_any_service_fails(bus: str) -> None:
    with pytest.raises(SourceFailed):
        lock_linux.open_source(bus, bus)


def test_gnome_idle_monitor_feeds_input_and_dies_into_sensing_unavailable(
    bus: str, desktop: FakeDesktop
) -> None:
    clock = FakeClock(monotonic_ms=100_000)
    os_clock = [1_000_000]
    source = input_gnome.open_source(clock, bus)
    source._reference_ms = lambda: os_clock[0]  # the compositor's clock, scripted
    source.last_input_ms()
    sensing = SessionSensing(source, FakeFocus())
    sampler = Sampler(clock.monotonic_ms())
    clock.advance(1000)
    os_clock[0] += 1000
    desktop.idle_ms += 1000
    assert sampler.tick(clock.monotonic_ms(), sensing.observe()) == []
    clock.advance(1000)
    os_clock[0] += 1000
    desktop.idle_ms = 200  # the student typed 200 ms ago
    lines = sampler.tick(clock.monotonic_ms(), sensing.observe())
    assert [line.kind for line in lines] == ["input"]
    assert source.last_input_ms() == clock.monotonic_ms() - 200
    desktop.stop()  # Mutter goes away: the very next tick says sensing unavailable
    clock.advance(1000)
    lines = sampler.tick(clock.monotonic_ms(), sensing.observe())
    assert [(line.kind, line.available) for line in lines] == [("sensing", False)]
    assert not source.available()


def test_gnome_idle_monitor_missing_is_source_failed(bus: str) -> None:
    with pytest.raises(SourceFailed):
        input_gnome.open_source(FakeClock(), bus)
