"""Roster refresh against the real sandbox on loopback and a real SQLite file."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from companion.core.clock import FakeClock
from companion.sandbox.faults import Fault
from companion.sandbox.seed import DEMO_SCHOOL_ID
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.session import closing
from companion.store import roster
from companion.store.db import Database
from companion.sync.roster_refresh import (
    RosterRefresher,
    RosterRefreshError,
    newest_modified,
    roster_status,
)
from companion.timeback import OneRosterClient, auth_for, oneroster_client, sandbox_environment

LATER = "2025-09-01T08:00:00.000Z"
DEMO_RECORDS = 1 + 1 + 2 + 15 + 16  # org, course, classes, users, enrollments


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "roster.sqlite3", "sandbox") as database:
        yield database


class Recorder(httpx.BaseTransport):
    """Sends to the real sandbox; records URLs; may intercept some requests first."""

    def __init__(
        self, intercept: Callable[[httpx.Request], httpx.Response | None] | None = None
    ) -> None:
        self.inner = httpx.HTTPTransport()
        self.intercept = intercept
        self.urls: list[httpx.URL] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(request.url)
        if self.intercept is not None:
            answer = self.intercept(request)
            if answer is not None:
                return answer
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def factory(handle: SandboxHandle, transport: Recorder) -> Callable[[], OneRosterClient]:
    env = sandbox_environment(handle.base_url)

    def make() -> OneRosterClient:
        return oneroster_client(env, auth_for(env), transport=transport)

    return make


def make_refresher(
    db: Database, handle: SandboxHandle, transport: Recorder, clock: FakeClock | None = None
) -> RosterRefresher:
    return RosterRefresher(
        db, factory(handle, transport), DEMO_SCHOOL_ID, clock or FakeClock(), interval_s=600
    )


def cache_dump(db: Database) -> dict[str, list[tuple[str, str, str]]]:
    """Every cached row per table as (sourcedId, status, raw_json)."""
    out = {}
    with db.read() as session:
        for table in ("roster_orgs", "roster_courses", "roster_classes", "roster_users",
                      "roster_enrollments"):
            rows = session.connection().exec_driver_sql(
                f"SELECT sourced_id, status, raw_json FROM {table} ORDER BY sourced_id"
            ).fetchall()
            out[table] = [tuple(row) for row in rows]
    return out


def server_user(handle: SandboxHandle, sourced_id: str) -> dict[str, object]:
    user = handle.state.roster.by_id["users"][sourced_id]
    assert isinstance(user, dict)
    return user


def test_full_pull_fills_the_cache_and_records_status(
    sandbox: SandboxHandle, db: Database
) -> None:
    transport = Recorder()
    clock = FakeClock()
    result = make_refresher(db, sandbox, transport, clock).refresh_now()

    assert (result.full, result.added, result.changed, result.removed) == (
        True, DEMO_RECORDS, 0, 0
    )
    assert result.watermark == "2025-08-01T12:00:00.000Z"
    students = roster.users_in_class(db, "demo-class-1", role="student")
    assert {u.sourced_id for u in students} == {f"demo-student-{n:02d}" for n in range(1, 14, 2)}
    assert {c.sourced_id for c in roster.classes(db, DEMO_SCHOOL_ID)} == {
        "demo-class-1", "demo-class-2"
    }
    # Ethan is enabledUser "false" in the seed: cached, but may not sign in.
    ethan = roster.get_user(db, "demo-student-13")
    assert ethan is not None and not roster.user_can_sign_in(ethan)
    ava = roster.get_user(db, "demo-student-01")
    assert ava is not None and roster.user_can_sign_in(ava)

    status = roster_status(db)
    assert status.school_id == DEMO_SCHOOL_ID
    assert status.last_success_at == clock.utc_now() == status.last_full_at
    assert status.last_error is None and not status.failing
    transport.close()


def test_second_pull_changes_nothing_and_is_a_delta(sandbox: SandboxHandle, db: Database) -> None:
    transport = Recorder()
    refresher = make_refresher(db, sandbox, transport)
    refresher.refresh_now()
    transport.urls.clear()

    again = refresher.refresh_now()

    assert (again.full, again.added, again.changed, again.removed) == (False, 0, 0, 0)
    filters = [u.params.get("filter") for u in transport.urls if "filter" in u.params]
    assert "dateLastModified>='2025-08-01T12:00:00.000Z'" in filters
    transport.close()


def test_delta_pull_applies_changes(sandbox: SandboxHandle, db: Database) -> None:
    transport = Recorder()
    clock = FakeClock()
    refresher = make_refresher(db, sandbox, transport, clock)
    refresher.refresh_now()
    before = cache_dump(db)

    # Change the server's roster in place (the sandbox has no admin endpoint for it).
    ava = server_user(sandbox, "demo-student-01")
    ava.update(givenName="Avery", dateLastModified=LATER)
    server_user(sandbox, "demo-student-02").update(status="tobedeleted", dateLastModified=LATER)
    server_user(sandbox, "demo-student-03").update(enabledUser="false", dateLastModified=LATER)
    index = sandbox.state.roster
    newcomer = copy.deepcopy(server_user(sandbox, "demo-student-04"))
    newcomer.update(sourcedId="demo-student-99", givenName="Nia", familyName="Zulu",
                    dateLastModified=LATER)
    newcomer.pop("email", None)
    enrollment = copy.deepcopy(index.by_id["enrollments"]["demo-class-1-demo-student-01"])
    enrollment.update(sourcedId="demo-class-1-demo-student-99", dateLastModified=LATER)
    enrollment["user"] = {**enrollment["user"], "sourcedId": "demo-student-99"}
    for store, record in (("users", newcomer), ("enrollments", enrollment)):
        index.roster[store].append(record)
        index.by_id[store][record["sourcedId"]] = record
    clock.advance(600_000)
    transport.urls.clear()

    result = refresher.refresh_now()

    assert (result.full, result.added, result.changed, result.removed) == (False, 2, 2, 1)
    assert result.watermark == LATER
    listed = [u for u in transport.urls
              if u.path.rsplit("/", 1)[-1] in ("classes", "enrollments", "students", "teachers")]
    assert len(listed) == 4
    assert {u.params.get("filter") for u in listed} == {
        "dateLastModified>='2025-08-01T12:00:00.000Z'"
    }
    renamed = roster.get_user(db, "demo-student-01")
    assert renamed is not None and renamed.given_name == "Avery"
    for gone in ("demo-student-02", "demo-student-03"):
        user = roster.get_user(db, gone)
        assert user is not None and not roster.user_can_sign_in(user), gone
    students = {u.sourced_id for u in roster.users_in_class(db, "demo-class-1")}
    assert "demo-student-99" in students
    class_2 = {u.sourced_id for u in roster.users_in_class(db, "demo-class-2")}
    assert "demo-student-02" not in class_2
    # Untouched rows stay byte for byte as they were.
    after = cache_dump(db)
    untouched = {"demo-student-05", "demo-student-06", "demo-guide-1"}
    assert [r for r in after["roster_users"] if r[0] in untouched] == [
        r for r in before["roster_users"] if r[0] in untouched
    ]
    assert roster_status(db).last_success_at == clock.utc_now()
    transport.close()


def test_full_pull_marks_records_gone_from_the_server(
    sandbox: SandboxHandle, db: Database
) -> None:
    transport = Recorder()
    refresher = make_refresher(db, sandbox, transport)
    refresher.refresh_now()
    index = sandbox.state.roster
    gone = index.by_id["enrollments"].pop("demo-class-2-demo-student-14")
    index.roster["enrollments"].remove(gone)

    result = refresher.refresh_now(full=True)

    # The enrollment and its user (no longer enrolled anywhere) are both marked deleted.
    assert (result.full, result.added, result.changed, result.removed) == (True, 0, 0, 2)
    olivia = roster.get_user(db, "demo-student-14")
    assert olivia is not None and not roster.user_can_sign_in(olivia)
    transport.close()


def test_server_error_mid_pull_keeps_the_previous_cache(
    sandbox: SandboxHandle, db: Database
) -> None:
    clock = FakeClock()
    refresher = make_refresher(db, sandbox, Recorder(), clock)
    refresher.refresh_now()
    server_user(sandbox, "demo-student-01").update(givenName="Changed")
    before = cache_dump(db)
    ok_status = roster_status(db)

    def fail_enrollments(request: httpx.Request) -> None:
        # From the enrollments request on, the sandbox answers 500 (its own fault injection).
        if request.url.path.endswith("/enrollments"):
            sandbox.state.faults.set("oneroster", Fault(error_rate=1.0))

    transport = Recorder(fail_enrollments)
    failing = RosterRefresher(db, factory(sandbox, transport), DEMO_SCHOOL_ID, clock)
    clock.advance(60_000)
    with pytest.raises(RosterRefreshError) as caught:
        failing.refresh_now(full=True)

    assert caught.value.__cause__ is not None
    assert any(u.path.endswith("/classes") for u in transport.urls)  # it was mid-pull
    assert cache_dump(db) == before
    status = roster_status(db)
    assert status.last_success_at == ok_status.last_success_at
    assert status.watermark == ok_status.watermark
    assert status.failing and status.last_error_at == clock.utc_now()
    assert status.last_error is not None and "ServerError" in status.last_error
    transport.close()


@pytest.mark.parametrize(
    "body",
    [
        b"<html>captive portal</html>",
        json.dumps({"enrollments": [{"status": "active", "role": "student"}]}).encode(),
        json.dumps({"enrollments": {"sourcedId": "e-1"}}).encode(),
        json.dumps({"enrollments": ["e-1"], "totalCount": 1}).encode(),
    ],
    ids=["not-json", "no-sourcedId", "not-a-list", "not-a-record"],
)
def test_malformed_answer_keeps_the_previous_cache(
    sandbox: SandboxHandle, db: Database, body: bytes
) -> None:
    refresher = make_refresher(db, sandbox, Recorder())
    refresher.refresh_now()
    before = cache_dump(db)

    def garble(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.endswith("/enrollments"):
            return httpx.Response(200, content=body, headers={"content-type": "application/json"})
        return None

    transport = Recorder(garble)
    broken = RosterRefresher(db, factory(sandbox, transport), DEMO_SCHOOL_ID, FakeClock())
    with pytest.raises(RosterRefreshError):
        broken.refresh_now(full=True)

    assert cache_dump(db) == before
    assert roster_status(db).failing
    transport.close()


def test_refused_delta_filter_falls_back_to_full(sandbox: SandboxHandle, db: Database) -> None:
    refresher = make_refresher(db, sandbox, Recorder())
    refresher.refresh_now()

    def refuse_filter(request: httpx.Request) -> httpx.Response | None:
        if "dateLastModified" in request.url.params.get("filter", ""):
            return httpx.Response(400, json={"imsx_codeMajor": "failure",
                                             "imsx_description": "filter not supported"})
        return None

    transport = Recorder(refuse_filter)
    limited = RosterRefresher(db, factory(sandbox, transport), DEMO_SCHOOL_ID, FakeClock())
    first = limited.refresh_now()
    transport.urls.clear()
    second = limited.refresh_now()

    assert first.full and second.full
    assert not roster_status(db).delta_supported
    assert not any("filter" in u.params for u in transport.urls if u.path.endswith("/classes"))
    transport.close()


def test_periodic_run_is_full_then_delta_then_full_when_a_day_passed(
    sandbox: SandboxHandle, db: Database
) -> None:
    clock = FakeClock()
    waits: list[float] = []
    results: list[bool] = []
    transport = Recorder()

    def waiter(stop: threading.Event, seconds: float) -> bool:
        waits.append(seconds)
        status = roster_status(db)
        results.append(status.last_full_at == clock.utc_now())
        if len(waits) == 1:
            sandbox.state.faults.set("oneroster", Fault(error_rate=1.0))
        elif len(waits) == 2:
            sandbox.state.faults.clear()
        elif len(waits) == 3:
            clock.advance(int(timedelta(hours=25).total_seconds() * 1000))
        else:
            stop.set()
        clock.advance(int(seconds * 1000))
        return stop.is_set()

    refresher = RosterRefresher(db, factory(sandbox, transport), DEMO_SCHOOL_ID, clock,
                                interval_s=900, retry_s=30, waiter=waiter)
    refresher.run(threading.Event())

    # full ok -> (failure) retry soon -> delta ok -> a day later: full again
    assert waits == [900, 30, 900, 900]
    assert results == [True, False, False, True]
    transport.close()


def test_run_in_a_thread_stops_on_the_event(sandbox: SandboxHandle, db: Database) -> None:
    transport = Recorder()
    refreshed = threading.Event()

    def waiter(stop: threading.Event, seconds: float) -> bool:
        refreshed.set()
        return stop.wait()

    refresher = RosterRefresher(db, factory(sandbox, transport), DEMO_SCHOOL_ID, FakeClock(),
                                waiter=waiter)
    stop = threading.Event()
    thread = refresher.start_thread(stop)
    assert refreshed.wait(30)
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    assert roster.get_user(db, "demo-student-01") is not None
    transport.close()


def test_newest_modified_compares_times_not_text() -> None:
    records = [{"dateLastModified": "2025-08-01T12:00:00Z"},
               {"dateLastModified": "2025-08-01T12:00:00.500Z"},
               {"dateLastModified": "garbage"}, {}]
    assert newest_modified(records) == "2025-08-01T12:00:00.500Z"
    assert newest_modified(records, "2026-01-01T00:00:00Z") == "2026-01-01T00:00:00Z"
    assert newest_modified([]) is None



def test_after_refresh_runs_after_each_success_only(db: Database, sandbox: SandboxHandle) -> None:
    seen: list[int] = []
    transport = Recorder()
    refresher = RosterRefresher(db, factory(sandbox, transport), DEMO_SCHOOL_ID, FakeClock(),
                                after_refresh=lambda result: seen.append(result.fetched))
    result = refresher.refresh_now(full=True)
    assert seen == [result.fetched] and result.fetched == DEMO_RECORDS
    sandbox.state.faults.set("oneroster", Fault(error_rate=1.0))
    with pytest.raises(RosterRefreshError):
        refresher.refresh_now(full=True)
    assert seen == [result.fetched]
    transport.close()


def test_a_refresh_that_brings_the_email_releases_the_waiting_runs(
    db: Database, sandbox: SandboxHandle
) -> None:
    from datetime import UTC, datetime

    from companion.core.journal import LessonSettings, Line
    from companion.store import outbox, runs
    from companion.store.run_tables import LessonRow
    from companion.sync.worker import waiting_groups

    transport = Recorder()
    ctx = runs.EventContext(oneroster_base=sandbox.base_url)
    built: list[str] = []
    refresher = RosterRefresher(
        db, factory(sandbox, transport), DEMO_SCHOOL_ID, FakeClock(),
        after_refresh=lambda _: built.extend(closing.build_pending_events(db, ctx)))
    refresher.refresh_now(full=True)
    noah = "demo-student-07"  # no email in the demo roster
    db.write(lambda s: s.add(LessonRow(id="lesson-1", title="Fractions", course_id="math",
                                       course_title="Math", subject="Math", grade="3",
                                       sort_order=0, settings_json=json.dumps(
                                           LessonSettings().to_json()))))
    run_id = runs.open_run(db, noah, "lesson-1", anchor=datetime(2026, 1, 5, 9, tzinfo=UTC))
    runs.append_many(db, run_id, [Line(t, "input") for t in range(30_000, 300_001, 30_000)])
    closed = closing.close_run(db, run_id, completed=True, at_ms=300_000, ctx=ctx)
    assert closed.pending_reason == runs.NO_EMAIL
    (group,) = waiting_groups(db)
    assert group.text() == "1 run held: no email in the roster for Noah Smith"
    assert built == []
    sandbox.state.roster.by_id["users"][noah]["email"] = "noah.smith@demo.school"
    refresher.refresh_now(full=True)
    assert built == [run_id]
    assert waiting_groups(db)[0].what == "event"  # its events wait to be sent now
    assert any(row.run_id == run_id for row in outbox.list_items(db))
    transport.close()
