"""Input activity from pynput's global keyboard and mouse listeners.

The listeners' callbacks receive the key or the pointer position from pynput and drop them
at once: the only thing this module ever stores is the journal-clock time of the latest
event (``PRIVACY``). pynput is imported lazily in ``start``; it fails without a display,
on Wayland (where its X backend would only see XWayland clients) and on macOS without the
Accessibility permission, and then ``start`` returns False with ``error`` saying why, so
the caller falls back to another source.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

from companion.core.clock import Clock
from companion.system.select import on_wayland
from companion.system.sensing import InputSource

log = logging.getLogger("companion.system")

READY_TIMEOUT_S = 3.0
PRIVACY = "listener callbacks keep only the time of the latest input"


class PynputInput(InputSource):
    """Global keyboard and mouse listeners that remember only when input last happened."""

    name = "pynput"

    def __init__(self, clock: Clock, environ: dict[str, str] | None = None) -> None:
        """Listeners are created by ``start``."""
        self._clock = clock
        self._environ = environ
        self._last_ms: int | None = None
        self._listeners: list[Any] = []
        self.error: str | None = None

    def on_input(self, *_event: object) -> None:
        """The callback of every listener: note the time, drop the event."""
        self._last_ms = self._clock.monotonic_ms()

    def start(self) -> bool:
        """Start the listeners; False (with ``error``) when pynput cannot listen here."""
        if sys.platform.startswith("linux") and on_wayland(self._environ):
            self.error = "pynput cannot see input of Wayland clients"
            return False
        env = os.environ if self._environ is None else self._environ
        if sys.platform.startswith("linux") and not env.get("DISPLAY"):
            self.error = "no X display"
            return False
        try:
            from pynput import keyboard, mouse
        except Exception as exc:  # pynput raises ImportError or X errors at import
            self.error = f"pynput unavailable: {type(exc).__name__}: {exc}"
            return False
        try:
            self._listeners = [
                keyboard.Listener(on_press=self.on_input, on_release=self.on_input),
                mouse.Listener(
                    on_move=self.on_input, on_click=self.on_input, on_scroll=self.on_input
                ),
            ]
            for listener in self._listeners:
                listener.start()
            self._wait_ready()
        except Exception as exc:  # X errors, missing RECORD extension, OS hooks refused
            self.error = f"pynput listener failed: {type(exc).__name__}: {exc}"
            self.stop()
            return False
        log.info("pynput listeners started")
        return True

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        pause = threading.Event()
        for listener in self._listeners:
            while not getattr(listener, "_ready", True):
                if not listener.is_alive():
                    raise RuntimeError("listener thread ended while starting")
                if time.monotonic() > deadline:
                    raise TimeoutError("listener did not become ready")
                pause.wait(0.01)
            if getattr(listener, "IS_TRUSTED", True) is False:
                raise PermissionError("macOS Accessibility permission is missing")

    def stop(self) -> None:
        """Stop the listeners; the source is unavailable afterwards."""
        for listener in self._listeners:
            try:
                listener.stop()
                _wake_xorg_listener(listener)
            except Exception:  # a listener that never started, or X already gone
                log.debug("stopping a pynput listener failed", exc_info=True)
        for listener in self._listeners:
            if listener.is_alive() and listener is not threading.current_thread():
                listener.join(timeout=1.0)
        self._listeners = []

    def last_input_ms(self) -> int | None:
        """Journal-clock ms of the latest key or pointer event; None before any."""
        return self._last_ms

    def available(self) -> bool:
        """True while every listener thread is running."""
        return bool(self._listeners) and all(
            listener.is_alive() and listener.running for listener in self._listeners
        )


def _wake_xorg_listener(listener: Any) -> None:
    """pynput's X11 keyboard listener only ends at its next event: its ``stop`` disables
    the RECORD context on the connection that is blocked reading. Disable it through the
    listener's control connection too, so ``stop`` returns at once."""
    display = getattr(listener, "_display_stop", None)
    context = getattr(listener, "_context", None)
    if display is not None and context is not None:
        display.record_disable_context(context)
        display.flush()
