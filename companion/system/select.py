"""Choosing the sensing sources for a session, with fallbacks, and saying which are in use.

The OS modules each answer one question (``input_x11.idle_ms`` and friends, like
ActivityWatch's ``seconds_since_last_input``); this module turns an OS idle time into an
``InputSource`` (``IdleTimeInput``), chains input sources so that a dead one hands over to
the next (``FallbackInput``), and picks the best source per kind for the platform
(``pick_input``, ``pick_lock``, ``pick_foreground``). When no input source is left the
session must record ``sensing`` false so that the time is unknown, never active:
``pick_input`` raises ``SensingUnavailable`` and ``FallbackInput.available()`` turns false.
``SessionSensing.observe`` builds the sampler's ``Observation`` from the chosen sources.

OS modules are imported lazily, so importing this module never touches a display, D-Bus or
a native library.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from companion.core.clock import Clock
from companion.core.sampler import Observation
from companion.system.external import ForegroundReader
from companion.system.sensing import FocusSource, InputSource, LockSource, NoLockSensing

log = logging.getLogger("companion.system")

DEFAULT_JITTER_MS = 100


class SensingUnavailable(RuntimeError):
    """No source of this kind can see anything: the session records ``sensing`` false."""


class SourceFailed(RuntimeError):
    """An OS source could not answer (display gone, D-Bus service gone, API missing)."""


def os_monotonic_ms() -> int:
    """Milliseconds on the clock the OS idle counters use: it stops while the machine sleeps.

    X servers, Mutter and macOS count idle time on such a clock; comparing on it means that
    a suspend never looks like fresh input.
    """
    return time.monotonic_ns() // 1_000_000


class IdleTimeInput(InputSource):
    """An input source over an OS idle counter ("ms since the last input anywhere").

    Each call of ``last_input_ms`` asks the OS once. The time of the last input event on the
    OS's own clock (``reference_ms() - idle``) decides whether there was new input: it must
    move forward by more than ``jitter_ms``, so polling noise and a suspend (which pauses
    the OS counter, not the journal's clock) never produce input. When it moves, the source
    stores the journal-clock time ``clock.monotonic_ms() - idle``, and only that.

    A failing ``idle_ms`` (``SourceFailed`` or ``OSError``) makes the source unavailable for
    good; ``last_input_ms`` then keeps returning the last value it had.
    """

    def __init__(
        self,
        name: str,
        idle_ms: Callable[[], int],
        clock: Clock,
        reference_ms: Callable[[], int] = os_monotonic_ms,
        jitter_ms: int = DEFAULT_JITTER_MS,
        close: Callable[[], None] | None = None,
    ) -> None:
        """Wrap ``idle_ms`` (ms since the last input on the OS's clock ``reference_ms``)."""
        self.name = name
        self._idle_ms = idle_ms
        self._clock = clock
        self._reference_ms = reference_ms
        self._jitter_ms = jitter_ms
        self._close = close
        self._event_ref: int | None = None
        self._last: int | None = None
        self._dead = False
        self.error: str | None = None

    def last_input_ms(self) -> int | None:
        """Journal-clock ms of the latest input the OS saw; None before the first answer."""
        if self._dead:
            return self._last
        try:
            idle = max(0, self._idle_ms())
        except (SourceFailed, OSError) as exc:
            self._fail(exc)
            return self._last
        event_ref = self._reference_ms() - idle
        if self._event_ref is None or event_ref > self._event_ref + self._jitter_ms:
            self._event_ref = event_ref
            self._last = self._clock.monotonic_ms() - idle
        return self._last

    def available(self) -> bool:
        """False once the OS stopped answering."""
        return not self._dead

    def close(self) -> None:
        """Release the OS connection (if any); the source is unavailable afterwards."""
        self._dead = True
        if self._close is not None:
            self._close()
            self._close = None

    def _fail(self, exc: BaseException) -> None:
        self.error = f"{type(exc).__name__}: {exc}"
        log.warning("input source %s stopped: %s", self.name, self.error)
        self._dead = True
        if self._close is not None:
            try:
                self._close()
            except Exception:  # the connection is already broken
                log.debug("closing %s failed", self.name, exc_info=True)
            self._close = None


class FallbackInput(InputSource):
    """Input from the first available source of an ordered list; ``in_use`` names it.

    When the source in use dies mid-session the next available one takes over at once;
    when none is left, ``available()`` is False and the session records sensing unavailable.
    """

    def __init__(self, sources: Sequence[InputSource]) -> None:
        """Try ``sources`` in this order."""
        self.sources = list(sources)
        self._in_use: str | None = None

    @property
    def name(self) -> str:  # type: ignore[override]
        """The name of the source in use, or ``none``."""
        return self.in_use or "none"

    @property
    def in_use(self) -> str | None:
        """The name of the source in use now (None when none is available)."""
        current = self._current()
        self._note(current)
        return None if current is None else current.name

    def last_input_ms(self) -> int | None:
        """The latest input from the source in use, falling through a source that dies."""
        for source in self.sources:
            if not source.available():
                continue
            value = source.last_input_ms()
            if source.available():
                self._note(source)
                return value
        self._note(None)
        return None

    def available(self) -> bool:
        """Whether any source can still see input."""
        return self._current() is not None

    def _current(self) -> InputSource | None:
        return next((s for s in self.sources if s.available()), None)

    def _note(self, source: InputSource | None) -> None:
        name = None if source is None else source.name
        if name != self._in_use:
            if name is None:
                log.warning("no input source left: sensing unavailable")
            else:
                log.info("input source in use: %s", name)
            self._in_use = name


@dataclass
class SessionSensing:
    """The sources a session samples, and the ``Observation`` they make at one tick.

    ``focus_available`` (optional) says whether the focus source can see the foreground;
    while it cannot, the tick reports the window focused with sensing unavailable, so the
    time is unknown (learning-rules.md section 2), never active and not guessed as waste.
    """

    input: InputSource
    focus: FocusSource
    lock: LockSource = field(default_factory=NoLockSensing)
    focus_available: Callable[[], bool] | None = None

    def observe(self) -> Observation:
        """What the sources say now."""
        locked = self.lock.locked()
        if self.focus_available is not None and not self.focus_available():
            return Observation(
                focused=True,
                locked=locked,
                sensing_available=False,
                last_input_ms=self.input.last_input_ms(),
            )
        focused = self.focus.focused()
        last = self.input.last_input_ms()
        return Observation(
            focused=focused,
            app=None if focused else self.focus.front_app(),
            locked=locked,
            sensing_available=self.input.available(),
            last_input_ms=last,
        )

    def describe(self) -> dict[str, str]:
        """Which source of each kind is in use (for logs, ``doctor`` and the UI)."""
        return {
            "input": self.input.name if self.input.available() else "none",
            "focus": type(self.focus).__name__,
            "lock": type(self.lock).__name__,
        }


OS_INPUT_VAR = "COMPANION_OS_INPUT"


def on_wayland(environ: dict[str, str] | None = None) -> bool:
    """Whether the desktop session is Wayland (X11 sources then see only XWayland apps)."""
    env = os.environ if environ is None else environ
    return env.get("XDG_SESSION_TYPE") == "wayland" or bool(env.get("WAYLAND_DISPLAY"))


def _os_idle_inputs(clock: Clock, environ: dict[str, str] | None) -> list[InputSource]:
    """The OS idle-time sources that open on this machine, best first."""
    out: list[InputSource] = []
    openers: list[Callable[[Clock], InputSource]] = []
    if sys.platform == "win32":
        from companion.system import input_windows

        openers.append(input_windows.open_source)
    elif sys.platform == "darwin":
        from companion.system import input_macos

        openers.append(input_macos.open_source)
    else:
        from companion.system import input_gnome, input_x11

        if on_wayland(environ):
            openers.append(input_gnome.open_source)
        else:
            openers += [input_x11.open_source, input_gnome.open_source]
    for opener in openers:
        try:
            out.append(opener(clock))
        except SourceFailed as exc:
            log.info("input source not available: %s", exc)
    return out


def pick_input(
    clock: Clock,
    first: Sequence[InputSource] = (),
    use_pynput: bool = True,
    environ: dict[str, str] | None = None,
) -> FallbackInput:
    """The best input sources for this machine, chained: ``first`` (e.g. the Qt event
    filter), then the OS idle time, and pynput listeners only when no OS idle time is
    available (they handle every event; the idle time is one query a tick).

    Raises ``SensingUnavailable`` when none of them can see input.
    ``COMPANION_OS_INPUT=off`` leaves out the OS idle time and pynput (for support, and for
    tests that prove what the app's own windows see).
    """
    env = os.environ if environ is None else environ
    sources: list[InputSource] = [s for s in first if s.available()]
    if env.get(OS_INPUT_VAR, "").lower() == "off":
        if not sources:
            raise SensingUnavailable(f"{OS_INPUT_VAR}=off and the app's windows see no input")
        log.info("input sources: %s only (%s=off)", [s.name for s in sources], OS_INPUT_VAR)
        return FallbackInput(sources)
    os_sources = _os_idle_inputs(clock, environ)
    sources += os_sources
    if use_pynput and not os_sources:  # listeners cost CPU per event: only as a last resort
        from companion.system.input_pynput import PynputInput

        listener = PynputInput(clock, environ=environ)
        if listener.start():
            sources.append(listener)
        else:
            log.info("input source not available: pynput: %s", listener.error)
    if not sources:
        raise SensingUnavailable("no input source can see activity on this computer")
    chain = FallbackInput(sources)
    log.info("input sources: %s (in use: %s)", [s.name for s in sources], chain.in_use)
    return chain


def pick_lock(environ: dict[str, str] | None = None) -> LockSource:
    """The screen-lock source for this platform; ``NoLockSensing`` where none answers."""
    try:
        if sys.platform == "win32":
            from companion.system import lock_windows

            return lock_windows.open_source()
        if sys.platform == "darwin":
            from companion.system import lock_macos

            return lock_macos.open_source()
        from companion.system import lock_linux

        return lock_linux.open_source()
    except SourceFailed as exc:
        log.info("screen lock cannot be seen: %s", exc)
        return NoLockSensing()


def pick_foreground(environ: dict[str, str] | None = None) -> ForegroundReader:
    """The foreground-window reader for this platform.

    Raises ``SensingUnavailable`` where the foreground cannot be seen (e.g. on Wayland,
    which does not tell other clients which window is active).
    """
    try:
        if sys.platform == "win32":
            from companion.system import foreground_windows

            return foreground_windows.open_source()
        if sys.platform == "darwin":
            from companion.system import foreground_macos

            return foreground_macos.open_source()
        if on_wayland(environ):
            raise SensingUnavailable("Wayland does not tell which window is in front")
        from companion.system import foreground_x11

        return foreground_x11.open_source()
    except SourceFailed as exc:
        raise SensingUnavailable(f"the foreground window cannot be seen: {exc}") from exc
