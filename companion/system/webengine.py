"""Whether Qt WebEngine (which shows the lessons) can start for this user.

Chromium, inside Qt WebEngine, refuses to start as root (the administrator) while its
sandbox is on: it aborts the process. Running as root needs ``QTWEBENGINE_DISABLE_SANDBOX``
set (or ``--no-sandbox`` in ``QTWEBENGINE_CHROMIUM_FLAGS``), which turns that sandbox off
for every lesson page. The app never sets it itself: whoever runs it as root decides.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

SANDBOX_VAR = "QTWEBENGINE_DISABLE_SANDBOX"
FLAGS_VAR = "QTWEBENGINE_CHROMIUM_FLAGS"

ROOT_MESSAGE = (
    "Timeback Companion cannot show lessons when it runs as root (the administrator "
    "account): the web engine that shows them refuses to start for root while its sandbox "
    "is on. Start it from a normal user account. If it must run as root (for example in a "
    f"container), set {SANDBOX_VAR}=1 before starting it; lesson pages then run without "
    "the web engine's sandbox."
)


def current_euid() -> int | None:
    """The effective user id, or None where there is none (Windows)."""
    geteuid = getattr(os, "geteuid", None)
    return None if geteuid is None else int(geteuid())


def sandbox_disabled(environ: Mapping[str, str]) -> bool:
    """Whether the environment turns WebEngine's sandbox off."""
    return SANDBOX_VAR in environ or "--no-sandbox" in environ.get(FLAGS_VAR, "").split()


def root_refusal(euid: int | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """Why WebEngine will refuse to start here (as root with its sandbox on), or None.

    ``euid`` and ``environ`` default to this process's.
    """
    uid = current_euid() if euid is None else euid
    env = os.environ if environ is None else environ
    if uid == 0 and not sandbox_disabled(env):
        return ROOT_MESSAGE
    return None
