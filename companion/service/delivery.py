"""Delivery and the roster refresh, wired the same way for the app and the machine service.

``wire_delivery`` builds, on the database and the lease of whoever owns the deliveries: the
Timeback clients (one auth, one client per Timeback service), the sync worker, and, when a
school is known, the roster refresher, which builds the events of runs that waited for a
student's email after each refresh and wakes the worker for them. The app's runtime calls
it while it boots; the service calls it through ``ServiceDelivery``, which also runs the
worker and the periodic roster refresh in threads of their own, whether or not an app is
open, and answers the guide's "Sync now".
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from companion.core.clock import Clock
from companion.core.run_outcome import EventContext
from companion.core.sync_types import SyncStatus
from companion.session import closing
from companion.store.db import Database
from companion.store.lease import Lease
from companion.sync.clients import TimebackClients
from companion.sync.roster_refresh import RefreshResult, RosterRefresher
from companion.sync.worker import SyncWorker
from companion.timeback import Credentials, Environment

log = logging.getLogger(__name__)

SYNC_NOW_WAIT_S = 30.0


@dataclass
class Delivery:
    """The Timeback clients, the sync worker and (with a school) the roster refresher."""

    clients: TimebackClients
    worker: SyncWorker
    refresher: RosterRefresher | None


def make_worker(db: Database, clients: TimebackClients, lease: Lease) -> SyncWorker:
    """The sync worker on ``lease`` (held and renewed by the caller) and ``clients``."""
    return SyncWorker(
        db,
        clients.caliper,
        lease=lease,
        on_unauthorised=clients.auth.invalidate,
        results_api=clients.gradebook,
    )


def wire_delivery(
    db: Database,
    environment: Environment,
    credentials: Credentials,
    *,
    lease: Lease,
    ctx: EventContext,
    school_id: str | None,
    clock: Clock,
) -> Delivery:
    """Clients, worker and roster refresher for ``environment``; nothing is started."""
    clients = TimebackClients.open(environment, credentials)
    worker = make_worker(db, clients, lease)
    refresher = None
    if school_id:

        def release_waiting_runs(_result: RefreshResult) -> None:
            # runs that waited for roster data (an email) get their events now
            if closing.build_pending_events(db, ctx):
                worker.notify_run_closed()

        refresher = RosterRefresher(
            db, clients.roster_client, school_id, clock, after_refresh=release_waiting_runs
        )
    return Delivery(clients, worker, refresher)


@dataclass
class ServiceDelivery:
    """Delivery running in the service: the worker's thread and the roster's timer."""

    delivery: Delivery
    _stop: threading.Event = field(default_factory=threading.Event)
    _roster: threading.Thread | None = None

    def start(self) -> None:
        """Start sending (at once: nobody waits on this computer's start-up) and refreshing
        the roster (now, then every 15 minutes)."""
        self.delivery.worker.start(start_delay=False)
        if self.delivery.refresher is not None:
            self._roster = self.delivery.refresher.start_thread(self._stop)

    def run_closed(self) -> None:
        """A run closed and its events wait in the outbox: send them now."""
        self.delivery.worker.notify_run_closed()

    def sync_now(self, wait_s: float = SYNC_NOW_WAIT_S) -> str:
        """Send now, and say what the pass did once it is over (or that it goes on)."""
        worker = self.delivery.worker
        finished = threading.Event()
        before = worker.status.current.sync_now

        def on_status(status: SyncStatus) -> None:
            if not status.sync_now_running and status.sync_now is not before:
                finished.set()

        unsubscribe = worker.status.subscribe(on_status)
        try:
            worker.sync_now()
            finished.wait(wait_s)
        finally:
            unsubscribe()
        report = worker.status.current.sync_now
        if report is None or report is before:
            return "Delivery is going on; the outbox says how far it got."
        return report.text()

    def close(self) -> None:
        """Stop the roster refresh and the worker (after its grace time), close the clients."""
        self._stop.set()
        if self._roster is not None:
            self._roster.join()
        self.delivery.worker.quit()
        self.delivery.clients.close()
