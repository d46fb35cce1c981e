"""Roster refresh: keep the cached OneRoster roster of one school up to date.

A full pull (at set-up, when there is no watermark, and once a day) fetches the school's
org, classes, enrollments, enrolled users and courses and replaces the cache; rows missing
from it become ``tobedeleted``. In between, a delta pull asks only for records with
``dateLastModified >= watermark`` (the newest ``dateLastModified`` seen so far, on the
server's own clock) and upserts them. ``>=`` rather than ``>`` so that a record written in
the same millisecond as the watermark is not missed; records seen again are unchanged and
are not counted.

Everything is fetched into memory first and applied in one transaction, so a failed or
malformed pull leaves the previous cache whole. If the server refuses the delta filter
(400), the refresh falls back to a full pull and later refreshes stay full.

The outcome (last success, last error, watermark) is kept in the ``store_meta`` table
under ``roster.*`` keys; ``roster_status(db)`` reads it for ``companion doctor`` and the UI.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from companion.core.clock import Clock
from companion.store import roster
from companion.store.db import Database
from companion.store.meta import get_many, put_many
from companion.timeback import (
    OneRosterClient,
    Query,
    RejectedError,
    TimebackError,
    User,
    ge,
)

log = logging.getLogger("companion.sync.roster")

DEFAULT_INTERVAL_S = 15 * 60.0
DEFAULT_FULL_INTERVAL_S = 24 * 3600.0
DEFAULT_RETRY_S = 60.0

KEY_SCHOOL = "roster.school_id"
KEY_WATERMARK = "roster.watermark"
KEY_LAST_SUCCESS = "roster.last_success_at"
KEY_LAST_FULL = "roster.last_full_at"
KEY_LAST_ATTEMPT = "roster.last_attempt_at"
KEY_LAST_ERROR = "roster.last_error"
KEY_LAST_ERROR_AT = "roster.last_error_at"
KEY_DELTA_UNSUPPORTED = "roster.delta_unsupported"
ROSTER_KEYS = (
    KEY_SCHOOL, KEY_WATERMARK, KEY_LAST_SUCCESS, KEY_LAST_FULL, KEY_LAST_ATTEMPT,
    KEY_LAST_ERROR, KEY_LAST_ERROR_AT, KEY_DELTA_UNSUPPORTED,
)

Record = Mapping[str, Any]
ClientFactory = Callable[[], OneRosterClient]
Waiter = Callable[[threading.Event, float], bool]
"""Wait up to ``seconds`` for the event; True if it was set (stop), False on timeout."""

# The roster kinds in the order ``companion.store.roster`` applies them.
KINDS: tuple[str, ...] = tuple(kind for kind, _ in roster.KIND_FIELDS)


class RosterRefreshError(Exception):
    """A pull failed; the cache was left as it was. ``__cause__`` holds the reason."""


@dataclass(frozen=True)
class RefreshResult:
    """What one successful refresh changed in the cache."""

    full: bool
    added: int
    changed: int
    removed: int
    fetched: int  # records received (unchanged ones included)
    watermark: str | None
    finished_at: datetime


@dataclass(frozen=True)
class RosterStatus:
    """The refresh history as recorded in the database (None: never)."""

    school_id: str | None = None
    last_success_at: datetime | None = None
    last_full_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    watermark: str | None = None
    delta_supported: bool = True

    @property
    def failing(self) -> bool:
        """True if the latest attempt failed (an error newer than the last success)."""
        if self.last_error_at is None:
            return False
        return self.last_success_at is None or self.last_error_at >= self.last_success_at

    def age(self, now: datetime) -> timedelta | None:
        """How long ago the last successful refresh finished, or None if never."""
        return None if self.last_success_at is None else now - self.last_success_at


@dataclass
class _Pull:
    """Records received in one pull, per kind (OneRoster JSON dicts)."""

    batches: dict[str, list[Record]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def add(self, kind: str, records: Iterable[Record]) -> None:
        self.batches[kind].extend(records)

    @property
    def total(self) -> int:
        return sum(len(records) for records in self.batches.values())


# --- status in store_meta --------------------------------------------------------------------


def _read_meta(db: Database) -> dict[str, str]:
    return get_many(db, ROSTER_KEYS)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def roster_status(db: Database) -> RosterStatus:
    """The recorded refresh status (all None on a database never refreshed)."""
    meta = _read_meta(db)
    return RosterStatus(
        school_id=meta.get(KEY_SCHOOL),
        last_success_at=_time(meta.get(KEY_LAST_SUCCESS)),
        last_full_at=_time(meta.get(KEY_LAST_FULL)),
        last_attempt_at=_time(meta.get(KEY_LAST_ATTEMPT)),
        last_error=meta.get(KEY_LAST_ERROR),
        last_error_at=_time(meta.get(KEY_LAST_ERROR_AT)),
        watermark=meta.get(KEY_WATERMARK),
        delta_supported=meta.get(KEY_DELTA_UNSUPPORTED) != "true",
    )


# --- comparing a pull with the cache ---------------------------------------------------------


def _snapshot(db: Database) -> dict[str, dict[str, tuple[str, str]]]:
    """Per kind, sourcedId -> (status, raw_json) of every cached row."""
    return roster.snapshot(db)


def _diff(
    before: Mapping[str, Mapping[str, tuple[str, str]]], pull: _Pull, full: bool
) -> tuple[int, int, int]:
    """(added, changed, removed) that applying ``pull`` to ``before`` makes."""
    added = changed = removed = 0
    for kind, to_fields in roster.KIND_FIELDS:
        cached = before.get(kind, {})
        seen: set[str] = set()
        for record in pull.batches[kind]:
            fields = to_fields(record)
            sid = fields["sourced_id"]
            seen.add(sid)
            old = cached.get(sid)
            was_live = old is not None and old[0] != roster.TO_BE_DELETED
            is_live = fields["status"] != roster.TO_BE_DELETED
            if is_live and not was_live:
                added += 1
            elif was_live and not is_live:
                removed += 1
            elif was_live and old is not None and old[1] != fields["raw_json"]:
                changed += 1
        if full:
            removed += sum(
                1 for sid, (status, _) in cached.items()
                if sid not in seen and status != roster.TO_BE_DELETED
            )
    return added, changed, removed


def _parse_modified(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def newest_modified(records: Iterable[Record], current: str | None = None) -> str | None:
    """The newest ``dateLastModified`` among the records and ``current`` (as the server wrote
    it, so that it goes back to the server unchanged)."""
    best = current
    best_time = _parse_modified(current)
    for record in records:
        value = record.get("dateLastModified")
        when = _parse_modified(value)
        if when is None:
            continue
        if best_time is None or when > best_time:
            best, best_time = value, when
    return best


# --- pulling ---------------------------------------------------------------------------------


def _raws(records: Iterable[Any]) -> list[Record]:
    return [record.raw for record in records]


def pull_full(client: OneRosterClient, school_id: str) -> _Pull:
    """The whole school roster."""
    data = client.pull_school_roster(school_id)
    pull = _Pull()
    pull.add("orgs", [data.org.raw])
    pull.add("courses", _raws(data.courses))
    pull.add("classes", _raws(data.classes))
    pull.add("users", _raws(data.users))
    pull.add("enrollments", _raws(data.enrollments))
    return pull


def pull_delta(
    client: OneRosterClient,
    school_id: str,
    since: str,
    cached: Mapping[str, Mapping[str, tuple[str, str]]],
) -> _Pull:
    """The school's records modified at or after ``since``, plus what they newly need.

    Enrollments are kept for the school's classes; users when already cached or newly
    enrolled (enrolled users outside the school's lists are fetched by id, as are courses
    of new classes).
    """
    query = Query(filter=ge("dateLastModified", since))
    org = client.get_school(school_id)
    classes = client.classes_for_school(school_id, query)
    class_ids = set(cached.get("classes", {})) | {c.sourced_id for c in classes}
    enrollments = [
        e for e in client.enrollments_for_school(school_id, query)
        if e.class_sourced_id in class_ids
    ]
    known_users = set(cached.get("users", {}))
    wanted = known_users | {e.user_sourced_id for e in enrollments if e.user_sourced_id}
    users: dict[str, User] = {}
    for role in ("students", "teachers"):
        path = f"schools/{quote(school_id, safe='')}/{role}"
        for user in client.iter_records(path, ("users", role), User.from_raw, query):
            if user.sourced_id in wanted:
                users[user.sourced_id] = user
    new_ids = sorted(
        {e.user_sourced_id for e in enrollments if e.user_sourced_id}
        - known_users - users.keys()
    )
    if new_ids:
        users.update((u.sourced_id, u) for u in client.users_by_ids(new_ids))
    known_courses = set(cached.get("courses", {}))
    new_courses = sorted(
        {c.course_sourced_id for c in classes if c.course_sourced_id} - known_courses
    )
    courses = client.courses_by_ids(new_courses) if new_courses else []
    pull = _Pull()
    pull.add("orgs", [org.raw])
    pull.add("courses", _raws(courses))
    pull.add("classes", _raws(classes))
    pull.add("users", [users[k].raw for k in sorted(users)])
    pull.add("enrollments", _raws(enrollments))
    return pull


def _apply(db: Database, pull: _Pull, full: bool) -> None:
    batches = pull.batches
    if full:
        roster.replace_roster(
            db, batches["orgs"], batches["users"], batches["classes"],
            batches["enrollments"], batches["courses"],
        )
    else:
        roster.apply_changes(
            db, orgs=batches["orgs"], users=batches["users"], classes=batches["classes"],
            enrollments=batches["enrollments"], courses=batches["courses"],
        )


# --- the refresher ---------------------------------------------------------------------------


def _wait_on_event(stop: threading.Event, seconds: float) -> bool:
    return stop.wait(seconds)


class RosterRefresher:
    """Refreshes one school's cached roster, now or periodically.

    ``client_factory`` makes a OneRoster client for one refresh (it is closed afterwards);
    ``clock`` dates the status; ``waiter`` waits between periodic refreshes (default:
    ``stop.wait``), so tests run the loop without sleeping.
    """

    def __init__(
        self,
        db: Database,
        client_factory: ClientFactory,
        school_id: str,
        clock: Clock,
        interval_s: float = DEFAULT_INTERVAL_S,
        *,
        full_interval_s: float = DEFAULT_FULL_INTERVAL_S,
        retry_s: float = DEFAULT_RETRY_S,
        waiter: Waiter = _wait_on_event,
        after_refresh: Callable[[RefreshResult], None] | None = None,
    ) -> None:
        """Nothing is fetched until ``refresh_now`` or ``run``. ``after_refresh`` is called
        after each successful refresh (e.g. to build the events of runs that waited for a
        student's email, now that the roster may have it)."""
        if not school_id:
            raise ValueError("school_id must not be empty")
        if interval_s <= 0 or full_interval_s <= 0 or retry_s <= 0:
            raise ValueError("intervals must be positive")
        self.db = db
        self.client_factory = client_factory
        self.school_id = school_id
        self.clock = clock
        self.interval_s = interval_s
        self.full_interval_s = full_interval_s
        self.retry_s = min(retry_s, interval_s)
        self.waiter = waiter
        self.after_refresh = after_refresh
        self._lock = threading.Lock()

    def status(self) -> RosterStatus:
        """The recorded status (see ``roster_status``)."""
        return roster_status(self.db)

    def full_due(self, status: RosterStatus | None = None) -> bool:
        """Whether the next refresh must be a full pull."""
        status = status or self.status()
        if (
            status.school_id != self.school_id
            or status.watermark is None
            or status.last_full_at is None
            or not status.delta_supported
        ):
            return True
        elapsed = self.clock.utc_now() - status.last_full_at
        return elapsed.total_seconds() >= self.full_interval_s

    def refresh_now(self, full: bool = False) -> RefreshResult:
        """Pull and apply the roster (full if asked or due, else a delta).

        Raises ``RosterRefreshError`` (from the ``TimebackError`` or ``ValueError``) if the
        pull fails or is malformed; the cache is then unchanged and the error is recorded.
        """
        with self._lock:
            status = self.status()
            full = full or self.full_due(status)
            started = self.clock.utc_now()
            try:
                result = self._refresh(full, status)
            except (TimebackError, ValueError) as exc:
                self._record_failure(started, exc)
                kind = "full" if full else "delta"
                raise RosterRefreshError(f"{kind} roster pull failed: {exc}") from exc
            except Exception as exc:
                self._record_failure(started, exc)
                raise
        if self.after_refresh is not None:
            try:
                self.after_refresh(result)
            except Exception:
                log.exception("the work after a roster refresh failed")
        return result

    def _refresh(self, full: bool, status: RosterStatus) -> RefreshResult:
        before = _snapshot(self.db)
        delta_unsupported = not status.delta_supported
        client = self.client_factory()
        try:
            if full:
                pull = pull_full(client, self.school_id)
            else:
                assert status.watermark is not None
                try:
                    pull = pull_delta(client, self.school_id, status.watermark, before)
                except RejectedError as exc:
                    log.warning("delta roster pull refused (%s); pulling in full", exc)
                    delta_unsupported, full = True, True
                    pull = pull_full(client, self.school_id)
        finally:
            client.close()
        added, changed, removed = _diff(before, pull, full)
        _apply(self.db, pull, full)
        records = [r for batch in pull.batches.values() for r in batch]
        watermark = newest_modified(records, None if full else status.watermark)
        finished = self.clock.utc_now()
        stamp = finished.isoformat()
        values: dict[str, str | None] = {
            KEY_SCHOOL: self.school_id,
            KEY_WATERMARK: watermark,
            KEY_LAST_SUCCESS: stamp,
            KEY_LAST_ATTEMPT: stamp,
            KEY_DELTA_UNSUPPORTED: "true" if delta_unsupported else None,
        }
        if full:
            values[KEY_LAST_FULL] = stamp
        put_many(self.db, values)
        result = RefreshResult(full, added, changed, removed, pull.total, watermark, finished)
        log.info(
            "roster %s pull of %s: %d added, %d changed, %d removed (%d records)",
            "full" if full else "delta", self.school_id, added, changed, removed, pull.total,
        )
        return result

    def _record_failure(self, started: datetime, exc: BaseException) -> None:
        log.warning("roster refresh of %s failed: %s", self.school_id, exc)
        stamp = started.isoformat()
        message = f"{type(exc).__name__}: {exc}"
        values = {KEY_LAST_ATTEMPT: stamp, KEY_LAST_ERROR: message, KEY_LAST_ERROR_AT: stamp}
        try:
            put_many(self.db, values)
        except Exception:
            log.exception("could not record the roster refresh failure")

    def run(self, stop: threading.Event) -> None:
        """Refresh now and then every ``interval_s`` (``retry_s`` after a failure) until
        ``stop`` is set. Meant for a background thread; never raises for a failed pull."""
        while not stop.is_set():
            try:
                self.refresh_now()
                wait_s = self.interval_s
            except RosterRefreshError:
                wait_s = self.retry_s
            except Exception:
                log.exception("unexpected error in the roster refresh")
                wait_s = self.retry_s
            if self.waiter(stop, wait_s):
                return

    def start_thread(self, stop: threading.Event) -> threading.Thread:
        """Start ``run(stop)`` in a daemon thread; set ``stop`` and join it to end it."""
        thread = threading.Thread(
            target=self.run, args=(stop,), name="roster-refresh", daemon=True
        )
        thread.start()
        return thread
