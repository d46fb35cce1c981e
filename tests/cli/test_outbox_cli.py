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


def test_list_shows_only_dead_rows_by_default(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["outbox", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[0].split() == ["ID", "KIND", "EVENT", "ID", "ATTEMPTS", "LAST", "ERROR",
                                "UPDATED"]
    assert len(lines) == 2
    cells = lines[1].split()
    assert cells[:4] == [str(ids["dead"]), "caliper", event(1)["id"], "1"]
    # The error is flattened to one line and cut to 60 characters.
    assert "  422: generated.items[0].value must be a number (field: gene…  " in lines[1]
    assert lines[1].endswith("2026-01-05 09:02:00Z")


def test_list_by_state_and_all(ids: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["outbox", "list", "--state", "pending"]) == 0
    pending = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[0] for line in pending] == [str(ids["pending"])]

    assert cli.main(["outbox", "list", "--state", "all"]) == 0
    every = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[0] for line in every] == [str(i) for i in sorted(ids.values())]


def test_bare_outbox_lists_dead_rows(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["outbox"]) == 0
    rows = capsys.readouterr().out.splitlines()[1:]
    assert [line.split()[0] for line in rows] == [str(ids["dead"])]


def test_list_says_so_when_nothing_is_dead(capsys: pytest.CaptureFixture[str]) -> None:
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        db.write(lambda s: outbox.add_events(s, [event(7)], now=T0))
    assert cli.main(["outbox", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no dead deliveries"


def test_show_prints_payload_and_error(
    ids: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["outbox", "show", str(ids["dead"])]) == 0
    out = capsys.readouterr().out

    assert "state:        dead" in out
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
    assert state_of(ids["dead"]) == ("dead", 1)

    assert cli.main(["outbox", "retry", str(ids["dead"])]) == 0

    assert "pending again" in capsys.readouterr().out
    assert state_of(ids["dead"]) == ("pending", 0)
    assert cli.main(["outbox", "list"]) == 0
    assert capsys.readouterr().out.strip() == "no dead deliveries"


@pytest.mark.parametrize("which", ["acked", "pending"])
def test_retry_of_a_row_that_is_not_dead_is_refused(
    ids: dict[str, int], which: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = state_of(ids[which])

    assert cli.main(["outbox", "retry", str(ids[which])]) == 2

    err = capsys.readouterr().err
    assert f"delivery {ids[which]} is {before[0]}, not dead" in err
    assert state_of(ids[which]) == before


def test_retry_unknown_id(ids: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["outbox", "retry", "4242"]) == 2
    assert "no delivery with id 4242" in capsys.readouterr().err


def test_without_a_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["outbox", "list"]) == 0
    assert "nothing queued" in capsys.readouterr().out
    assert cli.main(["outbox", "show", "1"]) == 2
    assert not paths.database_path("sandbox").exists()
