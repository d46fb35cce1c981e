"""`companion doctor` against the real sandbox on loopback and a real database file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import keyring
import pytest
from keyring.backends import fail

from companion import cli
from companion.commands import doctor
from companion.core.clock import FakeClock, SystemClock
from companion.sandbox.seed import DEMO_SCHOOL_ID
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.session import closing
from companion.store import outbox, paths
from companion.store.db import Database
from companion.store.tables import StoreMeta
from companion.sync.roster_refresh import RosterRefresher
from companion.timeback import auth_for, oneroster_client, sandbox_environment

NAMES = [
    "configuration", "lesson pages (web engine)", "keyring and credentials", "proxy and TLS",
    "token host", "OneRoster host", "Caliper host", "token", "roster freshness", "outbox",
    "last successful sync", "database integrity",
]
NETWORK = ["proxy and TLS", "token host", "OneRoster host", "Caliper host", "token"]


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


@pytest.fixture(autouse=True)
def _no_proxy_no_url(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("COMPANION_SANDBOX_URL", "COMPANION_SANDBOX_BASE_URL", "HTTP_PROXY",
                 "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def pull_roster(base_url: str) -> None:
    """Set the computer up: pull the demo school into the (fresh) sandbox database."""
    env = sandbox_environment(base_url)
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        RosterRefresher(db, lambda: oneroster_client(env, auth_for(env)), DEMO_SCHOOL_ID,
                        SystemClock()).refresh_now()


def report(capsys: pytest.CaptureFixture[str]) -> dict[str, tuple[str, str, str | None]]:
    """The printed report as name -> (PASS/FAIL, detail, hint)."""
    lines = capsys.readouterr().out.splitlines()
    out: dict[str, tuple[str, str, str | None]] = {}
    last = ""
    for line in lines[:-1]:
        if line.lstrip().startswith("hint: "):
            verdict, detail, _ = out[last]
            out[last] = (verdict, detail, line.split("hint: ", 1)[1])
            continue
        verdict, rest = line[:4], line[6:]
        name = next(n for n in sorted(NAMES, key=len, reverse=True) if rest.startswith(n))
        out[name] = (verdict, rest[len(name):].strip(), None)
        last = name
    assert list(out) == NAMES
    return out


def test_all_checks_pass_against_a_running_sandbox(
    sandbox: SandboxHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    pull_roster(sandbox.base_url)

    status = cli.main(["doctor", "--url", sandbox.base_url])

    lines = report(capsys)
    assert {name: verdict for name, (verdict, _, _) in lines.items()} == dict.fromkeys(
        NAMES, "PASS"
    )
    assert status == 0
    assert "users" in lines["roster freshness"][1] and "school demo-school-1" in (
        lines["roster freshness"][1]
    )
    assert lines["last successful sync"][1] == "never (nothing to send yet)"
    assert lines["outbox"][1].startswith("0 pending, 0 in flight, 0 settling, 0 held, 0 refused")
    assert "quick_check ok" in lines["database integrity"][1]
    assert sandbox.state.request_counts.get("POST /oauth2/token", 0) >= 2  # refresh + doctor


def test_sandbox_url_from_the_environment_variable(
    sandbox: SandboxHandle, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMPANION_SANDBOX_URL", sandbox.base_url)
    pull_roster(sandbox.base_url)

    assert cli.main(["doctor"]) == 0
    assert all(verdict == "PASS" for verdict, _, _ in report(capsys).values())


def test_stopped_sandbox_fails_the_network_lines_with_hints(
    capsys: pytest.CaptureFixture[str]
) -> None:
    handle = start_in_thread()
    url = handle.base_url
    pull_roster(url)
    handle.stop()

    assert cli.main(["doctor", "--url", url]) == 1

    lines = report(capsys)
    failed = [name for name, (verdict, _, _) in lines.items() if verdict == "FAIL"]
    assert failed == NETWORK
    for name in NETWORK:
        hint = lines[name][2]
        assert hint is not None and "companion sandbox" in hint, name
    assert "cannot reach the server" in lines["OneRoster host"][1]


def test_with_the_app_closed_the_network_lines_are_information(
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["doctor"]) == 1

    lines = report(capsys)
    for name in NETWORK:
        verdict, detail, _ = lines[name]
        assert verdict == "INFO", name
        assert detail == "not checked: the app (and its sandbox) is not running", name
    hints = [lines[name][2] for name in NETWORK]
    assert hints[0] is not None and hints[0].startswith(
        "the demo's sandbox runs inside the app and only while it is open"
    )
    assert hints[1:] == [None] * (len(NETWORK) - 1)  # said once
    # A fresh database: never pulled a roster, so that line fails too; the rest pass.
    assert lines["roster freshness"][:2] == ("FAIL", "never pulled")
    assert lines["configuration"][0] == lines["outbox"][0] == "PASS"
    assert lines["database integrity"][0] == "PASS"


def test_right_after_set_up_with_the_app_closed_doctor_passes(
    capsys: pytest.CaptureFixture[str]
) -> None:
    with start_in_thread() as running:  # set-up pulls the roster while the app runs
        pull_roster(running.base_url)
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "all checks passed"
    assert out.count("INFO  ") == len(NETWORK)


def test_held_runs_and_results_fail_the_outbox_line_with_names(
    sandbox: SandboxHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    pull_roster(sandbox.base_url)
    now = datetime.now(UTC)
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        db.write(lambda s: outbox.add_item(s, "gradebook.result", "result-1", {"x": 1},
                                           now=now))
        (row,) = outbox.list_items(db)
        reason = "line item missing: run `companion content push` (line item li-1)"
        outbox.mark_held(db, [row.id or 0], reason, now, now=now)
    assert cli.main(["doctor", "--url", sandbox.base_url]) == 1
    verdict, detail, hint = report(capsys)["outbox"]
    assert verdict == "FAIL"
    assert "1 result(s) held: line item missing" in detail
    assert hint is not None and "companion content push" in hint


def test_dead_outbox_item_is_reported(
    sandbox: SandboxHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    pull_roster(sandbox.base_url)
    now = datetime.now(UTC)
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        db.write(lambda s: outbox.add_events(s, [{"id": "urn:uuid:dead-1"},
                                                 {"id": "urn:uuid:ok-2"}], now=now))
        first, second = outbox.claim_batch(db, now=now)
        assert first.id is not None and second.id is not None
        outbox.mark_dead(db, first.id, "422: bad event", now=now)
        outbox.mark_acked(db, [second.id], now=now)

    assert cli.main(["doctor", "--url", sandbox.base_url]) == 1

    lines = report(capsys)
    verdict, detail, hint = lines["outbox"]
    assert verdict == "FAIL"
    assert detail == ("0 pending, 0 in flight, 0 settling, 0 held, 1 refused, 1 delivered; "
                      "oldest waiting: none")
    assert hint is not None and "companion outbox list" in hint
    assert lines["last successful sync"][0] == "PASS"
    assert lines["last successful sync"][1] != "never"
    assert [n for n, (v, _, _) in lines.items() if v == "FAIL"] == ["outbox"]


def make_context(clock: FakeClock) -> doctor.DoctorContext:
    return doctor.DoctorContext.create("sandbox", clock, sandbox_url="http://127.0.0.1:9")


def test_old_pending_events_and_stale_sync_fail() -> None:
    clock = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    with make_context(clock) as ctx:
        assert ctx.db is not None
        ctx.db.write(lambda s: outbox.add_events(s, [{"id": "e-1"}], now=clock.utc_now()))
        fresh_outbox, fresh_sync = doctor.check_outbox(ctx), doctor.check_last_sync(ctx)
        clock.advance(int(timedelta(hours=30).total_seconds() * 1000))
        old_outbox, old_sync = doctor.check_outbox(ctx), doctor.check_last_sync(ctx)

    assert fresh_outbox.ok and "oldest waiting: 0 s" in fresh_outbox.detail
    assert not fresh_sync.ok and fresh_sync.detail == "never; 1 event(s) waiting"
    assert not old_outbox.ok and "oldest waiting: 30 h" in old_outbox.detail
    assert old_outbox.hint is not None and "companion sync" in old_outbox.hint
    assert not old_sync.ok


def test_last_sync_prefers_the_workers_record() -> None:
    clock = FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    recorded = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)
    with make_context(clock) as ctx:
        assert ctx.db is not None
        ctx.db.write(lambda s: s.add(StoreMeta(key=doctor.SYNC_SUCCESS_KEY,
                                               value=recorded.isoformat())))
        ctx.db.write(lambda s: outbox.add_events(s, [{"id": "e-1"}], now=clock.utc_now()))
        result = doctor.check_last_sync(ctx)
    assert result.ok
    assert result.detail == "2026-01-05 08:30:00Z (30 min ago)"


def test_stale_roster_fails(sandbox: SandboxHandle) -> None:
    pull_roster(sandbox.base_url)
    clock = FakeClock(datetime.now(UTC) + timedelta(days=3))
    with make_context(clock) as ctx:
        result = doctor.check_roster(ctx)
    assert not result.ok
    assert "last refreshed 3 days ago" in result.detail
    assert result.hint is not None


def test_credentials_line_without_a_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test machine has no OS keyring: staging credentials cannot be there.
    monkeypatch.setattr(keyring, "get_keyring", fail.Keyring)
    ctx = doctor.DoctorContext(env_name="staging", clock=FakeClock())
    result = doctor.check_credentials(ctx)
    assert not result.ok
    assert result.hint == (
        "install or unlock an OS keyring, then run `companion --env staging setup`"
    )


def test_corrupt_database_fails_integrity_and_the_database_lines(
    capsys: pytest.CaptureFixture[str]
) -> None:
    path = paths.database_path("sandbox")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database at all" * 100)

    assert cli.main(["doctor"]) == 1

    lines = report(capsys)
    assert lines["database integrity"][0] == "FAIL"
    assert "not a SQLite database" in lines["database integrity"][1]
    for name in ("roster freshness", "outbox", "last successful sync"):
        assert lines[name][0] == "FAIL" and lines[name][1].startswith("database unavailable")
    assert path.read_bytes() == b"not a database at all" * 100


def test_a_crashing_check_fails_only_its_line() -> None:
    def check_boom(ctx: doctor.DoctorContext) -> doctor.CheckResult:
        raise RuntimeError("boom")

    ctx = doctor.DoctorContext(env_name="sandbox", clock=FakeClock())
    results = doctor.run_checks(ctx, [doctor.check_credentials, check_boom])
    assert [(r.name, r.ok) for r in results] == [("keyring and credentials", True),
                                                  ("boom", False)]
    assert "RuntimeError('boom')" in results[1].detail


def test_a_student_without_email_fails_the_outbox_line_with_the_name(
    sandbox: SandboxHandle, capsys: pytest.CaptureFixture[str]
) -> None:
    from companion.core.journal import Line
    from companion.store import runs
    from companion.store.run_tables import LessonRow

    pull_roster(sandbox.base_url)
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        db.write(lambda s: s.add(LessonRow(id="lesson-1", title="Fractions", course_id="m",
                                           course_title="Math", subject="Math", grade="3",
                                           sort_order=0, settings_json="{}")))
        run_id = runs.open_run(db, "demo-student-07", "lesson-1",
                               anchor=datetime(2026, 1, 5, 9, tzinfo=UTC))
        runs.append_many(db, run_id, [Line(30_000, "input")])
        ctx = runs.EventContext(oneroster_base=sandbox.base_url)
        closing.close_run(db, run_id, completed=True, at_ms=60_000, ctx=ctx)
    assert cli.main(["doctor", "--url", sandbox.base_url]) == 1
    verdict, detail, hint = report(capsys)["outbox"]
    assert verdict == "FAIL"
    assert "1 run(s) of Noah Smith (demo-student-07) not sent: no email in the roster" in detail
    assert hint is not None and "add the missing email" in hint
