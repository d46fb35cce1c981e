"""Named crash points in the worker, for the tests that kill it mid-delivery.

``COMPANION_CRASH_AT=<name>[:<n>]`` makes the process kill itself (SIGKILL, as hard as a
power cut short of the disk) the ``n``-th time (default 1st) it passes the point ``name``.
Unset, a crash point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import threading

ENV_VAR = "COMPANION_CRASH_AT"

AFTER_CLAIM = "after-claim"  # a batch is in_flight in the database, nothing sent yet
AFTER_SEND = "after-send"  # the server answered, the answer is not recorded
AFTER_RECORD = "after-record"  # the answer is written but the transaction not committed
NAMES: tuple[str, ...] = (AFTER_CLAIM, AFTER_SEND, AFTER_RECORD)

_lock = threading.Lock()
_hits: dict[str, int] = {}


def _target() -> tuple[str, int] | None:
    spec = os.environ.get(ENV_VAR, "").strip()
    if not spec:
        return None
    name, _, count = spec.partition(":")
    return name, int(count) if count else 1


def crash_point(name: str) -> None:
    """Die here if ``COMPANION_CRASH_AT`` names this point and its count is reached."""
    target = _target()
    if target is None or target[0] != name:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        reached = _hits[name] >= target[1]
    if reached:
        kill_self()


def kill_self() -> None:
    """End the process at once: no cleanup, no flush, no atexit."""
    if hasattr(signal, "SIGKILL"):
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(137)
