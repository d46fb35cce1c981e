"""From a validated identity to a cached OneRoster user, refreshing the roster once if needed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from companion.launch.reasons import LaunchRefused, Refusal
from companion.store.db import Database
from companion.store.roster import get_user, user_by_email, user_can_sign_in
from companion.store.tables import RosterUser

log = logging.getLogger("companion.launch")

RefreshRoster = Callable[[], object]
"""Pulls the roster again (e.g. ``RosterRefresher.refresh_now``); may raise."""


def _by_ids(db: Database, ids: Iterable[str]) -> RosterUser | None:
    for user_id in ids:
        user = get_user(db, user_id)
        if user is not None:
            return user
    return None


def _by_email(db: Database, email: str) -> RosterUser | None:
    return user_by_email(db, email)


def _resolve(lookup: Callable[[], RosterUser | None], refresh: RefreshRoster | None,
             who: str) -> RosterUser:
    user = lookup()
    if user is None and refresh is not None:
        try:
            refresh()
        except Exception as exc:  # a failed refresh leaves the cache as it was
            log.warning("roster refresh for an unknown launch user failed: %s", exc)
        user = lookup()
    if user is None:
        raise LaunchRefused(Refusal.UNKNOWN_USER,
                            f"{who} is not on this computer's class list. Ask your guide to "
                            "check the roster, then try again.")
    if not user_can_sign_in(user):
        raise LaunchRefused(Refusal.UNKNOWN_USER,
                            f"{who} cannot sign in here (the account is disabled or removed).")
    return user


def user_for_launch(db: Database, person_sourcedid: str | None, sub: str,
                    refresh: RefreshRoster | None) -> RosterUser:
    """The user whose sourcedId is lis.person_sourcedid, or else sub."""
    ids = [i for i in (person_sourcedid, sub) if i]
    return _resolve(lambda: _by_ids(db, ids), refresh, "This student")


def user_for_email(db: Database, email: str, refresh: RefreshRoster | None) -> RosterUser:
    """The user with ``email`` (case-insensitive)."""
    return _resolve(lambda: _by_email(db, email), refresh, f"The account {email}")
