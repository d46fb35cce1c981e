"""The web engine's one way to the network: a proxy on loopback that lets through only the
hosts of the web lessons open now.

Chromium is started with ``--proxy-server`` pointing here and ``--proxy-bypass-list=<-loopback>``
(``lesson_policy.proxy_flags``), so every connection a page makes over TCP comes here first:
page loads, ``fetch``, WebSocket and WebRTC's TURN over TCP alike (WebRTC sends no UDP at all:
``lesson_policy.CHROMIUM_FLAGS``). A lesson bundle's own files never come here (the
``lesson:`` scheme is served by the app), so with no web lesson open nothing gets through,
whatever a page tries in whichever frame. A web lesson opens the gate for its listed hosts
while it runs (``allow``).

``CONNECT host:port`` (HTTPS, WebSocket, TURN) and plain ``http://`` requests to an allowed
host are relayed; a plain request goes upstream with ``Connection: close``, so that each
connection carries one request and each request is checked. Everything else is answered
``403`` and kept (shortened) in ``refused``. Connections go direct from here: the web engine
used no proxy before either.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import socketserver
import threading
from urllib.parse import urlsplit

from companion.content.web_lesson import host_allowed

log = logging.getLogger("companion.ui")

MAX_HEAD_BYTES = 32 * 1024
MAX_CONNECTIONS = 64
MAX_REFUSED_KEPT = 200
CONNECT_TIMEOUT_S = 10.0
IDLE_TIMEOUT_S = 300.0
CHUNK = 64 * 1024
_HOP_HEADERS = frozenset(
    {b"connection", b"proxy-connection", b"keep-alive", b"proxy-authorization"}
)
_REFUSED = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
_ESTABLISHED = b"HTTP/1.1 200 Connection Established\r\n\r\n"


def target_of(head: bytes) -> tuple[str, int, bytes] | None:
    """The host, port and upstream request head of a proxy request's ``head`` (request line
    and headers); None when it is neither ``CONNECT host:port`` nor an absolute ``http://``
    request. For CONNECT the upstream head is empty."""
    first, _, rest = head.partition(b"\r\n")
    parts = first.split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        return None
    method, target, version = parts
    text = target.decode("latin-1")
    if method.upper() == b"CONNECT":
        split = urlsplit("//" + text)
        try:
            port = split.port
        except ValueError:
            return None
        if not split.hostname or port is None:
            return None
        return split.hostname, port, b""
    split = urlsplit(text)
    try:
        port = split.port or 80
    except ValueError:
        return None
    if split.scheme.lower() != "http" or not split.hostname:
        return None
    path = (split.path or "/") + (f"?{split.query}" if split.query else "")
    lines = [method + b" " + path.encode("latin-1") + b" " + version]
    for line in rest.split(b"\r\n"):
        name = line.split(b":", 1)[0].strip().lower()
        if line and name not in _HOP_HEADERS:
            lines.append(line)
    lines.append(b"Connection: close")
    return split.hostname, port, b"\r\n".join(lines) + b"\r\n\r\n"


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = False  # the port is ours alone while the app runs

    def __init__(self, gate: WebGate) -> None:
        super().__init__(("127.0.0.1", 0), _Relay)
        self.gate = gate


class _Relay(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        gate = self.server.gate
        if not gate.slots.acquire(blocking=False):
            return
        try:
            self._serve(gate, self.request)
        finally:
            gate.slots.release()

    def _serve(self, gate: WebGate, client: socket.socket) -> None:
        client.settimeout(CONNECT_TIMEOUT_S)
        data = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in data and len(data) < MAX_HEAD_BYTES:
                chunk = client.recv(CHUNK)
                if not chunk:
                    return
                data += chunk
        head, sep, extra = data.partition(b"\r\n\r\n")
        target = target_of(head) if sep else None
        if target is None or not gate.allows(target[0]):
            gate.note_refused(f"{target[0]}:{target[1]}" if target else head[:80].decode("latin-1"))
            with contextlib.suppress(OSError):
                client.sendall(_REFUSED)
            return
        host, port, upstream_head = target
        try:
            upstream = socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S)
        except OSError:
            with contextlib.suppress(OSError):
                client.sendall(_BAD_GATEWAY)
            return
        with upstream, contextlib.suppress(OSError):
            if upstream_head:
                upstream.sendall(upstream_head + extra)
            else:
                client.sendall(_ESTABLISHED)
                if extra:
                    upstream.sendall(extra)
            _pipe(client, upstream)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until either side closes or both stay idle too long."""
    a.settimeout(None)
    b.settimeout(None)
    other = {a: b, b: a}
    while True:
        ready, _, _ = select.select([a, b], [], [], IDLE_TIMEOUT_S)
        if not ready:
            return
        for sock in ready:
            chunk = sock.recv(CHUNK)
            if not chunk:
                return
            other[sock].sendall(chunk)


class WebGate:
    """The proxy on ``127.0.0.1:port``; ``allow`` opens it for a web lesson's hosts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[int, tuple[str, ...]] = {}
        self._next = 0
        self.refused: list[str] = []
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self._server = _Server(self)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="web-gate", daemon=True
        )
        self._thread.start()

    def allow(self, hosts: tuple[str, ...]) -> int:
        """Let ``hosts`` through (``host_allowed``'s rule) until ``release`` of the number
        returned."""
        with self._lock:
            self._next += 1
            self._open[self._next] = tuple(hosts)
            return self._next

    def release(self, ticket: int) -> None:
        with self._lock:
            self._open.pop(ticket, None)

    def allows(self, host: str) -> bool:
        with self._lock:
            listed = list(self._open.values())
        return any(host_allowed(host, hosts) for hosts in listed)

    def note_refused(self, what: str) -> None:
        with self._lock:
            self.refused.append(what[:120])
            del self.refused[:-MAX_REFUSED_KEPT]
        log.info("web gate: a connection was refused")

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


_gate: WebGate | None = None


def start() -> WebGate:
    """The process's gate, started on first use (before Qt WebEngine starts: its port goes
    into Chromium's flags)."""
    global _gate
    if _gate is None:
        _gate = WebGate()
    return _gate


def current() -> WebGate | None:
    """The process's gate, or None when the web engine was started without one."""
    return _gate
