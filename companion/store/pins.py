"""Stored PINs and their failure counts (the rate limit survives a restart).

One row per user (student or guide): the salted scrypt hash with its parameters, the
consecutive failures and until when sign-in is refused. A row may exist with no hash yet
(failures recorded for a user who has no PIN).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Field, Session, SQLModel, col, select

from companion.core.pins import PinHash, lockout_seconds
from companion.store.tables import UtcDateTime

if TYPE_CHECKING:
    from companion.store.db import Database


class PinRow(SQLModel, table=True):
    """A user's PIN on this computer and the state of its rate limit."""

    __tablename__ = "pins"

    user_id: str = Field(primary_key=True)
    salt: bytes | None = None
    hash: bytes | None = None
    n: int = 0
    r: int = 0
    p: int = 0
    failures: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UtcDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)

    def pin_hash(self) -> PinHash | None:
        """The stored hash, or None when no PIN is set."""
        if self.salt is None or self.hash is None:
            return None
        return PinHash(salt=self.salt, hash=self.hash, n=self.n, r=self.r, p=self.p)


def _copy(row: PinRow) -> PinRow:
    return PinRow.model_validate(row.model_dump())


def get(db: Database, user_id: str) -> PinRow | None:
    """The user's row (a detached copy), or None."""
    with db.read() as session:
        row = session.get(PinRow, user_id)
        return None if row is None else _copy(row)


def set_pin(db: Database, user_id: str, pin_hash: PinHash, now: datetime) -> None:
    """Store a new PIN hash for the user and clear their failures."""

    def work(session: Session) -> None:
        row = session.get(PinRow, user_id) or PinRow(user_id=user_id)
        row.salt, row.hash = pin_hash.salt, pin_hash.hash
        row.n, row.r, row.p = pin_hash.n, pin_hash.r, pin_hash.p
        row.failures = 0
        row.locked_until = None
        row.updated_at = now
        session.add(row)

    db.write(work)


def set_many(db: Database, hashes: dict[str, PinHash], now: datetime) -> None:
    """Store several PIN hashes in one transaction (demo seeding)."""

    def work(session: Session) -> None:
        for user_id, pin_hash in hashes.items():
            row = session.get(PinRow, user_id) or PinRow(user_id=user_id)
            row.salt, row.hash = pin_hash.salt, pin_hash.hash
            row.n, row.r, row.p = pin_hash.n, pin_hash.r, pin_hash.p
            row.failures = 0
            row.locked_until = None
            row.updated_at = now
            session.add(row)

    db.write(work)


def record_failure(db: Database, user_id: str, now: datetime) -> PinRow:
    """Count one more failure; lock the user out as ``lockout_seconds`` says. Returns the row."""

    def work(session: Session) -> PinRow:
        row = session.get(PinRow, user_id) or PinRow(user_id=user_id)
        row.failures += 1
        wait = lockout_seconds(row.failures)
        row.locked_until = now + timedelta(seconds=wait) if wait else None
        row.updated_at = now
        session.add(row)
        session.flush()
        return _copy(row)

    result: PinRow = db.write(work)
    return result


def reset_failures(db: Database, user_id: str, now: datetime) -> None:
    """Forget the user's failures (after a correct PIN)."""

    def work(session: Session) -> None:
        row = session.get(PinRow, user_id)
        if row is None or (row.failures == 0 and row.locked_until is None):
            return
        row.failures = 0
        row.locked_until = None
        row.updated_at = now
        session.add(row)

    db.write(work)


def clear_pin(db: Database, user_id: str, now: datetime) -> None:
    """Remove the user's PIN (a reset: a guide must set a new one)."""

    def work(session: Session) -> None:
        row = session.get(PinRow, user_id)
        if row is None:
            return
        row.salt = row.hash = None
        row.updated_at = now
        session.add(row)

    db.write(work)


def users_with_pin(db: Database, user_ids: list[str]) -> set[str]:
    """Which of ``user_ids`` have a PIN set."""
    if not user_ids:
        return set()
    with db.read() as session:
        rows = session.exec(
            select(PinRow.user_id).where(
                col(PinRow.user_id).in_(user_ids), col(PinRow.hash).is_not(None)
            )
        ).all()
        return set(rows)
