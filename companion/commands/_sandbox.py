"""Where the sandbox listens, for commands that talk to it."""

from __future__ import annotations

from collections.abc import Mapping

from companion.store import paths
from companion.store.db import Database, StoreError
from companion.store.meta import EMBEDDED_SANDBOX_URL, get_meta

SANDBOX_URL_VAR = "COMPANION_SANDBOX_URL"


def running_app_sandbox_url() -> str | None:
    """The embedded sandbox of a running app on this computer (it records its address in
    the sandbox database while it runs), or None."""
    path = paths.database_path("sandbox")
    if not path.exists():
        return None
    try:
        with Database.open(path, "sandbox") as db:
            return get_meta(db, EMBEDDED_SANDBOX_URL)
    except StoreError:
        return None


def given_sandbox_url(url: str | None, environ: Mapping[str, str]) -> str | None:
    """``--url``, else ``COMPANION_SANDBOX_URL``, else the running app's sandbox."""
    return url or environ.get(SANDBOX_URL_VAR) or running_app_sandbox_url()
