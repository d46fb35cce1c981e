"""Running the sandbox: in a background thread (tests, the app) or in the foreground (CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

from companion.sandbox.app import ADMIN_HEADER, build_app
from companion.sandbox.faults import FaultPlan, TransportProtocol
from companion.sandbox.seed import Roster, load_seed
from companion.sandbox.state import SandboxState

HOST = "127.0.0.1"


class _Server(uvicorn.Server):
    """A uvicorn server that reports when it is listening (and on which port)."""

    def __init__(self, config: uvicorn.Config, on_started: Callable[[_Server], None]) -> None:
        super().__init__(config)
        self._on_started = on_started

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_started(self)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Stop on SIGINT/SIGTERM and exit normally (uvicorn would re-raise the signal)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    @property
    def port(self) -> int:
        """The port actually bound (useful when asked for port 0)."""
        return int(self.servers[0].sockets[0].getsockname()[1])


def _config(state: SandboxState, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        build_app(state), host=HOST, port=port, http=TransportProtocol, ws="none",
        lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=5,
    )


def _make_state(
    seed: str | Roster, data_dir: Path | None, processing_delay_s: float,
    faults: FaultPlan | None, token_ttl_s: float, admin_token: str | None = None,
) -> SandboxState:
    roster = load_seed(seed) if isinstance(seed, str) else seed
    return SandboxState(roster, data_dir=data_dir, processing_delay_s=processing_delay_s,
                        faults=faults, token_ttl_s=token_ttl_s, admin_token=admin_token)


class SandboxHandle:
    """A sandbox running in a background thread; also a context manager that stops it."""

    def __init__(self, server: _Server, thread: threading.Thread, state: SandboxState) -> None:
        self._server = server
        self._thread = thread
        self.state = state
        self.base_url = f"http://{HOST}:{server.port}"
        # what a caller of the /_admin routes sends
        self.admin_headers = {ADMIN_HEADER: state.admin_token}

    def stop(self) -> None:
        """Stop the server, wait for its thread, close the store."""
        self.state.shutdown.set()
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self.state.close()

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_in_thread(
    port: int = 0,
    data_dir: Path | None = None,
    seed: str | Roster = "demo",
    processing_delay_s: float = 0.0,
    faults: FaultPlan | None = None,
    token_ttl_s: float = 3600,
) -> SandboxHandle:
    """Start a sandbox on 127.0.0.1 in a daemon thread; returns once it is listening."""
    state = _make_state(seed, data_dir, processing_delay_s, faults, token_ttl_s)
    ready = threading.Event()
    server = _Server(_config(state, port), on_started=lambda _s: ready.set())
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(server.serve())
        except BaseException as exc:  # SystemExit from a failed bind, too
            failure.append(exc)
        finally:
            ready.set()

    thread = threading.Thread(target=run, name="sandbox-server", daemon=True)
    thread.start()
    ready.wait()
    if not server.started:
        state.close()
        thread.join(timeout=5)
        raise RuntimeError(f"sandbox failed to start on {HOST}:{port}: {failure!r}")
    return SandboxHandle(server, thread, state)


def serve(
    port: int = 8787,
    data_dir: Path | None = None,
    seed: str = "demo",
    processing_delay_s: float = 0.0,
    faults: FaultPlan | None = None,
    token_ttl_s: float = 3600,
    on_started: Callable[[str], None] | None = None,
    admin_token: str | None = None,
) -> None:
    """Run a sandbox in the foreground until Ctrl-C or SIGTERM."""
    state = _make_state(seed, data_dir, processing_delay_s, faults, token_ttl_s, admin_token)

    def started(server: _Server) -> None:
        if on_started is not None:
            on_started(f"http://{HOST}:{server.port}")

    server = _Server(_config(state, port), on_started=started)
    try:
        server.run()
    finally:
        state.close()
