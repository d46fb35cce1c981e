"""The fast first half of start-up: what the sign-in window needs before it shows.

Before the window: the config file (tomllib only, no HTTP clients) and the class list read
from the roster cache read-only (``store.quick_read``: plain sqlite3, no SQLAlchemy).
After it shows, in a background task, ``open_for_window`` opens the database with the
store (SQLModel), takes the lease and builds the sign-in service; then the rest of
start-up runs (``runtime.boot_rest``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from companion.config import ENVIRONMENT_NAMES, ConfigError, load_config
from companion.store.quick_read import quick_classes

if TYPE_CHECKING:
    from companion.app.runtime import Runtime
    from companion.core.clock import Clock


@dataclass(frozen=True)
class StartConfig:
    """What the first screen needs from the config file."""

    env_name: str
    class_ids: tuple[str, ...]


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


def open_for_window(env: str | None, clock: Clock, served: Sequence[str]) -> Runtime:
    """Open the database, the lease and the sign-in service (a worker thread)."""
    from companion.app.runtime import open_runtime

    rt = open_runtime(env, clock)
    assert rt.signin is not None
    rt.signin.serve_classes(list(served) or list(rt.class_ids))
    return rt


__all__ = ["ConfigError", "StartConfig", "open_for_window", "quick_classes",
           "read_start_config"]
