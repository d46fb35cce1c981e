"""Single-use login attempts (OIDC ``state`` + ``nonce``) in the ``launch_nonces`` table.

``companion.launch.nonces`` decides the limits and what a refusal says; this module only
keeps the rows: add one (purging old ones and counting in the same write), read one, use
one exactly once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select, update

from companion.store.db import Database
from companion.store.launch_tables import LaunchNonce


class TooManyAttempts(Exception):
    """Too many attempts wait, or too many began lately; nothing was added."""


def add_attempt(
    db: Database,
    row: LaunchNonce,
    *,
    purge_after: timedelta,
    max_pending: int,
    max_per_window: int,
    rate_window: timedelta,
) -> None:
    """Add ``row`` (created at ``row.created_at``) in one write, after removing unused
    attempts that expired and used ones older than ``purge_after``. Raises TooManyAttempts
    when ``max_pending`` unused attempts wait or ``max_per_window`` began within
    ``rate_window``."""
    now = row.created_at

    def run(session: Session) -> None:
        # Unused attempts go once expired; used ones stay a while to recognise a replay.
        session.exec(
            delete(LaunchNonce)
            .where(col(LaunchNonce.used_at).is_(None))
            .where(col(LaunchNonce.expires_at) <= now)
        )
        session.exec(delete(LaunchNonce).where(col(LaunchNonce.expires_at) < now - purge_after))
        pending = session.exec(
            select(func.count()).select_from(LaunchNonce).where(col(LaunchNonce.used_at).is_(None))
        ).one()
        recent = session.exec(
            select(func.count())
            .select_from(LaunchNonce)
            .where(col(LaunchNonce.created_at) > now - rate_window)
        ).one()
        if pending >= max_pending or recent >= max_per_window:
            raise TooManyAttempts(f"{pending} attempts wait, {recent} began lately")
        session.add(row)

    db.write(run)


def get_attempt(db: Database, state: str) -> LaunchNonce | None:
    """The attempt with ``state`` (used or not), or None."""
    with db.read() as session:
        return session.get(LaunchNonce, state)


def use_attempt(db: Database, state: str, now: datetime) -> bool:
    """Mark the attempt with ``state`` used at ``now``; False if it was used already (or is
    not there). Exactly one caller ever gets True."""

    def run(session: Session) -> int:
        result = session.exec(
            update(LaunchNonce)
            .where(col(LaunchNonce.state) == state)
            .where(col(LaunchNonce.used_at).is_(None))
            .values(used_at=now)
        )
        return int(result.rowcount)

    changed: int = db.write(run)
    return changed == 1


def nonce_was_used(db: Database, nonce: str) -> bool:
    """Whether an attempt with this nonce exists and was used."""
    with db.read() as session:
        row = session.exec(select(LaunchNonce).where(LaunchNonce.nonce == nonce)).first()
    return row is not None and row.used_at is not None
