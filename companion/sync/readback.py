"""Reading back what the server stored, and checking the reader before believing it.

Timeback does not deduplicate, so an uncertain send is resent only when read-back proves the
events missing. A read-back proves "missing" only if the same way of reading finds an event
known to be stored (a *witness*: one delivered earlier, or one of the same rows): a server
that answers "not found" for everything proves nothing.

Ways of reading, in order:

* the documented filtered list ``GET /caliper/events`` (by actor and a time window around
  the events' ``eventTime``), read page by page until the window is exhausted;
* read-back by id ``GET /caliper/events/{id}``, where the server offers it (extra evidence);
* the job status of a send whose answer carried a job id, read only in the shapes
  Timeback's SDK reads (``waiting``, ``active``, ``completed``, ``failed``): a stored or
  rejected event in a finished job is evidence, anything else is none.

A way of reading that is missing (404 for the list or the job, an answer of another shape)
gives no evidence; a network failure is raised, so that the caller tries again later.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from companion.store.tables import OutboxItem
from companion.sync.settings import CaliperApi
from companion.timeback import MalformedResponseError, NotFoundError, TimebackError

log = logging.getLogger("companion.sync")

PAGE_SIZE = 100
MAX_PAGES = 30  # per actor and window; a longer list is not read to its end (no evidence)
WINDOW_MARGIN = timedelta(seconds=1)


@dataclass
class Evidence:
    """What one read-back found about the rows asked for (and the witnesses)."""

    found: set[str] = field(default_factory=set)  # event ids seen stored
    refused: dict[str, str] = field(default_factory=dict)  # event id -> the job's message
    # event ids a trusted way of reading looked for and did not find
    missing: set[str] = field(default_factory=set)
    trusted: bool = False  # some way of reading found a witness or one of the rows
    notes: list[str] = field(default_factory=list)  # why a way of reading gave no evidence


@dataclass(frozen=True)
class _Target:
    event_id: str
    actor_id: str | None
    event_time: datetime | None


def _target(row: OutboxItem) -> _Target:
    try:
        event = json.loads(row.payload)
    except json.JSONDecodeError:
        event = {}
    actor = event.get("actor") if isinstance(event, dict) else None
    actor_id = actor if isinstance(actor, str) else (
        actor.get("id") if isinstance(actor, dict) else None)
    moment = event.get("eventTime") if isinstance(event, dict) else None
    when: datetime | None = None
    if isinstance(moment, str):
        try:
            when = datetime.fromisoformat(moment)
        except ValueError:
            when = None
    return _Target(row.event_id, actor_id if isinstance(actor_id, str) else None,
                   when if when is not None and when.tzinfo is not None else None)


class ReadBack:
    """Finds out which of some outbox rows the server has stored."""

    def __init__(self, api: CaliperApi) -> None:
        self.api = api
        self._wanted: set[str] = set()  # the ids of the rows asked for in this check

    def check(self, rows: Sequence[OutboxItem], witnesses: Sequence[OutboxItem],
              thorough: bool = True) -> Evidence:
        """Read back ``rows``, vouching each way of reading with ``witnesses`` (delivered
        rows) or with the rows it finds. Network failures of the list are raised
        (TimebackError). Read-back by id (a request per event) is asked only when the list
        gave no trusted answer and ``thorough`` (a decision is due)."""
        evidence = Evidence()
        wanted = {row.event_id for row in rows}
        self._wanted = wanted
        self._by_job(rows, evidence)
        targets = [_target(row) for row in rows if row.event_id not in evidence.found
                   and row.event_id not in evidence.refused]
        known = [_target(row) for row in witnesses if row.event_id not in wanted]
        for reader in (self._by_list, self._by_id):
            if not targets or (reader == self._by_id and (evidence.trusted or not thorough)):
                break
            asked = targets + ([] if evidence.trusted else known)
            seen = reader(asked, evidence)
            if seen is None:
                continue  # this way of reading is not offered: no evidence
            evidence.found |= seen & wanted
            vouched = bool(seen)  # it found a witness or one of the rows
            still = [t for t in targets if t.event_id not in evidence.found]
            if vouched:
                evidence.trusted = True
                evidence.missing |= {t.event_id for t in still}
            elif not evidence.trusted:
                way = "the event list" if reader == self._by_list else "read-back by id"
                evidence.notes.append(f"{way} found none of the events known to be stored")
            targets = still
        evidence.missing -= evidence.found
        return evidence

    def _by_job(self, rows: Sequence[OutboxItem], evidence: Evidence) -> None:
        jobs: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            if row.job_id:
                jobs[row.job_id].add(row.event_id)
        for job_id, ids in jobs.items():
            try:
                status = self.api.job_status(job_id)
            except (NotFoundError, MalformedResponseError) as exc:
                evidence.notes.append(f"job {job_id}: no evidence ({exc.message})")
                continue
            if not status.finished:
                continue
            for result in status.results:
                if result.event_id not in ids:
                    continue
                if result.status == "stored":
                    evidence.found.add(result.event_id)
                elif result.status == "rejected":
                    evidence.refused[result.event_id] = (
                        result.message or "rejected by the ingestion job")

    def _by_list(self, targets: Sequence[_Target], evidence: Evidence) -> set[str] | None:
        """Ids among ``targets`` the filtered list holds; None if the list is not offered.

        Targets without an actor or a time cannot be looked for this way; they count as
        not found only if the list is vouched for by another target.
        """
        groups: dict[str, list[_Target]] = defaultdict(list)
        for target in targets:
            if target.actor_id is not None and target.event_time is not None:
                groups[target.actor_id].append(target)
        seen: set[str] = set()
        for actor_id, group in groups.items():
            wanted = {t.event_id for t in group}
            times = [t.event_time for t in group if t.event_time is not None]
            try:
                found, complete = self._list_window(actor_id, min(times) - WINDOW_MARGIN,
                                                    max(times) + WINDOW_MARGIN, wanted)
            except (NotFoundError, MalformedResponseError) as exc:
                evidence.notes.append(f"the event list gives no evidence ({exc.message})")
                return None
            seen |= found
            if not complete:
                evidence.notes.append("the event list was too long to read to its end")
        return seen

    def _list_window(self, actor_id: str, start: datetime, end: datetime,
                     wanted: set[str]) -> tuple[set[str], bool]:
        """(ids of ``wanted`` found, whether the list was read to its end)."""
        found: set[str] = set()
        offset = 0
        for _ in range(MAX_PAGES):
            page = self.api.list_events(actor_id=actor_id, start=start, end=end,
                                        limit=PAGE_SIZE, offset=offset)
            found |= {e["id"] for e in page.events if isinstance(e.get("id"), str)} & wanted
            offset += len(page.events)
            if found == wanted or len(page.events) < PAGE_SIZE or (
                page.total_count is not None and offset >= page.total_count
            ):
                return found, True
        return found, False

    def _by_id(self, targets: Sequence[_Target], evidence: Evidence) -> set[str] | None:
        """A request per event, so it first asks for a few (the witnesses, the first and the
        last target): if none of them is found, the rest would prove nothing either."""
        probe = [t for t in targets if t.event_id not in self._wanted]
        probe += [t for t in (targets[0], targets[-1]) if t.event_id in self._wanted]
        seen = self._ids_found(list(dict.fromkeys(probe)), evidence)
        if not seen:
            return seen
        rest = [t for t in targets if t not in probe]
        more = self._ids_found(rest, evidence)
        return None if more is None else seen | more

    def _ids_found(self, targets: Iterable[_Target], evidence: Evidence) -> set[str] | None:
        seen: set[str] = set()
        for target in targets:
            try:
                event: dict[str, Any] | None = self.api.get_event(target.event_id)
            except TimebackError as exc:  # extra evidence only: its failure is no evidence
                evidence.notes.append(f"read-back by id gives no evidence ({exc.message})")
                return None
            if event is not None:
                seen.add(target.event_id)
        return seen
