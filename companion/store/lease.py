"""A lease in the database saying which process owns the open run and the deliveries.

Two processes on one database (the app and the command line beside it) must never both
recover, close or send the same thing. The owner holds a row in ``lease`` and renews it;
when it stops renewing (it crashed or was killed), the lease expires and another process
may take it. Times are seconds on the injected clock (``time.time`` by default).

Given a ``ProcessProbe`` (``companion.system.processes.ThisComputer``, passed in by the
composition root), a lease also records its holder's process start token, and a lease
whose holder on this computer no longer exists is taken over at once, without waiting for
it to expire: a restart right after a crash is never turned away.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from companion.store.db import Database
from companion.store.tables import LeaseRow

log = logging.getLogger("companion.store.lease")


class ProcessProbe(Protocol):
    """What the lease needs to know about this computer's processes."""

    def start_token(self, pid: int) -> str | None:
        """An identity of the start of process ``pid`` (None if it cannot be known)."""

    def is_gone(self, pid: int, token: str | None) -> bool:
        """True only when process ``pid`` started as ``token`` surely no longer exists."""


@dataclass(frozen=True)
class LeaseInfo:
    """Who holds a lease, from the row in the database."""

    name: str
    holder_id: str
    pid: int
    host: str
    acquired_at: float
    heartbeat_at: float
    expires_at: float
    pid_start: str | None = None


def _info(row: LeaseRow) -> LeaseInfo:
    return LeaseInfo(
        name=row.name,
        holder_id=row.holder_id,
        pid=row.pid,
        host=row.host,
        acquired_at=row.acquired_at,
        heartbeat_at=row.heartbeat_at,
        expires_at=row.expires_at,
        pid_start=row.pid_start,
    )


class Lease:
    """One process's claim on the lease called ``name``, valid ``ttl_s`` after each renewal."""

    def __init__(
        self,
        db: Database,
        name: str = "owner",
        ttl_s: float = 30.0,
        clock: Callable[[], float] = time.time,
        processes: ProcessProbe | None = None,
    ) -> None:
        """Nothing is taken yet: call ``try_acquire``. Without ``processes`` a lease is
        taken from another holder only once it has expired."""
        if ttl_s <= 0:
            raise ValueError("ttl_s must be positive")
        self.db = db
        self.name = name
        self.ttl_s = ttl_s
        self.clock = clock
        self.holder_id = uuid.uuid4().hex
        self.processes = processes
        self.pid = os.getpid()
        self.host = socket.gethostname()
        self.pid_start = processes.start_token(self.pid) if processes is not None else None
        self._expires_at: float | None = None

    @property
    def held(self) -> bool:
        """True while our last successful acquire or renewal has not expired."""
        return self._expires_at is not None and self.clock() < self._expires_at

    def try_acquire(self) -> bool:
        """Take the lease if it is free, expired or already ours (one write)."""

        def take(session: Session) -> float | None:
            now = self.clock()
            row = session.get(LeaseRow, self.name)
            expires = now + self.ttl_s
            if row is None:
                session.add(
                    LeaseRow(
                        name=self.name,
                        holder_id=self.holder_id,
                        pid=self.pid,
                        host=self.host,
                        acquired_at=now,
                        heartbeat_at=now,
                        expires_at=expires,
                        pid_start=self.pid_start,
                    )
                )
                return expires
            if row.holder_id != self.holder_id:
                if row.expires_at > now and not self._holder_gone(row):
                    return None
                why = "expired" if row.expires_at <= now else "held by a process that is gone"
                log.info("taking lease %r (%s) from pid %d on %s", self.name, why, row.pid,
                         row.host)
                row.acquired_at = now
            row.holder_id = self.holder_id
            row.pid = self.pid
            row.host = self.host
            row.pid_start = self.pid_start
            row.heartbeat_at = now
            row.expires_at = expires
            return expires

        self._expires_at = self.db.write(take)
        return self._expires_at is not None

    def renew(self) -> bool:
        """Extend our lease; False (and no longer held) if another holder has it now."""

        def extend(session: Session) -> float | None:
            now = self.clock()
            row = session.get(LeaseRow, self.name)
            if row is None or row.holder_id != self.holder_id:
                return None
            row.heartbeat_at = now
            row.expires_at = now + self.ttl_s
            return row.expires_at

        self._expires_at = self.db.write(extend)
        if self._expires_at is None:
            log.warning("lease %r was lost", self.name)
        return self._expires_at is not None

    def release(self) -> None:
        """Give the lease up now (if we hold it), so another process need not wait."""

        def drop(session: Session) -> None:
            row = session.get(LeaseRow, self.name)
            if row is not None and row.holder_id == self.holder_id:
                session.delete(row)

        self.db.write(drop)
        self._expires_at = None

    def holder(self) -> LeaseInfo | None:
        """The current holder, or None if the lease is free, has expired or is held by a
        process of this computer that is gone."""
        with self.db.read() as session:
            row = session.get(LeaseRow, self.name)
            if row is None or row.expires_at <= self.clock() or self._holder_gone(row):
                return None
            return _info(row)

    def _holder_gone(self, row: LeaseRow) -> bool:
        """Whether the row's holder is a process of this computer that no longer exists."""
        if self.processes is None or row.host != self.host:
            return False  # another computer's process cannot be checked from here
        if row.pid == self.pid and row.pid_start == self.pid_start:
            return False  # this very process (another Lease object in it)
        return self.processes.is_gone(row.pid, row.pid_start)


class LeaseKeeper:
    """A thread that renews a held lease every ``ttl/3`` seconds until stopped or lost."""

    def __init__(
        self,
        lease: Lease,
        interval_s: float | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        """``on_lost`` is called (on the keeper thread) if a renewal finds the lease gone."""
        self.lease = lease
        self.interval_s = interval_s if interval_s is not None else lease.ttl_s / 3
        self.on_lost = on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def start(self) -> None:
        """Start renewing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop renewing and wait for the thread (the lease itself is not released)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def running(self) -> bool:
        """True while the keeper thread is alive."""
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                renewed = self.lease.renew()
            except Exception:
                log.exception("renewing lease %r failed; will try again", self.lease.name)
                continue
            if not renewed:
                if self.on_lost is not None:
                    self.on_lost()
                return
