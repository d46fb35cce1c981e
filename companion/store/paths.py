"""Where the per-user databases live: one per OS user and per Timeback environment."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "timeback-companion"
ENVIRONMENTS = ("sandbox", "staging", "production")


def data_dir() -> Path:
    """The per-user data folder: ``$COMPANION_DATA_DIR`` if set, else the platform's."""
    override = os.environ.get("COMPANION_DATA_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def library_dir() -> Path:
    """The lessons added on this computer (``companion content import``): ``data_dir()/library``."""
    return data_dir() / "library"


def database_path(env: str) -> Path:
    """The database file for ``env`` (``companion-<env>.sqlite3`` in ``data_dir()``).

    Raises ``ValueError`` for an unknown environment name.
    """
    if env not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {env!r}; expected one of {', '.join(ENVIRONMENTS)}")
    return data_dir() / f"companion-{env}.sqlite3"


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) if missing; a folder created here gets mode 0700."""
    if path.is_dir():
        return
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode is reduced by the umask; be exact
