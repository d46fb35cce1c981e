"""The Qt-free interface between launches/sign-ins and the app.

The listener calls ``on_launch`` and ``on_signed_in`` from its own thread; the app marshals
them to its UI thread. ``RecordingHandler`` records them for tests and waits on events.
"""

from __future__ import annotations

import threading
from typing import Protocol

from companion.core.launch_types import LaunchRequest, SignInResult

__all__ = ["LaunchHandler", "LaunchRequest", "RecordingHandler", "SignInResult"]


class LaunchHandler(Protocol):
    """What the app implements to receive launches and sign-ins (called off the UI thread)."""

    def on_launch(self, request: LaunchRequest) -> None:
        """A student launched a lesson (or the library) from the platform."""
        ...

    def on_signed_in(self, result: SignInResult) -> None:
        """A student completed Sign in with Timeback."""
        ...


class RecordingHandler:
    """A handler that records what it receives; ``wait_*`` block until something arrives."""

    def __init__(self) -> None:
        self.launches: list[LaunchRequest] = []
        self.sign_ins: list[SignInResult] = []
        self._cond = threading.Condition()

    def on_launch(self, request: LaunchRequest) -> None:
        """Record a launch."""
        with self._cond:
            self.launches.append(request)
            self._cond.notify_all()

    def on_signed_in(self, result: SignInResult) -> None:
        """Record a sign-in."""
        with self._cond:
            self.sign_ins.append(result)
            self._cond.notify_all()

    def wait_launches(self, count: int, timeout: float) -> list[LaunchRequest]:
        """The launches once there are ``count`` of them (or whatever came by ``timeout``)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.launches) >= count, timeout)
            return list(self.launches)

    def wait_sign_ins(self, count: int, timeout: float) -> list[SignInResult]:
        """The sign-ins once there are ``count`` of them (or whatever came by ``timeout``)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self.sign_ins) >= count, timeout)
            return list(self.sign_ins)
