"""The app's side of the service protocol: requests, sign-in tokens and the journal stream.

``ServiceClient`` connects through a ``connect`` callable (a Unix socket path, or the
in-process host's ``connect``: the same client either way), says hello, and answers each
request or raises. Journal lines get their sequence numbers here and wait in memory (never
in a file the student could edit) until the service acknowledges them; when the service is
gone the lines stay queued, and the next call reconnects, takes the signed-in students up
again with their tokens and sends what is not acknowledged yet. The service stores a
repeated line once, so a re-send after a lost acknowledgement is harmless.
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from companion.service import protocol as p

Connect = Callable[[], socket.socket]
MAX_BATCH = 200


class ServiceUnavailable(Exception):
    """The service cannot be reached (not running, or the connection broke)."""


class ServiceRefused(Exception):
    """The service refused a request: ``code`` (docs/service-protocol.md) and ``message``."""

    def __init__(self, code: str, message: str, fields: dict[str, Any]) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.fields = fields


class VersionMismatch(ServiceRefused):
    """The app and the service speak different protocol versions."""


def unix_socket(path: Path, timeout_s: float = 10.0) -> Connect:
    """A ``connect`` for the service's socket at ``path``."""

    def connect() -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(path))
        except OSError:
            sock.close()
            raise
        return sock

    return connect


@dataclass
class _Pending:
    seq: int
    op: str  # "journal" (a line) or "answer"
    body: dict[str, Any]


@dataclass
class _Stream:
    run_id: str
    student_id: str
    next_seq: int = 1
    pending: deque[_Pending] = field(default_factory=deque)
    acked: int = 0


class ServiceClient:
    """One app's connection to the service (thread-safe; one request at a time)."""

    def __init__(
        self,
        connect: Connect,
        client_name: str = "companion",
        protocol_version: int = p.PROTOCOL_VERSION,
    ) -> None:
        """``protocol_version`` is this app's (another only to test a mismatch)."""
        self._connect = connect
        self._version = protocol_version
        self._name = client_name
        self._sock: socket.socket | None = None
        self._reader: BinaryIO | None = None
        self._next_id = 1
        self._lock = threading.RLock()
        self._tokens: dict[str, str] = {}
        self._streams: dict[str, _Stream] = {}
        self.hello: dict[str, Any] = {}

    # ------------------------------------------------------------ connection

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def close(self) -> None:
        """Drop the connection (queued lines stay queued)."""
        with self._lock:
            self._drop()

    def request(self, op: str, **args: Any) -> dict[str, Any]:
        """Send one request and return its answer; ServiceRefused, ServiceUnavailable."""
        with self._lock:
            self._ensure_connected()
            return self._call(op, args)

    # ------------------------------------------------------------ signing in

    def sign_in(self, student: str, pin: str) -> dict[str, Any]:
        """Check a student's PIN in the service; keeps the token for reconnects."""
        with self._lock:
            answer = self.request("sign_in", student=student, pin=pin)
            self._tokens[student] = answer["token"]
            return answer

    def sign_out(self, student: str) -> None:
        with self._lock:
            self._tokens.pop(student, None)
            self.request("sign_out", student=student)

    # ------------------------------------------------------------ the journal stream

    def open_run(self, student: str, lesson: str) -> str:
        """Open a run in the service; returns its id."""
        run_id: str = self.open(student, lesson)["run"]
        return run_id

    def open(self, student: str, lesson: str) -> dict[str, Any]:
        """Open a run in the service; its whole answer (``run``, ``attempt``, ``start``)."""
        with self._lock:
            answer = self.request("open_run", student=student, lesson=lesson)
            self._streams[str(answer["run"])] = _Stream(str(answer["run"]), student)
            return answer

    def line(self, run_id: str, line: dict[str, Any]) -> int:
        """Queue a journal line (export format: ``t`` in seconds, ``kind``, ...) and try to
        send the queue; returns the line's seq. Never raises ServiceUnavailable: the line
        waits in memory until the service is back. ServiceRefused when the service refuses
        a queued line (too far ahead of its clock, malformed): that line stays at the head
        of the queue, since every later seq depends on it."""
        with self._lock:
            return self._queue(run_id, "journal", line)

    def answer(
        self,
        run_id: str,
        t_s: float,
        item: str,
        *,
        response: str | None = None,
        correct: bool | None = None,
    ) -> int:
        """Queue an answer (a response for the service to score, or the content's own
        verdict) and try to send; returns its seq."""
        body: dict[str, Any] = {"t": t_s, "item": item}
        if response is not None:
            body["response"] = response
        if correct is not None:
            body["correct"] = correct
        with self._lock:
            return self._queue(run_id, "answer", body)

    def flush(self) -> bool:
        """Send what is queued; True when the service has acknowledged every line.
        ServiceRefused when it refuses a line (the line stays queued)."""
        with self._lock:
            try:
                self._ensure_connected()
                for stream in list(self._streams.values()):
                    self._send_pending(stream)
            except ServiceUnavailable:
                return False
            return all(not s.pending for s in self._streams.values())

    def close_run(self, run_id: str, completed: bool) -> dict[str, Any]:
        """Send every queued line, then close the run; ServiceUnavailable if it cannot."""
        with self._lock:
            stream = self._streams[run_id]
            self._ensure_connected()
            self._send_pending(stream)
            answer = self._call("close_run", {"run": run_id, "completed": completed})
            del self._streams[run_id]
            return answer

    def discard_run(self, run_id: str) -> None:
        """Stop streaming a run the service refused to take (its queued lines go)."""
        with self._lock:
            self._streams.pop(run_id, None)

    def pending(self, run_id: str) -> int:
        """How many of the run's lines wait for an acknowledgement."""
        with self._lock:
            return len(self._streams[run_id].pending)

    def acked(self, run_id: str) -> int:
        """The last seq of the run the service acknowledged."""
        with self._lock:
            return self._streams[run_id].acked

    # ------------------------------------------------------------ internals

    def _queue(self, run_id: str, op: str, body: dict[str, Any]) -> int:
        stream = self._streams[run_id]
        seq = stream.next_seq
        stream.next_seq += 1
        stream.pending.append(_Pending(seq, op, body))
        try:
            self._ensure_connected()
            self._send_pending(stream)
        except ServiceUnavailable:
            pass
        return seq

    def _send_pending(self, stream: _Stream) -> None:
        while stream.pending:
            head = stream.pending[0]
            if head.op == "answer":
                answer = self._call("answer", {"run": stream.run_id, "seq": head.seq, **head.body})
            else:
                batch: list[dict[str, Any]] = []
                for item in stream.pending:
                    if item.op != "journal" or len(batch) >= MAX_BATCH:
                        break
                    batch.append({"seq": item.seq, **item.body})
                answer = self._call("journal", {"run": stream.run_id, "lines": batch})
            self._acknowledge(stream, int(answer["acked"]))

    @staticmethod
    def _acknowledge(stream: _Stream, acked: int) -> None:
        stream.acked = max(stream.acked, acked)
        while stream.pending and stream.pending[0].seq <= stream.acked:
            stream.pending.popleft()

    def _ensure_connected(self) -> None:
        if self._sock is not None:
            return
        try:
            sock = self._connect()
        except OSError as exc:
            raise ServiceUnavailable(
                f"the Timeback Companion service is not running ({exc})"
            ) from exc
        self._sock = sock
        self._reader = sock.makefile("rb")
        try:
            self.hello = self._call("hello", {"protocol": self._version, "client": self._name})
            for student, token in list(self._tokens.items()):
                try:
                    found = self._call("resume", {"token": token})
                except ServiceRefused:
                    del self._tokens[student]
                    continue
                self._take_up(found.get("run"))
        except (ServiceRefused, ServiceUnavailable):
            self._drop()
            raise

    def _take_up(self, run: dict[str, Any] | None) -> None:
        if not run:
            return
        stream = self._streams.get(run["run"])
        if stream is not None:
            self._acknowledge(stream, int(run["lastSeq"]))

    def _call(self, op: str, args: dict[str, Any]) -> dict[str, Any]:
        if self._sock is None or self._reader is None:
            raise ServiceUnavailable("not connected to the service")
        request_id = self._next_id
        self._next_id += 1
        try:
            self._sock.sendall(p.encode({"id": request_id, "op": op, **args}))
            answer = p.read_message(self._reader)
        except (OSError, p.ProtocolError) as exc:
            self._drop()
            raise ServiceUnavailable(f"the connection to the service broke ({exc})") from exc
        if answer is None:
            self._drop()
            raise ServiceUnavailable("the service closed the connection")
        if answer.get("id") != request_id:
            self._drop()
            raise ServiceUnavailable("the service answered another request")
        if not answer.get("ok"):
            err = answer.get("error") or {}
            code, message = str(err.get("code")), str(err.get("message"))
            fields = {k: v for k, v in answer.items() if k not in ("id", "ok", "error")}
            if code == p.VERSION_MISMATCH:
                raise VersionMismatch(code, message, fields)
            stream = self._streams.get(str(args.get("run")))
            if stream is not None and "acked" in fields:
                self._acknowledge(stream, int(fields["acked"]))
            raise ServiceRefused(code, message, fields)
        return answer

    def _drop(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._reader = None
