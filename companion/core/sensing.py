"""The sensing interfaces: what the session needs to know about the student's computer.

Each source answers one question and keeps nothing but a timestamp or a flag: input sources
never see which key, where, or what text (DESIGN.md, privacy). Implementations: the Qt
ones in ``companion.ui`` (event filter, window active state), OS ones in a later issue, and
the fakes in ``companion.system.fakes`` for tests. They live in ``core`` because the run
use case (``session``) depends on them; ``companion.system.sensing`` names them too.
Sleep is not a source: the sampler sees it as a gap in the monotonic clock, which keeps
counting through suspend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from companion.core.sampler import Observation


class InputSource(ABC):
    """When the student last touched keyboard, mouse, touch or scroll in the session."""

    name: str = "input"

    @abstractmethod
    def last_input_ms(self) -> int | None:
        """Monotonic ms (``Clock.monotonic_ms``) of the latest input; None if none yet."""

    @abstractmethod
    def available(self) -> bool:
        """Whether this source can currently see input at all."""


class FocusSource(ABC):
    """Whether the session window (or the lesson's own window) is in front."""

    @abstractmethod
    def focused(self) -> bool:
        """True while the session (or one of the app's own dialogs) has focus."""

    @abstractmethod
    def front_app(self) -> str | None:
        """The name of the application in front when not focused, if known."""


class LockSource(ABC):
    """Whether the screen is locked."""

    @abstractmethod
    def locked(self) -> bool:
        """True while the screen is locked."""


class NoLockSensing(LockSource):
    """A lock source for platforms where locking cannot be seen: never locked."""

    def locked(self) -> bool:
        """Always False."""
        return False


def observe(input_source: InputSource, focus: FocusSource, lock: LockSource) -> Observation:
    """What the sources say right now, as the sampler takes it."""
    focused = focus.focused()
    return Observation(
        focused=focused,
        app=None if focused else focus.front_app(),
        locked=lock.locked(),
        sensing_available=input_source.available(),
        last_input_ms=input_source.last_input_ms(),
    )
