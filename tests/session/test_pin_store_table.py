"""The PIN table: rows round-trip and failures count up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from companion.core.pins import hash_pin
from companion.store import pins as pin_store
from companion.store.db import Database

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_rows_failures_and_reset(tmp_path: Path) -> None:
    with Database.open(tmp_path / "db.sqlite3", "sandbox") as db:
        assert pin_store.get(db, "u1") is None
        stored = hash_pin("1234", n=2**4, r=1, p=1)
        pin_store.set_pin(db, "u1", stored, NOW)
        row = pin_store.get(db, "u1")
        assert row is not None and row.pin_hash() == stored and row.failures == 0
        for expected in range(1, 6):
            row = pin_store.record_failure(db, "u1", NOW)
            assert row.failures == expected
        assert row.locked_until == NOW + timedelta(seconds=30)
        pin_store.reset_failures(db, "u1", NOW)
        row = pin_store.get(db, "u1")
        assert row is not None and (row.failures, row.locked_until) == (0, None)
        failed = pin_store.record_failure(db, "nobody", NOW)  # no PIN yet: still counted
        assert failed.failures == 1 and failed.pin_hash() is None
        assert pin_store.users_with_pin(db, ["u1", "nobody", "x"]) == {"u1"}
