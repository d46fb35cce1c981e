"""LTI 1.3 launches and Sign in with Timeback, wired to the app.

``start_launch_services`` (Qt-free, run in a background task) binds the loopback listener
and builds the registration, key-set cache, nonce store, ``LaunchService`` and
``SignInWithTimeback`` for the runtime's environment. ``LaunchBridge`` is the
``LaunchHandler``: the listener calls it from its own thread and it re-emits each call as a
Qt signal, which Qt queues to receivers on the UI thread. ``LaunchServices`` is what the
window's ``LaunchController`` is given (``ui.ports.Launches``).

Signals:
    launched(object): a validated ``LaunchRequest``.
    signed_in(object): a completed Sign in with Timeback (``SignInResult``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from companion.core.launch_types import LaunchRequest, OpenLesson, SignInResult, StartLaunch

if TYPE_CHECKING:
    import httpx

    from companion.app.runtime import Runtime
    from companion.launch.handler import LaunchHandler
    from companion.launch.listener import LoopbackListener
    from companion.launch.registration import Registration
    from companion.launch.service import LaunchService
    from companion.launch.signin_oidc import SignInWithTimeback

log = logging.getLogger("companion.app.launch")


class LaunchBridge(QObject):
    """The app's ``LaunchHandler``: launches and sign-ins as Qt signals.

    Signals:
        launched(object): a ``LaunchRequest`` (delivered on the UI thread).
        signed_in(object): a ``SignInResult`` (delivered on the UI thread).
    """

    launched = Signal(object)
    signed_in = Signal(object)

    def on_launch(self, request: LaunchRequest) -> None:
        """Called on the listener's thread: hand the launch to the UI thread."""
        self.launched.emit(request)

    def on_signed_in(self, result: SignInResult) -> None:
        """Called on the listener's thread: hand the sign-in to the UI thread."""
        self.signed_in.emit(result)


@dataclass
class LaunchServices:
    """The running launch side: what the window may ask of it, and stop on quit."""

    listener: LoopbackListener
    registration: Registration
    launches: LaunchService
    signin: SignInWithTimeback
    http: httpx.Client

    def begin_sign_in(self) -> None:
        """Start Sign in with Timeback: the browser opens at the platform (blocking)."""
        self.signin.begin()

    def login_url(self, start: StartLaunch) -> str:
        """The listener URL that starts ``start`` in the browser (third-party login)."""
        from companion.launch.urls import login_url_for

        return login_url_for(start, self.registration, self.listener.urls)

    def stop(self) -> None:
        """Stop the listener (releasing its port) and close the HTTP client."""
        self.listener.stop()
        self.http.close()


def parse_link(url: str) -> StartLaunch | OpenLesson:
    """What a ``timeback-companion://`` link asks for (``launch.urls.parse_url``)."""
    from companion.launch.urls import parse_url

    return parse_url(url)


def start_launch_services(rt: Runtime, handler: LaunchHandler, *, port: int,
                          open_browser: Callable[[str], object]) -> LaunchServices | None:
    """Bind and start the listener for ``rt``'s environment (a worker thread).

    Only the embedded sandbox's platform is registered (real environments publish no LTI
    registration for this app yet): None elsewhere. Tokens are dated by the runtime's wall
    clock (the platform dates them by its own).
    """
    import httpx

    from companion.launch.jwks import KeySetCache
    from companion.launch.listener import LoopbackListener
    from companion.launch.nonces import NonceStore
    from companion.launch.registration import SANDBOX_CLIENT_ID, sandbox_registration
    from companion.launch.service import LaunchService
    from companion.launch.signin_oidc import OidcProvider, SignInWithTimeback

    if rt.sandbox is None:
        log.info("no LTI registration for %s: launches are off", rt.env_name)
        return None
    base = rt.sandbox.base_url.rstrip("/")
    clock = rt.wall_clock
    listener = LoopbackListener.bind(port=port)
    http = httpx.Client(timeout=10)
    registration = sandbox_registration(base)
    keys = KeySetCache(registration.jwks_url, http)
    nonces = NonceStore(rt.db, clock)
    refresh = rt.refresher.refresh_now if rt.refresher is not None else None
    launches = LaunchService(registration=registration, urls=listener.urls, db=rt.db,
                             nonces=nonces, keys=keys, clock=clock, handler=handler,
                             refresh_roster=refresh)
    provider = OidcProvider(issuer=base, client_id=SANDBOX_CLIENT_ID,
                            authorization_endpoint=f"{base}/oidc/authorize",
                            token_endpoint=f"{base}/oidc/token",
                            jwks_uri=registration.jwks_url)
    signin = SignInWithTimeback(provider=provider, redirect_uri=listener.urls.redirect_uri,
                                db=rt.db, nonces=nonces, keys=keys, http=http, clock=clock,
                                handler=handler, open_browser=open_browser,
                                refresh_roster=refresh)
    try:
        listener.start(launches, signin)
    except Exception:
        http.close()
        listener.stop()
        raise
    return LaunchServices(listener, registration, launches, signin, http)
