"""`companion outbox list|show|retry` through the real command line on a real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from companion import cli
from companion.store import outbox, paths
from companion.store.db import Database
from companion.store.tables import OutboxState

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
REFUSAL = "422: generated.items[0].value must be a number\n(field: generated)"


def event(n: int) -> dict[str, object]:
    return {"id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}", "type": "ActivityEvent",
            "actor": {"id": "stu-1"}, "generated": {"items": [{"value": "Ünïcode"}]}}


@pytest.fixture
def ids() -> dict[str, int]:
    """Three deliveries: one dead (refused), one acked, one pending."""
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        db.write(lambda s: outbox.add_events(s, [event(1), event(2), event(3)], now=T0))
        rows = outbox.claim_batch(db, max_events=2, now=T0 + timedelta(minutes=1))
        dead, acked = (row.id for row in rows)
        assert dead is not None and acked is not None
        assert outbox.mark_dead(db, dead, REFUSAL, now=T0 + timedelta(minutes=2))
        outbox.mark_acked(db, [acked], job_id="job-1", now=T0 + timedelta(minutes=2))
        pending = outbox.list_items(db, OutboxState.PENDING.value)[0].id
        assert pending is not None
    return {"dead": dead, "acked": acked, "pending": pending}


def state_of(item_id: int) -> tuple[str, int]:
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        item = outbox.get(db, item_id)
    assert item is not None
    return item.state, item.attempts


def test_list_shows_every_undelivered_row_by_default(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["outbox", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[0].split() == ["ID", "KIND", "STATE", "EVENT", "ID", "ATTEMPTS", "REASON",
                                "UPDATED"]
    assert len(lines) == 3  # the refused row and the pending one, not the delivered one
    cells = lines[1].split()
    assert cells[:5] == [str(ids["dead"]), "caliper", "refused", event(1)["id"], "1"]
    # The error is flattened to one line and cut to 60 characters.
    assert "  422: generated.items[0].value must be a number (field: gene…  " in lines[1]
    assert lines[1].endswith("2026-01-05 09:02:00Z")
    assert lines[2].split()[:3] == [str(ids["pending"]), "caliper", "pending"]


def test_list_by_state_and_all(ids: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["outbox", "list", "--state", "pending"]) == 0
    pending = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[0] for line in pending] == [str(ids["pending"])]

    assert cli.main(["outbox", "list", "--state", "all"]) == 0
    every = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[0] for line in every] == [str(i) for i in sorted(ids.values())]


def test_bare_outbox_lists_undelivered_rows(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["outbox"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[0] for line in rows] == [str(ids["dead"]), str(ids["pending"])]


@pytest.mark.parametrize(("name", "which"), [("dead", "dead"), ("refused", "dead"),
                                              ("acked", "acked"), ("delivered", "acked"),
                                              ("in-flight", None)])
def test_old_and_new_state_names(ids: dict[str, int], name: str, which: str | None,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["outbox", "list", "--state", name]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[0] for line in rows] == ([str(ids[which])] if which else [])


def test_unknown_state_name_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main(["outbox", "list", "--state", "lost"])
    assert stop.value.code == 2
    assert "unknown state 'lost'" in capsys.readouterr().err


def test_held_rows_are_listed_with_their_reason_and_can_be_released(
    capsys: pytest.CaptureFixture[str]
) -> None:
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        db.write(lambda s: outbox.add_events(s, [event(8), event(9)], now=T0))
        rows = outbox.claim_batch(db, now=T0)
        reason = "held: read-back cannot find events known to be stored"
        assert outbox.mark_held(db, [r.id for r in rows], reason, T0, now=T0) == 2
        held = [r.id for r in rows]
    assert cli.main(["outbox", "list", "--state", "held"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[2] for line in lines] == ["held", "held"]
    assert all(reason in line for line in lines)
    assert cli.main(["outbox", "release", str(held[0])]) == 0
    assert "1 held deliveries released" in capsys.readouterr().out
    assert state_of(held[0]) == ("pending", 1)
    assert cli.main(["outbox", "release", str(held[0])]) == 2  # not held any more
    assert "is pending, not held" in capsys.readouterr().err
    assert cli.main(["outbox", "release", "--all"]) == 0
    assert state_of(held[1]) == ("pending", 1)


def test_list_says_so_when_nothing_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        db.write(lambda s: outbox.add_events(s, [event(7)], now=T0))
    assert cli.main(["outbox", "list", "--state", "dead"]) == 0
    assert capsys.readouterr().out.strip() == "no refused deliveries"


def test_show_prints_payload_and_error(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["outbox", "show", str(ids["dead"])]) == 0
    out = capsys.readouterr().out

    assert "state:        refused" in out
    assert f"  {REFUSAL}" in out
    payload = out.split("payload:\n", 1)[1]
    assert '  "type": "ActivityEvent",' in payload.splitlines()
    assert '"value": "Ünïcode"' in payload


def test_show_unknown_id_is_a_usage_error(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["outbox", "show", "999"]) == 2
    assert "no delivery with id 999" in capsys.readouterr().err


def test_retry_puts_a_dead_row_back_with_attempts_reset(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert state_of(ids["dead"]) == ("refused", 1)

    assert cli.main(["outbox", "retry", str(ids["dead"])]) == 0

    assert "pending again" in capsys.readouterr().out
    assert state_of(ids["dead"]) == ("pending", 0)
    assert cli.main(["outbox", "list", "--state", "refused"]) == 0
    assert capsys.readouterr().out.strip() == "no refused deliveries"


@pytest.mark.parametrize("which", ["acked", "pending"])
def test_retry_of_a_row_that_is_not_dead_is_refused(
    ids: dict[str, int], which: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = state_of(ids[which])

    assert cli.main(["outbox", "retry", str(ids[which])]) == 2

    err = capsys.readouterr().err
    assert f"delivery {ids[which]} is {before[0]}, not refused" in err
    assert state_of(ids[which]) == before


def test_retry_unknown_id(ids: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["outbox", "retry", "4242"]) == 2
    assert "no delivery with id 4242" in capsys.readouterr().err


def test_without_a_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["outbox", "list"]) == 0
    assert "nothing queued" in capsys.readouterr().out
    assert cli.main(["outbox", "show", "1"]) == 2
    assert not paths.database_path("sandbox").exists()
