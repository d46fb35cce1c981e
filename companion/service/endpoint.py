"""Where clients reach the service: a Unix domain socket, or a socket pair in-process.

Both hostings run the same ``serve_connection`` on a stream socket: read a message, let
``Service.handle`` answer it, write the answer. On a Unix socket the caller's OS account is
read from the kernel (``SO_PEERCRED``) when the connection is accepted and kept with it;
nothing the client says changes it.

``UnixEndpoint`` listens on a socket file in a folder of mode 0755 (systemd's
``RuntimeDirectory``): the socket file has mode 0666, so every local account can connect,
and nothing off this computer can. ``InProcessHost`` (a personal computer, the demo, the
tests) hands out one end of a ``socket.socketpair()`` per connection and serves the other
on a thread of the app's own process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import stat
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from companion.service import protocol as p
from companion.service.handler import Connection, Service

log = logging.getLogger(__name__)

SOCKET_MODE = 0o666
DIRECTORY_MODE = 0o755
HOUSEKEEPING_S = 15.0


@dataclass(frozen=True, slots=True)
class Peer:
    """The OS identity of the process at the other end of a Unix socket."""

    pid: int
    uid: int
    gid: int


def peer_of(sock: socket.socket) -> Peer:
    """The peer's pid, uid and gid from the kernel (Linux ``SO_PEERCRED``)."""
    size = struct.calcsize("3i")
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, size)
    pid, uid, gid = struct.unpack("3i", raw)
    return Peer(pid, uid, gid)


def serve_connection(service: Service, sock: socket.socket, conn: Connection) -> None:
    """Answer ``sock``'s requests until it closes (or breaks the framing)."""
    with sock, sock.makefile("rb") as reader:
        while True:
            try:
                message = p.read_message(reader)
            except p.ProtocolError as exc:
                _send(sock, p.error(None, p.BAD_REQUEST, str(exc)))
                return
            except OSError:
                return
            if message is None:
                return
            response = service.handle(conn, message)
            if not _send(sock, response):
                return
            if message.get("op") == "hello" and not response["ok"]:
                return  # a client of another version: it was told why


def _send(sock: socket.socket, message: dict[str, object]) -> bool:
    try:
        sock.sendall(p.encode(message))
    except OSError:
        return False
    return True


class Housekeeper:
    """Calls ``service.housekeeping`` every ``every_s`` seconds on its own thread."""

    def __init__(self, service: Service, every_s: float = HOUSEKEEPING_S) -> None:
        self._service = service
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="service-housekeeping", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self._service.housekeeping()
            except Exception:
                log.exception("housekeeping failed")


class UnixEndpoint:
    """The service on a Unix domain socket; a thread per connection."""

    def __init__(
        self, service: Service, path: Path, on_accept: Callable[[Peer], None] | None = None
    ) -> None:
        self.service = service
        self.path = path
        self._on_accept = on_accept
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Bind (replacing a stale socket file), set the modes, listen, accept on a thread."""
        folder = self.path.parent
        if not folder.is_dir():
            folder.mkdir(mode=DIRECTORY_MODE, parents=True)
            os.chmod(folder, DIRECTORY_MODE)
        if self.path.exists() or self.path.is_symlink():
            if not stat.S_ISSOCK(os.lstat(self.path).st_mode):
                raise FileExistsError(f"{self.path} exists and is not a socket")
            self.path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # no moment at which others could reach a half-made socket
        try:
            listener.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, SOCKET_MODE)
        listener.listen(64)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, name="service-accept", daemon=True)
        self._thread.start()
        log.info("service listening on %s", self.path)

    def close(self) -> None:
        """Stop accepting, end every connection and remove the socket file."""
        self._closing.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._closing.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            peer = peer_of(sock)
            if self._on_accept is not None:
                self._on_accept(peer)
            conn = Connection(uid=peer.uid, pid=peer.pid)
            with self._lock:
                self._clients.add(sock)
            threading.Thread(
                target=self._serve, args=(sock, conn), daemon=True, name=f"service-uid-{peer.uid}"
            ).start()

    def _serve(self, sock: socket.socket, conn: Connection) -> None:
        try:
            serve_connection(self.service, sock, conn)
        finally:
            with self._lock:
                self._clients.discard(sock)


class InProcessHost:
    """The service inside the app's process: each ``connect()`` is a fresh socket pair."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._threads: list[threading.Thread] = []
        self._closed = False

    def connect(self) -> socket.socket:
        """A connected socket for a client; its other end is served on a thread.
        ConnectionRefusedError once the host is closed."""
        if self._closed:
            raise ConnectionRefusedError("the in-process service has stopped")
        ours, theirs = socket.socketpair()
        uid = peer_of(ours).uid if hasattr(socket, "SO_PEERCRED") else _own_uid()
        conn = Connection(uid=uid, pid=os.getpid())
        thread = threading.Thread(
            target=serve_connection,
            args=(self.service, ours, conn),
            daemon=True,
            name="service-in-process",
        )
        thread.start()
        self._threads.append(thread)
        return theirs

    def close(self) -> None:
        """Refuse new connections and wait for the served ones (their clients must have
        closed them)."""
        self._closed = True
        for thread in self._threads:
            thread.join()
        self._threads.clear()


def _own_uid() -> int:
    getuid = getattr(os, "getuid", None)
    return int(getuid()) if getuid is not None else 0
