"""The X11 sources on a real X server: Xvfb (started here) with openbox as window manager.

Input is real (XTEST from this process); window changes are real (windows created by a
second X client, activated through the window manager). The sources feed the sampler with
an injected journal clock, and the journal lines are checked.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from companion.core.clock import FakeClock
from companion.core.journal import Line
from companion.core.sampler import Sampler
from companion.system import foreground_x11, input_x11
from companion.system.external import ExternalLesson, ExternalLessonFocus, launch
from companion.system.fakes import FakeFocus, FakeLock
from companion.system.input_pynput import PynputInput
from companion.system.select import DEFAULT_JITTER_MS, FallbackInput, SessionSensing
from tests import xdisplay

pytest.importorskip("Xlib")
import Xlib.display
import Xlib.error
import Xlib.ext.xtest
import Xlib.X
import Xlib.XK

WAIT_S = xdisplay.WAIT_S
wait_for = xdisplay.wait_for
XServer = xdisplay.XServer


@pytest.fixture(scope="module")
def xserver() -> Iterator[XServer]:
    """A fresh Xvfb on a free display number (-displayfd), kept across resets (-noreset)."""
    server = xdisplay.start_xvfb()
    if server is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb xauth)")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def window_manager(xserver: XServer) -> Iterator[str]:
    """openbox on the Xvfb display (``_NET_ACTIVE_WINDOW`` needs a window manager)."""
    process = xdisplay.start_window_manager(xserver.display)
    if process is None:
        pytest.skip("openbox is not installed (apt-get install openbox)")
    try:
        yield xserver.display
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def xclient(xserver: XServer) -> Iterator[Any]:
    """A test X client connection (sends XTEST input, creates windows)."""
    display = Xlib.display.Display(xserver.display)
    yield display
    display.close()


def press(display: Any, keysym_name: str) -> None:
    """A real key press and release through XTEST."""
    keycode = display.keysym_to_keycode(Xlib.XK.string_to_keysym(keysym_name))
    Xlib.ext.xtest.fake_input(display, Xlib.X.KeyPress, keycode)
    Xlib.ext.xtest.fake_input(display, Xlib.X.KeyRelease, keycode)
    display.sync()


def move_pointer(display: Any, x: int, y: int) -> None:
    """A real pointer motion through XTEST."""
    Xlib.ext.xtest.fake_input(display, Xlib.X.MotionNotify, x=x, y=y)
    display.sync()


def make_window(display: Any, app: str, title: str) -> Any:
    """A mapped top-level window of application ``app`` (WM_CLASS) titled ``title``."""
    screen = display.screen()
    window = screen.root.create_window(
        10,
        10,
        200,
        100,
        0,
        screen.root_depth,
        Xlib.X.InputOutput,
        Xlib.X.CopyFromParent,
        background_pixel=screen.white_pixel,
    )
    window.set_wm_class(app.lower(), app)
    window.set_wm_name(title.encode("ascii", "replace"))  # legacy WM_NAME is Latin-1
    window.change_property(
        display.intern_atom("_NET_WM_NAME"),
        display.intern_atom("UTF8_STRING"),
        8,
        title.encode(),
    )
    window.map()
    display.sync()
    return window


def activating(display: Any, window: Any, is_front: Callable[[], bool]) -> Callable[[], bool]:
    """A wait condition that asks the window manager to activate ``window`` until it is
    in front: a new window's focus is not left to the window manager's timing."""

    def condition() -> bool:
        if is_front():
            return True
        activate(display, window)
        return False

    return condition


def _title(reader: Any) -> str:
    front = reader.front()
    return "" if front is None else str(front.title)


def activate(display: Any, window: Any) -> None:
    """Ask the window manager to activate ``window`` (EWMH client message, as a pager)."""
    from Xlib.protocol import event

    root = display.screen().root
    message = event.ClientMessage(
        window=window,
        client_type=display.intern_atom("_NET_ACTIVE_WINDOW"),
        data=(32, [2, Xlib.X.CurrentTime, 0, 0, 0]),
    )
    mask = Xlib.X.SubstructureRedirectMask | Xlib.X.SubstructureNotifyMask
    root.send_event(message, event_mask=mask)
    display.sync()


def kinds(lines: list[Line]) -> list[str]:
    return [line.kind for line in lines]


# --- input: the X server's idle time (MIT-SCREEN-SAVER) ----------------------------------


def test_x11_idle_sees_real_key_presses_and_the_sampler_records_them(
    xserver: XServer, xclient: Any
) -> None:
    clock = FakeClock(monotonic_ms=1_000_000)
    source = input_x11.open_source(clock, xserver.display)
    try:
        idle = input_x11.XScreenSaverIdle(xserver.display)
        assert source.available()
        # the session opens the source as the run starts; input from before (the server's
        # start) is not the run's
        first = source.last_input_ms()
        assert first is not None and first <= clock.monotonic_ms()
        sampler = Sampler(clock.monotonic_ms())
        sensing = SessionSensing(source, FakeFocus())
        clock.advance(1000)
        assert sampler.tick(clock.monotonic_ms(), sensing.observe()) == []

        # the source ignores changes within its jitter allowance: let the X server's idle
        # time grow past it, then press a key
        wait_for(lambda: idle.idle_ms() > 3 * DEFAULT_JITTER_MS, "the X idle time to grow")
        before = idle.idle_ms()
        press(xclient, "a")
        wait_for(lambda: idle.idle_ms() < before, "the X server to see the key press")
        clock.advance(1000)
        lines = sampler.tick(clock.monotonic_ms(), sensing.observe())
        assert kinds(lines) == ["input"]
        last = source.last_input_ms()
        assert last is not None and last > sampler.run_start_mono_ms

        # no new input: the idle time keeps growing, no input line, no change of the stamp
        clock.advance(1000)
        assert sampler.tick(clock.monotonic_ms(), sensing.observe()) == []
        assert source.last_input_ms() == last
        idle.close()
    finally:
        source.close()


def test_x11_idle_source_dies_with_its_server_and_the_chain_falls_back(
    xserver: XServer,
) -> None:
    from companion.system.fakes import FakeInput

    clock = FakeClock()
    x_source = input_x11.open_source(clock, xserver.display)
    backup = FakeInput(clock)
    chain = FallbackInput([x_source, backup])
    assert chain.in_use == "x11-screensaver"
    # the X connection breaks (as when the X server goes away)
    x_source._close = None  # keep close() from running twice
    idle_display = x_source._idle_ms.__self__._display  # type: ignore[attr-defined]
    idle_display.close()
    backup.touch(5)
    assert chain.last_input_ms() == 5
    assert not x_source.available()
    assert chain.in_use == "fake"


# --- input: pynput listeners --------------------------------------------------------------


@pytest.fixture
def pynput_source(xserver: XServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[PynputInput]:
    if importlib.util.find_spec("pynput") is None:
        pytest.skip("pynput is not installed")
    monkeypatch.setenv("DISPLAY", xserver.display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("XDG_SESSION_TYPE", "x11")
    clock = FakeClock(monotonic_ms=50_000)
    source = PynputInput(clock)
    assert source.start(), source.error
    listeners = list(source._listeners)
    source.test_clock = clock  # type: ignore[attr-defined]
    yield source
    source.stop()
    assert not any(listener.is_alive() for listener in listeners), "a listener kept running"


def _state(source: PynputInput) -> dict[str, object]:
    """Everything the source and its listeners keep, except the timestamp and threads."""
    skip_listener = {
        "_started",
        "_tstate_lock",
        "_is_stopped",
        "_ident",
        "_native_id",
        "_condition",
        "_queue",
        "_thread",
        "_handle",
        "_os_thread_handle",
    }
    state: dict[str, object] = {k: v for k, v in vars(source).items() if k != "_listeners"}
    for i, listener in enumerate(source._listeners):
        for key, value in vars(listener).items():
            if key not in skip_listener:
                state[f"listener{i}.{key}"] = repr(value)
    return state


def test_pynput_listener_sees_real_keys_and_keeps_nothing_but_the_time(
    pynput_source: PynputInput, xclient: Any
) -> None:
    clock: FakeClock = pynput_source.test_clock  # type: ignore[attr-defined]
    assert pynput_source.available()
    assert pynput_source.last_input_ms() is None

    press(xclient, "a")
    wait_for(lambda: pynput_source.last_input_ms() == 50_000, "the listener to see 'a'")
    after_a = _state(pynput_source)

    clock.advance(1000)
    press(xclient, "z")
    wait_for(lambda: pynput_source.last_input_ms() == 51_000, "the listener to see 'z'")
    after_z = _state(pynput_source)

    assert after_a.pop("_last_ms") == 50_000
    assert after_z.pop("_last_ms") == 51_000
    assert after_a == after_z, "listener state differs between keys: it reveals the key"
    assert not any("'a'" in str(v) or "'z'" in str(v) for v in after_z.values())


def test_pynput_listener_keeps_no_pointer_position(
    pynput_source: PynputInput, xclient: Any
) -> None:
    clock: FakeClock = pynput_source.test_clock  # type: ignore[attr-defined]
    move_pointer(xclient, 11, 13)
    wait_for(lambda: pynput_source.last_input_ms() == 50_000, "the listener to see a move")
    at_first = _state(pynput_source)
    clock.advance(1000)
    move_pointer(xclient, 377, 291)
    wait_for(lambda: pynput_source.last_input_ms() == 51_000, "the listener to see a move")
    at_second = _state(pynput_source)
    at_first.pop("_last_ms")
    at_second.pop("_last_ms")
    assert at_first == at_second
    assert not any("377, 291" in str(v) for v in at_second.values())


def test_pynput_refuses_wayland_and_a_missing_display(xserver: XServer) -> None:
    wayland = PynputInput(
        FakeClock(), environ={"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": xserver.display}
    )
    assert not wayland.start()
    assert wayland.error is not None and "Wayland" in wayland.error
    assert not wayland.available()
    headless = PynputInput(FakeClock(), environ={})
    assert not headless.start()
    assert headless.error == "no X display"


# --- foreground: _NET_ACTIVE_WINDOW through openbox ---------------------------------------


def test_foreground_follows_real_window_changes_into_focus_lines(
    window_manager: str, xclient: Any
) -> None:
    reader = foreground_x11.open_source(window_manager)
    try:
        lesson_window = make_window(xclient, "LessonApp", "Fractions — level 2")
        wait_for(activating(xclient, lesson_window, lambda: _app(reader) == "LessonApp"),
                 "the lesson window to be active")
        front = reader.front()
        assert front is not None
        assert front.title == "Fractions — level 2"
        assert front.aliases == ("lessonapp",)

        clock = FakeClock(monotonic_ms=10_000)
        focus = ExternalLessonFocus(reader, ExternalLesson(app="lessonapp"))
        from companion.system.fakes import FakeInput

        sensing = SessionSensing(
            FakeInput(clock), focus, FakeLock(), focus_available=focus.available
        )
        sampler = Sampler(clock.monotonic_ms())
        clock.advance(1000)
        assert sampler.tick(clock.monotonic_ms(), sensing.observe()) == []

        other = make_window(xclient, "Distraction", "cat videos")
        wait_for(activating(xclient, other, lambda: _app(reader) == "Distraction"),
                 "the other window to be active")
        clock.advance(1000)
        lines = sampler.tick(clock.monotonic_ms(), sensing.observe())
        assert lines == [Line(2000, "focus", focused=False, app="Distraction")]

        wait_for(activating(xclient, lesson_window, lambda: _app(reader) == "LessonApp"),
                 "the lesson window to come back")
        clock.advance(1000)
        lines = sampler.tick(clock.monotonic_ms(), sensing.observe())
        assert lines == [Line(3000, "focus", focused=True)]
        other.destroy()
        lesson_window.destroy()
        xclient.sync()
    finally:
        reader.close()


def test_title_pattern_matches_the_browser_tab_of_a_web_lesson(
    window_manager: str, xclient: Any
) -> None:
    reader = foreground_x11.open_source(window_manager)
    lesson = ExternalLesson(title_pattern=r"khan academy", url="https://example.org/x")
    focus = ExternalLessonFocus(reader, lesson)
    try:
        tab = make_window(xclient, "Browser", "Fractions | Khan Academy — Browser")
        wait_for(
            activating(xclient, tab, lambda: "Khan" in _title(reader)),
            "the browser window to be active",
        )
        assert focus.focused()
        other_tab = make_window(xclient, "Browser", "Video games — Browser")
        wait_for(
            activating(xclient, other_tab, lambda: "games" in _title(reader)),
            "the other tab to be active",
        )
        assert not focus.focused()
        assert focus.front_app() == "Browser"
        tab.destroy()
        other_tab.destroy()
        xclient.sync()
    finally:
        reader.close()


LESSON_APP = textwrap.dedent(
    """
    import sys, time
    import Xlib.display, Xlib.X
    d = Xlib.display.Display(sys.argv[1])
    s = d.screen()
    w = s.root.create_window(0, 0, 120, 80, 0, s.root_depth, Xlib.X.InputOutput,
                             Xlib.X.CopyFromParent, background_pixel=s.black_pixel)
    w.set_wm_class("launchedlesson", "LaunchedLesson")
    w.set_wm_name("Launched lesson")
    w.map()
    d.sync()
    sys.stdin.read() if False else time.sleep(60)
    """
)


def test_launch_starts_the_lesson_app_and_focus_follows_it(window_manager: str) -> None:
    reader = foreground_x11.open_source(window_manager)
    lesson = ExternalLesson(
        app="LaunchedLesson", command=(sys.executable, "-c", LESSON_APP, window_manager)
    )
    focus = ExternalLessonFocus(reader, lesson)
    process = launch(lesson)
    assert process is not None
    try:
        wait_for(focus.focused, "the launched lesson window to be in front")
        assert reader.front() is not None
    finally:
        process.kill()
        process.wait(timeout=10)
        reader.close()


def test_foreground_reader_that_loses_x_reports_unknown_not_active(
    window_manager: str,
) -> None:
    from companion.system.fakes import FakeInput

    reader = foreground_x11.open_source(window_manager)
    clock = FakeClock()
    focus = ExternalLessonFocus(reader, ExternalLesson(app="LessonApp"))
    sensing = SessionSensing(FakeInput(clock), focus, focus_available=focus.available)
    sampler = Sampler(0)
    reader._display.close()  # the X connection breaks
    assert reader.front() is None
    assert not reader.available()
    clock.advance(1000)
    assert sampler.tick(clock.monotonic_ms(), sensing.observe()) == [
        Line(1000, "sensing", available=False)
    ]


def _app(reader: foreground_x11.X11Foreground) -> str | None:
    window = reader.front()
    return None if window is None else window.app


# --- choosing sources on a real display ---------------------------------------------------


def test_pick_input_on_x11_uses_the_idle_time_and_pynput_only_without_it(
    xserver: XServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from companion.system import select as sensing_select

    monkeypatch.setenv("DISPLAY", xserver.display)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    x11 = {"DISPLAY": xserver.display, "XDG_SESSION_TYPE": "x11"}
    chain = sensing_select.pick_input(FakeClock(), environ=x11)
    assert chain.in_use == "x11-screensaver"
    assert [s.name for s in chain.sources] == ["x11-screensaver"]
    chain.sources[0].close()  # type: ignore[attr-defined]

    def no_idle(clock: FakeClock, environ: dict[str, str] | None) -> list[object]:
        return []

    monkeypatch.setattr(sensing_select, "_os_idle_inputs", no_idle)
    chain = sensing_select.pick_input(FakeClock(), environ=x11)
    assert chain.in_use == "pynput"
    chain.sources[0].stop()  # type: ignore[attr-defined]


def test_pick_foreground_on_x11(window_manager: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from companion.system import select as sensing_select

    monkeypatch.setenv("DISPLAY", window_manager)
    reader = sensing_select.pick_foreground(environ={"DISPLAY": window_manager})
    assert isinstance(reader, foreground_x11.X11Foreground)
    reader.close()
