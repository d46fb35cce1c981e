"""One app per OS user: a local socket named after the user; a second start wakes the first.

``SingleInstance.acquire(urls)`` either starts listening (we are the first) and returns
True, or tells the running instance to come forward, handing it any
``timeback-companion://`` links this start was given, and returns False.

The message is lines of text: ``show`` or ``url <link>``.

Signals:
    activated: another start asked this instance to show its window.
    url_received(str): another start was given this link.
"""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger("companion.ui")

MESSAGE = b"show\n"
URL_PREFIX = "url "
MAX_MESSAGE = 64 * 1024
TIMEOUT_MS = 500


def encode_message(urls: Sequence[str]) -> bytes:
    """The message a later start sends: ``show`` and one ``url`` line per link."""
    lines = ["show", *(URL_PREFIX + u for u in urls if "\n" not in u and "\r" not in u)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def decode_message(data: bytes) -> tuple[bool, list[str]]:
    """(show asked, links) from a message; anything else in it is ignored."""
    text = data[:MAX_MESSAGE].decode("utf-8", "replace")
    show, urls = False, []
    for line in text.splitlines():
        if line == "show":
            show = True
        elif line.startswith(URL_PREFIX):
            urls.append(line[len(URL_PREFIX):])
    return show, urls


def server_name(env: str, user: str | None = None, data_dir: str | None = None) -> str:
    """The socket name for this OS user, environment and data folder (no path separators).

    One app per data folder: the per-user default, or the folder ``COMPANION_DATA_DIR``
    names (a copied data folder for support, or a test), which is another app's own.
    """
    who = user or getpass.getuser()
    where = os.environ.get("COMPANION_DATA_DIR", "") if data_dir is None else data_dir
    digest = hashlib.sha256(f"{who}:{env}:{where}".encode()).hexdigest()[:16]
    return f"timeback-companion-{digest}"


class SingleInstance(QObject):
    """Listens for later starts of the app by the same OS user.

    Signals:
        activated: a second start asked us to bring the window forward.
        url_received(str): a second start handed over a link.
    """

    activated = Signal()
    url_received = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server: QLocalServer | None = None

    def acquire(self, urls: Sequence[str] = ()) -> bool:
        """True if this is the first instance (now listening); False if one is running
        (it was sent ``urls``)."""
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        if socket.waitForConnected(TIMEOUT_MS):
            socket.write(encode_message(urls))
            socket.waitForBytesWritten(TIMEOUT_MS)
            socket.disconnectFromServer()
            return False
        server = QLocalServer(self)
        server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        if not server.listen(self.name):
            # A stale socket file from a crashed instance: remove it and listen again.
            QLocalServer.removeServer(self.name)
            if not server.listen(self.name):
                log.warning("single instance: cannot listen on %s: %s", self.name,
                            server.errorString())
                return True
        server.newConnection.connect(self.on_new_connection)
        self._server = server
        return True

    def on_new_connection(self) -> None:
        assert self._server is not None
        while self._server.hasPendingConnections():
            conn = self._server.nextPendingConnection()
            # The other start writes its one line right after connecting.
            if conn.bytesAvailable() or conn.waitForReadyRead(TIMEOUT_MS):
                data = bytes(conn.readAll().data())
            else:
                data = b""
            conn.disconnectFromServer()
            conn.deleteLater()
            show, urls = decode_message(data)
            if show:
                self.activated.emit()
            for url in urls:
                self.url_received.emit(url)

    def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            self._server = None
