"""Everything one running sandbox knows: roster, tokens, events, jobs, faults, counters."""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from companion.sandbox.auth import TokenIssuer
from companion.sandbox.faults import FaultPlan
from companion.sandbox.gradebook import GradebookStore
from companion.sandbox.ingestion import EventStore, Ingestion
from companion.sandbox.oneroster import RosterIndex
from companion.sandbox.seed import Roster


@dataclass
class IdpSession:
    """A browser's session at the sandbox's identity provider: who logged in, and when
    (epoch seconds, the ID token's ``auth_time``)."""

    user_id: str
    auth_time: float


class SandboxState:
    """The sandbox's shared state; tests read it through :class:`SandboxHandle.state`."""

    def __init__(
        self,
        roster: Roster,
        data_dir: Path | None = None,
        processing_delay_s: float = 0.0,
        faults: FaultPlan | None = None,
        token_ttl_s: float = 3600,
        admin_token: str | None = None,
    ) -> None:
        # The /_admin routes answer only a caller that shows this (made at start, printed by
        # `companion sandbox`): another local user cannot reset or fault the sandbox.
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        if data_dir is not None:
            data_dir.mkdir(parents=True, exist_ok=True)
        self.roster = RosterIndex(roster)
        self.tokens = TokenIssuer(ttl_s=token_ttl_s)
        self.store = EventStore(data_dir / "sandbox.sqlite3" if data_dir else None)
        self.ingestion = Ingestion(self.store, processing_delay_s)
        self.faults = faults or FaultPlan()
        self.gradebook = GradebookStore()
        self.shutdown = threading.Event()
        # the identity provider's browser sessions, by session cookie
        self.idp_sessions: dict[str, IdpSession] = {}
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def count_request(self, key: str) -> None:
        """Count one request (key: "METHOD /path", parameters written as {name})."""
        with self._lock:
            self._counts[key] += 1

    @property
    def request_counts(self) -> dict[str, int]:
        """Requests received so far per endpoint, e.g. counts["POST /caliper/event"]."""
        with self._lock:
            return dict(self._counts)

    @property
    def stored_events(self) -> dict[str, dict[str, Any]]:
        """Stored events by id (the first copy of each)."""
        return self.store.stored_events()

    @property
    def duplicate_count(self) -> int:
        """Stored copies of ids that were already stored."""
        return self.store.duplicate_count()

    def process_now(self) -> None:
        """Process every queued ingestion job now."""
        self.ingestion.process_now()

    def reset(self) -> None:
        """Forget events, jobs, gradebook records, faults and counters (the roster stays)."""
        self.ingestion.clear()
        self.store.clear()
        self.gradebook.clear()
        self.faults.clear()
        with self._lock:
            self._counts.clear()

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON for GET /_admin/state."""
        return {
            "storedEventIds": list(self.stored_events),
            "duplicateCount": self.duplicate_count,
            "requestCounts": self.request_counts,
            "faults": self.faults.snapshot(),
            "processingDelaySeconds": self.ingestion.processing_delay_s,
        }

    def close(self) -> None:
        """Stop the worker and close the database."""
        self.shutdown.set()
        self.ingestion.stop()
        self.store.close()
