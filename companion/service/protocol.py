"""The service protocol's framing, version and error codes (docs/service-protocol.md).

Messages are JSON objects, one per line (UTF-8, ``\\n``-terminated, at most
``MAX_MESSAGE_BYTES``). Requests carry an ``id`` and an ``op``; each response carries the
same ``id`` and ``ok``, and when ``ok`` is false an ``error`` with a ``code`` and a
``message`` a person can read.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 256 * 1024

# error codes (the document lists what each means)
BAD_REQUEST = "bad_request"
VERSION_MISMATCH = "version_mismatch"
HELLO_FIRST = "hello_first"
NOT_SIGNED_IN = "not_signed_in"
NOT_A_GUIDE = "not_a_guide"
UNKNOWN_RUN = "unknown_run"
RUN_CLOSED = "run_closed"
RUN_OPEN = "run_open"
TIME_AHEAD = "time_ahead"
SEQ_GAP = "seq_gap"
BAD_LINE = "bad_line"
SCORED_BY_SERVICE = "scored_by_service"
INTERNAL = "internal"


class ProtocolError(Exception):
    """A message that breaks the framing: the connection is closed after saying so."""


def encode(message: dict[str, Any]) -> bytes:
    """One message as a line of compact JSON."""
    return (json.dumps(message, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def read_message(stream: BinaryIO) -> dict[str, Any] | None:
    """The next message from ``stream``; None at the end of the stream.

    ProtocolError for a line that is too long, not JSON or not an object.
    """
    raw = stream.readline(MAX_MESSAGE_BYTES + 1)
    if not raw:
        return None
    if len(raw) > MAX_MESSAGE_BYTES or not raw.endswith(b"\n"):
        if not raw.endswith(b"\n") and len(raw) <= MAX_MESSAGE_BYTES:
            return None  # the peer went away mid-line
        raise ProtocolError(f"a message is at most {MAX_MESSAGE_BYTES} bytes")
    try:
        message = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message is a JSON object")
    return message


def ok(request_id: Any, **fields: Any) -> dict[str, Any]:
    """A successful response."""
    return {"id": request_id, "ok": True, **fields}


def error(request_id: Any, code: str, message: str, **fields: Any) -> dict[str, Any]:
    """A refusal or failure."""
    return {"id": request_id, "ok": False, "error": {"code": code, "message": message}, **fields}


def version_message(theirs: object) -> str:
    """What an app and a service of different protocol versions say."""
    return (
        f"The app speaks service protocol {theirs}, this computer's Timeback Companion "
        f"service speaks {PROTOCOL_VERSION}. Install the same version of both "
        "(ask the computer's administrator)."
    )
