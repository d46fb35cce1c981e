"""The worker's knobs and the part of the Caliper client it uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from companion.timeback import EventPage, JobStatus, SendResult, ValidationResult


class CaliperApi(Protocol):
    """What delivery needs from ``companion.timeback.CaliperClient`` (tests pass fakes)."""

    def send(self, events: Sequence[Mapping[str, Any]]) -> SendResult: ...

    def validate(self, events: Sequence[Mapping[str, Any]]) -> ValidationResult: ...

    def get_event(self, event_id: str) -> dict[str, Any] | None: ...

    def job_status(self, job_id: str) -> JobStatus: ...

    def list_events(
        self,
        *,
        actor_id: str | None = None,
        actor_email: str | None = None,
        sensor: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> EventPage: ...


@dataclass(frozen=True)
class SyncSettings:
    """Batch sizes, backoff, settling and trigger timings (seconds)."""

    max_events: int = 100
    max_bytes: int = 500_000
    backoff_base_s: float = 2.0
    backoff_cap_s: float = 300.0
    # How long after an uncertain send "not found" still may mean "not processed yet".
    settle_s: float = 600.0
    check_min_s: float = 5.0  # first read-back check after an uncertain send
    check_max_s: float = 60.0  # read-back checks back off up to this interval
    start_delay_max_s: float = 30.0  # random delay at start, so a room does not stampede
    periodic_s: float = 60.0  # look again this often while anything is pending
    quit_grace_s: float = 2.0  # at quit, keep sending for at most this long
    lease_ttl_s: float = 30.0
    lease_retry_s: float = 5.0  # how often to try for a lease another process holds
    hold_recheck_s: float = 300.0  # a held batch is read back again this often anyway
