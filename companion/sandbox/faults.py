"""Fault injection: per-endpoint latency, 500s, 429 bursts, dropped connections, slow answers.

Faults are keyed by endpoint name ("token", "caliper.event", "caliper.validate",
"caliper.events", "caliper.event_by_id", "jobs", "oneroster", "gradebook.results",
"gradebook.line_items", or "*" for all). A seeded random
generator decides probabilistic faults, so a test run is repeatable.

A dropped connection is closed with no response at all: the ASGI scope carries the connection's
transport (see :class:`TransportProtocol`), the middleware aborts it and waits for uvicorn to
notice the disconnect, so uvicorn sends nothing (not even its usual 500).
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

TRANSPORT_KEY = "companion.sandbox.transport"


@dataclass
class Fault:
    """What to do to requests of one endpoint."""

    latency_s: float = 0.0
    error_rate: float = 0.0  # share of requests answered 500
    burst_429: int = 0  # the next N requests get 429
    retry_after_s: int = 1
    drop_before: int = 0  # the next N requests: close the connection before reading
    commit_then_drop: int = 0  # the next N requests: process, then close without answering
    slow_s: float = 0.0  # answer only after this long (past a client's timeout)
    processing_delay_s: float = 0.0  # extra ingestion delay for envelopes sent here

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """A fault from a JSON object; unknown keys raise ValueError."""
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        return cls(**data)


@dataclass(frozen=True)
class Decision:
    """The faults that apply to one request."""

    delay_s: float = 0.0
    status: int | None = None  # 500 or 429 instead of the real answer
    retry_after_s: int = 0
    drop_before: bool = False
    commit_then_drop: bool = False
    processing_delay_s: float = 0.0


class FaultPlan:
    """The current faults per endpoint, changed by flags or by POST /_admin/faults."""

    def __init__(self, faults: dict[str, Fault] | None = None, seed: int = 0) -> None:
        self._faults: dict[str, Fault] = dict(faults or {})
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def set(self, endpoint: str, fault: Fault) -> None:
        """Replace the faults of one endpoint."""
        with self._lock:
            self._faults[endpoint] = fault

    def clear(self, seed: int | None = None) -> None:
        """Remove every fault (and reseed the generator if a seed is given)."""
        with self._lock:
            self._faults.clear()
            if seed is not None:
                self._random.seed(seed)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """The current faults as JSON."""
        with self._lock:
            return {name: asdict(fault) for name, fault in self._faults.items()}

    def decide(self, endpoint: str) -> Decision:
        """Consume this request's share of the faults for an endpoint."""
        with self._lock:
            fault = self._faults.get(endpoint) or self._faults.get("*")
            if fault is None:
                return Decision()
            if fault.drop_before > 0:
                fault.drop_before -= 1
                return Decision(delay_s=fault.latency_s, drop_before=True)
            delay = fault.latency_s + fault.slow_s
            if fault.burst_429 > 0:
                fault.burst_429 -= 1
                return Decision(delay_s=delay, status=429, retry_after_s=fault.retry_after_s)
            if fault.error_rate > 0 and self._random.random() < fault.error_rate:
                return Decision(delay_s=delay, status=500)
            commit_then_drop = fault.commit_then_drop > 0
            if commit_then_drop:
                fault.commit_then_drop -= 1
            return Decision(delay_s=delay, commit_then_drop=commit_then_drop,
                            processing_delay_s=fault.processing_delay_s)


def parse_fault_spec(text: str) -> tuple[str, Fault]:
    """Parse a command-line fault: ``endpoint:key=value,key=value``."""
    endpoint, _, settings = text.partition(":")
    data: dict[str, Any] = {}
    for pair in filter(None, settings.split(",")):
        key, _, raw = pair.partition("=")
        data[key.strip()] = float(raw) if "." in raw else int(raw)
    return endpoint.strip() or "*", Fault.from_json(data)


class TransportProtocol(H11Protocol):
    """uvicorn's h11 protocol that also puts its transport into each request's ASGI scope."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inner = self.app

        async def app_with_transport(scope: Any, receive: Any, send: Any) -> None:
            scope[TRANSPORT_KEY] = self.transport
            await inner(scope, receive, send)

        self.app = app_with_transport


async def drop_connection(scope: MutableMapping[str, Any], receive: Any) -> None:
    """Abort the request's connection and wait until uvicorn has seen it go."""
    transport: asyncio.Transport | None = scope.get(TRANSPORT_KEY)
    if transport is None:
        raise RuntimeError("no transport in scope: run the sandbox with TransportProtocol")
    transport.abort()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
