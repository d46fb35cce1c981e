"""Small key/value facts kept in the database's ``store_meta`` table."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlmodel import Session, col, select

from companion.store.db import Database
from companion.store.tables import StoreMeta

EMBEDDED_SANDBOX_URL = "app.embedded_sandbox_url"  # where the running app's sandbox listens


def get_meta(db: Database, key: str) -> str | None:
    """The value stored under ``key``, or None."""
    with db.read() as session:
        row = session.get(StoreMeta, key)
        return None if row is None else row.value


def put_meta(session: Session, values: Mapping[str, str | None]) -> None:
    """Inside a write: set each key to its value; None removes the key."""
    for key, value in values.items():
        row = session.get(StoreMeta, key)
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(StoreMeta(key=key, value=value))
        else:
            row.value = value


def set_meta(db: Database, key: str, value: str | None) -> None:
    """Store ``value`` under ``key``; None removes the key."""
    db.write(lambda session: put_meta(session, {key: value}))


def get_many(db: Database, keys: Iterable[str]) -> dict[str, str]:
    """The values stored under ``keys`` (keys without a value are left out)."""
    wanted = list(keys)
    with db.read() as session:
        rows = session.exec(select(StoreMeta).where(col(StoreMeta.key).in_(wanted))).all()
    return {row.key: row.value for row in rows}


def put_many(db: Database, values: Mapping[str, str | None]) -> None:
    """Store every value in one write; None removes its key."""
    db.write(lambda session: put_meta(session, values))
