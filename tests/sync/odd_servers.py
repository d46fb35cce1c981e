"""Caliper receivers that behave differently from the sandbox, for the read-back tests.

Each is a plain ``http.server`` on loopback (written here, sharing no code with the sandbox)
that stores every envelope it receives, counting copies per event id (it does not
deduplicate, like Timeback). What differs is set by ``Behaviour``:

* ``by_id``: "raw" matches ``/caliper/events/{id}`` on the path exactly as sent (no
  percent-decoding), "404" always answers not found, "decoded" decodes as Starlette does;
* ``event_list``: whether the documented ``GET /caliper/events`` is offered (else 404);
* ``jobs``: "none" (no job ids), "never" (a job id in the answer, and its status never
  finishes: "waiting" forever) or "odd" (a status in a shape the SDK does not read);
* every ``drop_every``-th envelope is stored and then the answer is lost: "reset" closes the
  connection with no answer, "jobid-then-drop" sends the head of an answer that carries a
  job id and then closes the connection mid-body, "queued" answers 200 with a job id but
  without ``status: success`` (an answer the client cannot trust); "unstored" closes the
  connection without storing (the envelope was lost on its way in).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class Behaviour:
    """How a receiver differs from the sandbox."""

    by_id: str = "decoded"  # "raw" | "404" | "decoded"
    event_list: bool = True
    jobs: str = "none"  # "none" | "never" | "odd"
    drop_every: int = 3  # every n-th envelope is stored and its answer lost (0: never)
    drop: str = "reset"  # "reset" | "jobid-then-drop" | "queued" | "unstored"


class Receiver:
    """What the server stored; shared with its handler threads."""

    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour  # may be replaced while running
        self.lock = threading.Lock()
        self.copies: Counter[str] = Counter()
        self.events: list[dict[str, Any]] = []
        self.posts = 0
        self.requests: Counter[str] = Counter()

    def store(self, envelope: dict[str, Any]) -> int:
        with self.lock:
            self.posts += 1
            behaviour = self.behaviour
            if behaviour.drop == "unstored" and behaviour.drop_every and (
                self.posts % behaviour.drop_every == 0
            ):
                return self.posts
            for event in envelope.get("data", []):
                self.copies[str(event["id"])] += 1
                self.events.append(event)
            return self.posts

    @property
    def duplicates(self) -> int:
        with self.lock:
            return sum(n - 1 for n in self.copies.values() if n > 1)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = 1 << 16  # head and body in one write (flushed after each request)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length", "0"))
            parsed = json.loads(self.rfile.read(length) or b"{}")
            return parsed if isinstance(parsed, dict) else {}

        def do_POST(self) -> None:
            behaviour = receiver.behaviour
            path = urlsplit(self.path).path
            receiver.requests[f"POST {path}"] += 1
            if path == "/oauth2/token":
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self._answer(200, {"access_token": "t", "token_type": "Bearer",
                                   "expires_in": 3600})
                return
            if path != "/caliper/event":
                self._answer(404, {"status": "error", "message": "no such endpoint"})
                return
            number = receiver.store(self._body())
            job = f"job-{number}"
            if behaviour.drop_every and number % behaviour.drop_every == 0:
                self._lose_answer(job)
                return
            answer: dict[str, Any] = {"status": "success", "message": "queued"}
            if behaviour.jobs != "none":
                answer["jobId"] = job
            self._answer(200, answer)

        def _lose_answer(self, job: str) -> None:
            behaviour = receiver.behaviour
            if behaviour.drop == "queued":
                self._answer(200, {"status": "queued", "jobId": job})
                return
            if behaviour.drop == "jobid-then-drop":
                head = json.dumps({"status": "success", "jobId": job}).encode()[:-1]
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(head) + 50))
                self.end_headers()
                self.wfile.write(head)
                self.wfile.flush()
            self.wfile.flush()
            self.close_connection = True
            self.connection.close()

        def do_GET(self) -> None:
            raw = urlsplit(self.path)
            receiver.requests[f"GET {raw.path.split('/')[1]}"] += 1
            if raw.path == "/caliper/events":
                self._list(parse_qs(raw.query))
            elif raw.path.startswith("/caliper/events/"):
                self._by_id(raw.path.removeprefix("/caliper/events/"))
            elif raw.path.startswith("/jobs/"):
                self._job(raw.path.split("/")[2])
            else:
                self._answer(404, {"status": "error", "message": "not found"})

        def _list(self, query: dict[str, list[str]]) -> None:
            behaviour = receiver.behaviour
            if not behaviour.event_list:
                self._answer(404, {"status": "error", "message": "not found"})
                return

            def one(key: str) -> str | None:
                values = query.get(key)
                return values[0] if values else None

            actor, start, end = one("actorId"), one("startDate"), one("endDate")
            limit, offset = int(one("limit") or 100), int(one("offset") or 0)
            with receiver.lock:
                events = list(receiver.events)
            chosen = []
            for event in events:
                moment = datetime.fromisoformat(event["eventTime"])
                if actor is not None and event["actor"]["id"] != actor:
                    continue
                if start is not None and moment < datetime.fromisoformat(start):
                    continue
                if end is not None and moment > datetime.fromisoformat(end):
                    continue
                chosen.append(event)
            self._answer(200, {"status": "success", "message": "ok",
                               "events": chosen[offset:offset + limit],
                               "totalCount": len(chosen), "offset": offset, "limit": limit})

        def _by_id(self, raw_id: str) -> None:
            behaviour = receiver.behaviour
            event_id = unquote(raw_id) if behaviour.by_id == "decoded" else raw_id
            with receiver.lock:
                stored = next((e for e in receiver.events if e["id"] == event_id), None)
            if behaviour.by_id == "404" or stored is None:
                self._answer(404, {"status": "error", "message": "event not found"})
                return
            self._answer(200, {"status": "success", "event": stored})

        def _job(self, job_id: str) -> None:
            behaviour = receiver.behaviour
            if behaviour.jobs == "never":
                self._answer(200, {"jobId": job_id, "state": "waiting"})
            elif behaviour.jobs == "odd":
                self._answer(200, {"jobId": job_id, "state": "done", "ok": True})
            else:
                self._answer(404, {"status": "error", "message": "no such job"})

    return Handler


@contextmanager
def receiver_running(behaviour: Behaviour) -> Iterator[tuple[Receiver, str]]:
    """A receiver on a free loopback port: (its record, its base URL)."""
    receiver = Receiver(behaviour)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="odd-receiver", daemon=True)
    thread.start()
    try:
        yield receiver, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
