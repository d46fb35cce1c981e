"""Lessons that run in another application: start them, and follow the foreground window.

A lesson bundle may name an external application or a web address (``external`` in
lesson.json: ``{"app": ..., "titlePattern": ..., "url": ...}``). ``launch`` starts it (the
system browser for a URL, otherwise the application), and ``ExternalLessonFocus`` is the
session's focus source while it runs: focused only while a window matching the lesson's
application name or title pattern is in front, otherwise not focused and naming the
application in front (so the journal says ``focus-lost:<app>``).

The foreground window comes from a ``ForegroundReader`` (one module per OS:
``foreground_x11``, ``foreground_windows``, ``foreground_macos``; ``FakeForeground`` here
for tests). ``FrontAppFocus`` adds the front application's name to a focus source that
cannot name it (the Qt window focus source) for lessons in the session window.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from companion.system.sensing import FocusSource

log = logging.getLogger("companion.system")


@dataclass(frozen=True, slots=True)
class ForegroundWindow:
    """The window in front: its application's display name, other names the application
    goes by (X11 WM_CLASS instance, Windows executable, macOS bundle id), its title and the
    owning process id (when known)."""

    app: str | None
    title: str = ""
    aliases: tuple[str, ...] = ()
    pid: int | None = None

    def names(self) -> tuple[str, ...]:
        """Every name the application goes by."""
        return tuple(n for n in (self.app, *self.aliases) if n)


class ForegroundReader(ABC):
    """Reads which window is in front, on demand (once per sampler tick)."""

    name: str = "foreground"

    @abstractmethod
    def front(self) -> ForegroundWindow | None:
        """The window in front now; None when no window is active or it cannot be read."""

    @abstractmethod
    def available(self) -> bool:
        """Whether the reader can still see the foreground (False once its OS link died)."""

    def close(self) -> None:  # noqa: B027  (optional hook)
        """Release OS resources; the default has none."""


class FakeForeground(ForegroundReader):
    """A foreground reader the test switches (``window``, ``is_available``)."""

    name = "fake"

    def __init__(self, window: ForegroundWindow | None = None, available: bool = True) -> None:
        """Start with ``window`` in front."""
        self.window = window
        self.is_available = available

    def front(self) -> ForegroundWindow | None:
        """``window`` while available, else None."""
        return self.window if self.is_available else None

    def available(self) -> bool:
        """``is_available``."""
        return self.is_available


def _normalise(name: str) -> str:
    base = name.strip().casefold()
    return base[:-4] if base.endswith(".exe") else base


@dataclass(frozen=True)
class ExternalLesson:
    """What a lesson in another application declares (lesson.json ``external``).

    ``app``: the application's name (matched case-insensitively against every name the
    front window's application goes by, ``.exe`` ignored); ``title_pattern``: a regular
    expression searched case-insensitively in the window title; ``url``: a web address to
    open in the system browser; ``command``: an explicit command line to start the app.
    At least one of ``app`` and ``title_pattern`` is required; with both, both must match.
    """

    app: str | None = None
    title_pattern: str | None = None
    url: str | None = None
    command: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Check the declaration: something to match, a valid pattern, an http(s) URL."""
        if not self.app and not self.title_pattern:
            raise ValueError("an external lesson needs an app name or a title pattern")
        if self.title_pattern is not None:
            try:
                re.compile(self.title_pattern)
            except re.error as exc:
                raise ValueError(f"bad titlePattern {self.title_pattern!r}: {exc}") from exc
        if self.url is not None and not re.match(r"https?://", self.url, re.IGNORECASE):
            raise ValueError(f"external url must be http(s): {self.url!r}")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExternalLesson:
        """From lesson.json's ``external`` object (``app``, ``titlePattern``, ``url``)."""
        unknown = set(data) - {"app", "titlePattern", "url", "command"}
        if unknown:
            raise ValueError(f"unknown external fields: {sorted(unknown)}")
        command = data.get("command") or ()
        if not isinstance(command, list | tuple) or not all(isinstance(c, str) for c in command):
            raise ValueError("external command must be a list of strings")
        for key in ("app", "titlePattern", "url"):
            if data.get(key) is not None and not isinstance(data[key], str):
                raise ValueError(f"external {key} must be a string")
        return cls(
            app=data.get("app"),
            title_pattern=data.get("titlePattern"),
            url=data.get("url"),
            command=tuple(command),
        )

    def matches(self, window: ForegroundWindow) -> bool:
        """Whether ``window`` belongs to the lesson."""
        if self.app:
            wanted = _normalise(self.app)
            if wanted not in {_normalise(n) for n in window.names()}:
                return False
        if self.title_pattern:
            return re.search(self.title_pattern, window.title, re.IGNORECASE) is not None
        return True


class LaunchFailed(RuntimeError):
    """The lesson's application or web address could not be started."""


def launch_command(lesson: ExternalLesson, platform: str = sys.platform) -> list[str] | None:
    """The command that starts the lesson, or None on Windows for ``os.startfile``.

    Order: the explicit ``command``; the ``url`` in the system browser; the ``app``.
    """
    if lesson.command:
        return list(lesson.command)
    target = lesson.url
    if target is None and lesson.app is None:
        raise LaunchFailed("nothing to start: the lesson names neither a url nor an app")
    if platform == "win32":
        return None
    if platform == "darwin":
        return ["open", target] if target else ["open", "-a", str(lesson.app)]
    if target:
        return ["xdg-open", target]
    exe = shutil.which(str(lesson.app)) or shutil.which(str(lesson.app).lower())
    if exe is None:
        raise LaunchFailed(f"application {lesson.app!r} not found on PATH")
    return [exe]


def launch(lesson: ExternalLesson, platform: str = sys.platform) -> subprocess.Popen[bytes] | None:
    """Start the lesson's application or open its web address; never waits for it.

    Returns the started process (None when the OS opened it: ``os.startfile``). Raises
    ``LaunchFailed`` when it cannot be started.
    """
    command = launch_command(lesson, platform)
    what = " ".join(command) if command else (lesson.url or str(lesson.app))
    try:
        if command is None:
            startfile: Callable[[str], None] | None = getattr(os, "startfile", None)
            if startfile is None:
                raise LaunchFailed("os.startfile is not available")
            startfile(lesson.url or str(lesson.app))
            process = None
        else:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
    except OSError as exc:
        raise LaunchFailed(f"could not start {what}: {exc}") from exc
    log.info("started external lesson: %s", what)
    return process


class ExternalLessonFocus(FocusSource):
    """Focused only while a window of the external lesson is in front.

    Otherwise not focused, and ``front_app`` names the application in front. ``also`` (e.g.
    the session window's own focus source) counts as focused too, if the session wants its
    own window to be part of the lesson. While the reader cannot see the foreground,
    ``focused`` is False (never active); ``available()`` tells the session to record
    sensing unavailable instead (``SessionSensing.focus_available``).
    """

    def __init__(
        self,
        reader: ForegroundReader,
        lesson: ExternalLesson,
        also: FocusSource | None = None,
    ) -> None:
        """Follow ``reader``'s foreground window for ``lesson``."""
        self.reader = reader
        self.lesson = lesson
        self.also = also
        self._window: ForegroundWindow | None = None
        self._fresh = False

    def focused(self) -> bool:
        """Whether a lesson window (or ``also``) is in front now."""
        self._window = self.reader.front()
        self._fresh = True
        if self._window is not None and self.lesson.matches(self._window):
            return True
        return self.also is not None and self.also.focused()

    def front_app(self) -> str | None:
        """The application in front (as read by the latest ``focused`` call, if any)."""
        window = self._window if self._fresh else self.reader.front()
        self._fresh = False
        return None if window is None else window.app

    def available(self) -> bool:
        """Whether the foreground can be seen."""
        return self.reader.available()


class FrontAppFocus(FocusSource):
    """A focus source (e.g. the Qt window focus) plus the front application's name."""

    def __init__(self, inner: FocusSource, reader: ForegroundReader) -> None:
        """Ask ``inner`` about focus and ``reader`` what is in front when not focused."""
        self.inner = inner
        self.reader = reader

    def focused(self) -> bool:
        """``inner.focused()``."""
        return self.inner.focused()

    def front_app(self) -> str | None:
        """``inner``'s answer, else the foreground application's name."""
        app = self.inner.front_app()
        if app is None and self.reader.available():
            window = self.reader.front()
            app = None if window is None else window.app
        return app
