"""Opening the environment's existing database for a command, with a plain message."""

from __future__ import annotations

import sys
from typing import TextIO

from companion.config import ConfigError, load_config
from companion.store import paths
from companion.store.db import Database, StoreError


def environment_name(env_arg: str | None) -> str:
    """The ``--env`` given, else the configured environment (sandbox when unset)."""
    if env_arg:
        return env_arg
    try:
        return load_config().environment
    except ConfigError:
        return "sandbox"


def open_existing(env_arg: str | None, err: TextIO | None = None) -> Database | None:
    """The environment's database, or None after saying on ``err`` why it cannot be used.

    A missing file is not created: these commands read what the app has recorded.
    """
    err = err or sys.stderr
    env = environment_name(env_arg)
    path = paths.database_path(env)
    if not path.exists():
        print(f"no database for the {env} environment at {path}", file=err)
        return None
    try:
        return Database.open(path, env)
    except StoreError as exc:
        print(f"cannot open {path}: {exc}", file=err)
        return None
