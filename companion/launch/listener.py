"""The loopback listener (RFC 8252 style): 127.0.0.1 only, while the app runs.

Routes: ``/lti/login`` (GET and POST, login initiation), ``/lti/launch`` (form POST) and
``/oidc/callback`` (Sign in with Timeback's redirect). The port is the configured one or the
first free one of a small range after it. ``LoopbackListener.bind`` takes the port first,
so the services can be built with the listener's URLs before it starts serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from companion.launch import pages
from companion.launch.reasons import LaunchRefused
from companion.launch.registration import (
    CALLBACK_PATH,
    LAUNCH_PATH,
    LOGIN_PATH,
    LOOPBACK_HOST,
    ToolUrls,
    tool_urls,
)
from companion.launch.service import LaunchService
from companion.launch.signin_oidc import SignInWithTimeback

log = logging.getLogger("companion.launch")

DEFAULT_PORT = 47631
# A launch form holds one signed token and a state: far below this.
MAX_BODY_BYTES = 64 * 1024
FALLBACK_PORTS = 9
STATE_COOKIE = "companion_lti_state"
# The launch is a cross-site form POST from the platform: only a SameSite=None cookie is
# sent with it, and browsers accept Secure cookies from loopback (a secure context).
_COOKIE_ATTRS: dict[str, Any] = {"httponly": True, "secure": True, "samesite": "none",
                                 "path": "/lti", "max_age": 600}


class ListenerError(Exception):
    """No port of the range could be bound."""


def bind_loopback(port: int, fallback: int = FALLBACK_PORTS) -> socket.socket:
    """A listening socket on 127.0.0.1: ``port``, else the next ``fallback`` ports.

    ``port=0`` asks the OS for any free port (tests).
    """
    candidates = [0] if port == 0 else range(port, port + fallback + 1)
    for candidate in candidates:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            _reuse_address(sock)
            sock.bind((LOOPBACK_HOST, candidate))
            sock.listen(16)
        except OSError:
            sock.close()
            continue
        return sock
    raise ListenerError(f"no free port on {LOOPBACK_HOST} in {port}..{port + fallback}")


def _reuse_address(sock: socket.socket) -> None:
    """Let a restart bind the port again while old connections linger in TIME_WAIT (on
    Windows, where SO_REUSEADDR would let another program share the port, keep it ours)."""
    if sys.platform == "win32":
        sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_EXCLUSIVEADDRUSE", -5), 1)
    else:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)


class BodyTooLarge(Exception):
    """A request body over ``MAX_BODY_BYTES`` (refused before it is read whole)."""


async def _params(request: Request) -> dict[str, str]:
    """Query parameters (GET) or the urlencoded form (POST); a repeated name keeps its first.

    Raises BodyTooLarge for a form over ``MAX_BODY_BYTES``: by its Content-Length before
    reading anything, else as soon as the streamed body passes the limit."""
    if request.method != "POST":
        return dict(request.query_params)
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    body = b"".join(chunks).decode("utf-8", "replace")
    params: dict[str, str] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        params.setdefault(key, value)
    return params


def _refused(title: str, refused: LaunchRefused) -> HTMLResponse:
    return HTMLResponse(pages.refused_page(title, refused.code.value, refused.message),
                        status_code=400)


def _too_large() -> HTMLResponse:
    return HTMLResponse(pages.page("Too large", "This request is too large to be a launch."),
                        status_code=413, headers={"Connection": "close"})


def build_app(services: ListenerServices) -> Starlette:
    """The listener's ASGI application."""

    async def login(request: Request) -> Response:
        launches = services.launches
        if launches is None:
            return HTMLResponse(pages.page("Not ready", "Launches are not set up."), 503)
        try:
            params = await _params(request)
        except BodyTooLarge:
            return _too_large()
        try:
            redirect = await run_in_threadpool(launches.login, params)
        except LaunchRefused as refused:
            return _refused("This launch could not start", refused)
        response = RedirectResponse(redirect.url, status_code=302)
        response.set_cookie(STATE_COOKIE, redirect.state, **_COOKIE_ATTRS)
        return response

    async def launch(request: Request) -> Response:
        launches = services.launches
        if launches is None:
            return HTMLResponse(pages.page("Not ready", "Launches are not set up."), 503)
        try:
            params = await _params(request)
        except BodyTooLarge:
            return _too_large()
        try:
            done = await run_in_threadpool(launches.launch, params,
                                           request.cookies.get(STATE_COOKIE))
        except LaunchRefused as refused:
            return _refused("This launch was refused", refused)
        response = HTMLResponse(pages.launched_page(done.lesson_id))
        response.delete_cookie(STATE_COOKIE, path="/lti", secure=True, samesite="none")
        return response

    async def callback(request: Request) -> Response:
        signin = services.signin
        if signin is None:
            return HTMLResponse(pages.page("Not ready", "Sign-in is not set up."), 503)
        try:
            await run_in_threadpool(signin.complete, dict(request.query_params))
        except LaunchRefused as refused:
            return _refused("Sign-in failed", refused)
        return HTMLResponse(pages.signed_in_page())

    return Starlette(routes=[
        Route(LOGIN_PATH, login, methods=["GET", "POST"]),
        Route(LAUNCH_PATH, launch, methods=["POST"]),
        Route(CALLBACK_PATH, callback, methods=["GET"]),
    ])


class ListenerServices:
    """What the routes call; set before or after the listener starts."""

    def __init__(self) -> None:
        self.launches: LaunchService | None = None
        self.signin: SignInWithTimeback | None = None


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        self._ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the app owns signal handling, never this background server


class LoopbackListener:
    """A bound loopback port; ``start`` serves the routes on it in a daemon thread."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.port = int(sock.getsockname()[1])
        self.urls: ToolUrls = tool_urls(self.port)
        self.services = ListenerServices()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def bind(cls, port: int = DEFAULT_PORT, fallback: int = FALLBACK_PORTS) -> LoopbackListener:
        """Take the configured port or the first free one after it."""
        return cls(bind_loopback(port, fallback))

    def start(self, launches: LaunchService | None = None,
              signin: SignInWithTimeback | None = None) -> None:
        """Serve in a background thread; returns once it accepts connections."""
        if launches is not None:
            self.services.launches = launches
        if signin is not None:
            self.services.signin = signin
        config = uvicorn.Config(build_app(self.services), log_level="warning", lifespan="off",
                                ws="none", access_log=False, timeout_graceful_shutdown=2)
        ready = threading.Event()
        server = _Server(config, ready)
        self._server = server

        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[self._sock]))
            finally:
                ready.set()

        self._thread = threading.Thread(target=run, name="launch-listener", daemon=True)
        self._thread.start()
        ready.wait()
        if not server.started:
            raise ListenerError(f"the launch listener did not start on port {self.port}")
        log.info("launch listener on %s", self.urls.login_url)

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> LoopbackListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
