"""Clients for an environment, wired with its token endpoint and credentials."""

from __future__ import annotations

import httpx

from companion.core.clock import Clock
from companion.core.environments import Environment

from ._auth import ClientCredentialsAuth
from ._caliper import CaliperClient
from ._credentials import Credentials, load_credentials
from ._mapping import map_exception
from ._oneroster import OneRosterClient
from ._transport import HttpSession


def auth_for(
    environment: Environment,
    credentials: Credentials | None = None,
    *,
    scope: str | None = None,
    clock: Clock | None = None,
) -> ClientCredentialsAuth:
    """The token auth for ``environment``; credentials default to the stored ones."""
    creds = credentials or load_credentials(environment.name)
    return ClientCredentialsAuth(environment.token_url, creds, scope=scope, clock=clock)


def oneroster_client(
    environment: Environment,
    auth: httpx.Auth,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | None = None,
) -> OneRosterClient:
    """A OneRoster client for ``environment``."""
    return OneRosterClient(
        environment.oneroster_base, auth=auth, transport=transport, timeout=timeout
    )


def caliper_client(
    environment: Environment,
    auth: httpx.Auth,
    *,
    sensor: str,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | None = None,
    clock: Clock | None = None,
) -> CaliperClient:
    """A Caliper client for ``environment`` sending as ``sensor``."""
    return CaliperClient(
        environment.caliper_base,
        sensor=sensor,
        auth=auth,
        transport=transport,
        timeout=timeout,
        clock=clock,
    )


def verify_credentials(
    environment: Environment,
    credentials: Credentials,
    *,
    scope: str | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | None = None,
) -> None:
    """Fetch one token with ``credentials``; UnauthorisedError if they are refused, or the
    network error (offline, TLS, proxy, ...) that prevented the check."""
    session = HttpSession(environment.token_url, transport=transport, timeout=timeout)
    auth = ClientCredentialsAuth(environment.token_url, credentials, scope=scope)
    try:
        auth.fetch_token(session.client)
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        raise map_exception(exc, proxy=session.proxy) from exc
    finally:
        session.close()
