"""The fast first half of start-up: what the sign-in window needs before it shows.

Before the window: the config file (tomllib only, no HTTP clients) and the class list read
from the roster cache with plain ``sqlite3``, read-only (no SQLAlchemy). After it shows, in
a background task, ``open_for_window`` opens the database with the store (SQLModel), takes
the lease and builds the sign-in service; then the rest of start-up runs (``boot_rest``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from companion.config import ENVIRONMENT_NAMES, ConfigError, load_config

if TYPE_CHECKING:
    from companion.app import Runtime
    from companion.core.clock import Clock
    from companion.session.signin import SignInService

log = logging.getLogger("companion.ui.startup")

_CLASSES_SQL = """
SELECT c.sourced_id, c.title,
       (SELECT count(*) FROM roster_enrollments e
          JOIN roster_users u ON u.sourced_id = e.user_sourced_id
         WHERE e.class_sourced_id = c.sourced_id AND e.role = 'student'
           AND e.status != 'tobedeleted' AND u.status != 'tobedeleted')
  FROM roster_classes c
 WHERE c.status != 'tobedeleted'
 ORDER BY c.title, c.sourced_id
"""


@dataclass(frozen=True)
class StartConfig:
    """What the first screen needs from the config file."""

    env_name: str
    class_ids: tuple[str, ...]


@dataclass(frozen=True)
class QuickClass:
    """A class for the first screen (the same fields as ``session.signin.ClassInfo``)."""

    id: str
    title: str
    student_count: int


def read_start_config(env: str | None) -> StartConfig:
    """The environment to run and the classes this computer serves; ``ConfigError`` or
    ``ValueError`` (an unknown environment) when the config cannot be used."""
    config = load_config()
    name = env or config.environment
    if name not in ENVIRONMENT_NAMES:
        raise ValueError(f"unknown Timeback environment {name!r}; expected one of "
                         f"{', '.join(ENVIRONMENT_NAMES)}")
    computer = config.computer(name)
    return StartConfig(name, computer.class_ids if computer is not None else ())


def quick_classes(path: Path, served: Sequence[str] = ()) -> list[QuickClass]:
    """The cached classes (only ``served`` ones, if given), read-only with ``sqlite3``;
    an empty list when there is no usable cache yet."""
    if not path.is_file():
        return []
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=0.2)
        try:
            rows = connection.execute(_CLASSES_SQL).fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        log.info("no quick class list (%s); waiting for the store", exc)
        return []
    wanted = set(served)
    return [QuickClass(str(sid), str(title or sid), int(count)) for sid, title, count in rows
            if not wanted or sid in wanted]


def open_for_window(env: str | None, clock: Clock,
                    served: Sequence[str]) -> tuple[Runtime, SignInService]:
    """Open the database and the lease, and the sign-in service (a worker thread)."""
    from companion.app import open_runtime
    from companion.session.signin import SignInService

    rt = open_runtime(env, clock)
    try:
        service = SignInService(rt.db, clock)
    except Exception:
        rt.close()
        raise
    service.serve_classes(list(served) or list(rt.class_ids))
    return rt, service


__all__ = ["ConfigError", "QuickClass", "StartConfig", "open_for_window", "quick_classes",
           "read_start_config"]
