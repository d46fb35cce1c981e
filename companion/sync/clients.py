"""One process's Timeback clients: one token auth (one token cache) for the organisation's
credentials, and one client per Timeback service (OneRoster rostering, Caliper, the
gradebook), shared by the roster refresh, the sync worker and the progress merge after a
sign-in. The app and the machine service build them the same way
(``companion.service.delivery``), off any UI thread (it imports httpx), and close them when
they stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from companion.core.caliper import DEFAULT_APP
from companion.timeback import (
    CaliperClient,
    ClientCredentialsAuth,
    Credentials,
    Environment,
    GradebookClient,
    OneRosterClient,
    auth_for,
    caliper_client,
    gradebook_client,
)


class SharedOneRosterClient(OneRosterClient):
    """The one OneRoster client. The roster refresher closes the client it is handed after
    each refresh; this one stays open for the next refresh until ``shutdown``."""

    def close(self) -> None:
        """Kept open: the runtime shuts it down (``shutdown``)."""

    def shutdown(self) -> None:
        """Close the connection pool (the runtime is closing)."""
        super().close()


@dataclass
class TimebackClients:
    """One auth and one client per Timeback service for the whole process."""

    auth: ClientCredentialsAuth
    oneroster: SharedOneRosterClient
    caliper: CaliperClient
    gradebook: GradebookClient

    @classmethod
    def open(cls, environment: Environment, credentials: Credentials) -> TimebackClients:
        """The clients for ``environment``, all on one token auth for ``credentials``."""
        auth = auth_for(environment, credentials)
        oneroster = SharedOneRosterClient(environment.oneroster_base, auth=auth)
        caliper = caliper_client(environment, auth, sensor=DEFAULT_APP.sensor)
        return cls(auth, oneroster, caliper, gradebook_client(environment, auth))

    def roster_client(self) -> OneRosterClient:
        """The OneRoster client (a ``RosterRefresher`` client factory)."""
        return self.oneroster

    def close(self) -> None:
        """Close every client's connections."""
        self.oneroster.shutdown()
        self.caliper.close()
        self.gradebook.close()
