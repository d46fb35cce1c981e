"""The set-up steps behind the set-up dialog, without Qt (each runs in a background task).

1. ``check_credentials``: fetch a token with the client id and secret, keep them in the OS
   keyring (only once they work), and list the schools they can see.
2. ``pull_roster``: a full roster pull of the chosen school into this computer's cache;
   returns the school's classes and guides from the cache.
3. ``finish``: set the guide PINs and record the school and classes in the config file.

The checked credentials get one token auth, used by both the school list and the roster
pull. Secrets go to the keyring only; nothing here logs them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from companion.app.runtime import SetupNeeded
from companion.core.signin_types import PulledRoster, School

if TYPE_CHECKING:
    from companion.core.clock import Clock
    from companion.store.db import Database
    from companion.timeback import ClientCredentialsAuth, Environment, OneRosterClient

log = logging.getLogger("companion.app.setup")

__all__ = ["PulledRoster", "School", "SetupFailed", "SetupFlow", "SetupNeeded", "setup_reason"]


class SetupFailed(Exception):
    """A set-up step failed; the message is for the person at the computer."""


def setup_reason(exc: BaseException, env_name: str) -> str | None:
    """Why set-up is needed after start-up failed with ``exc``; None if set-up won't help."""
    from companion.timeback import (
        CredentialsMissingError,
        KeyringUnavailableError,
        UnauthorisedError,
    )

    if isinstance(exc, SetupNeeded):
        return str(exc)
    if isinstance(exc, CredentialsMissingError):
        return f"No Timeback credentials for {env_name} are stored on this computer yet."
    if isinstance(exc, UnauthorisedError):
        return (f"{env_name} refused the stored client id or secret (they may have been "
                "changed). Enter them again.")
    if isinstance(exc, KeyringUnavailableError):
        return f"The OS keyring cannot be used: {exc}"
    return None


class SetupFlow:
    """The steps of set-up for one environment on this computer's database (the set-up
    dialog's ``ui.ports.SetupSteps``)."""

    def __init__(self, env_name: str, environment: Environment, db: Database,
                 clock: Clock) -> None:
        self.env_name = env_name
        self.environment = environment
        self.db = db
        self.clock = clock
        self._auth: ClientCredentialsAuth | None = None

    def check_credentials(self, client_id: str, secret: str) -> list[School]:
        """Verify, store in the keyring, and list the visible schools (a worker thread)."""
        from companion.timeback import (
            Credentials,
            TimebackError,
            UnauthorisedError,
            auth_for,
            oneroster_client,
            store_credentials,
            verify_credentials,
        )

        credentials = Credentials(client_id, secret)
        try:
            verify_credentials(self.environment, credentials)
        except UnauthorisedError as exc:
            raise SetupFailed(
                f"{self.env_name} refused this client id or secret; nothing was stored."
            ) from exc
        except TimebackError as exc:
            raise SetupFailed(f"The credentials could not be checked: {exc}") from exc
        store_credentials(self.env_name, credentials)
        self._auth = auth_for(self.environment, credentials)
        log.info("credentials for %s stored in the keyring", self.env_name)
        try:
            with oneroster_client(self.environment, self._auth) as client:
                orgs = client.list_schools()
        except TimebackError as exc:
            raise SetupFailed(f"The list of schools could not be read: {exc}") from exc
        return sorted((School(o.sourced_id, o.name or o.sourced_id) for o in orgs),
                      key=lambda s: (s.name.casefold(), s.id))

    def pull_roster(self, school_id: str) -> PulledRoster:
        """A full roster pull of ``school_id``; its classes and guides (a worker thread)."""
        from companion.session.signin import SignInService
        from companion.store import roster
        from companion.sync.roster_refresh import RosterRefresher, RosterRefreshError
        from companion.timeback import auth_for, oneroster_client

        environment = self.environment
        auth = self._auth or auth_for(environment)  # the stored credentials, if not checked

        def client_factory() -> OneRosterClient:
            return oneroster_client(environment, auth)

        refresher = RosterRefresher(self.db, client_factory, school_id, self.clock)
        try:
            result = refresher.refresh_now(full=True)
        except RosterRefreshError as exc:
            raise SetupFailed(f"The roster could not be pulled: {exc}") from exc
        service = SignInService(self.db, self.clock)
        classes = [c for c in service.classes()
                   if (row := roster.get_class(self.db, c.id)) is not None
                   and row.school_sourced_id == school_id]
        return PulledRoster(school_id, result.fetched, classes, service.guides())

    def finish(self, school_id: str, class_ids: Sequence[str],
               guide_pins: Mapping[str, str]) -> None:
        """Set the guide PINs (scrypt: a worker thread) and write the config file."""
        from companion.config import save_computer
        from companion.session.signin import SignInService

        service = SignInService(self.db, self.clock)
        for guide_id, pin in guide_pins.items():
            result = service.set_guide_pin(guide_id, pin)
            if not result.ok:
                raise SetupFailed(f"The PIN of {guide_id} was not set: {result.message}")
        save_computer(self.env_name, school_id, list(class_ids))
        log.info("set up %s for school %s, %d classes", self.env_name, school_id,
                 len(class_ids))
