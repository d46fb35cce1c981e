"""The database: open checks, modes, WAL, migrations, refusals and the single writer."""

from __future__ import annotations

import os
import sqlite3
import stat
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import platformdirs
import pytest
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from companion.store.db import (
    MIGRATIONS,
    CorruptDatabaseError,
    Database,
    EnvironmentMismatchError,
    NewerSchemaError,
    StoreError,
    latest_version,
)
from companion.store.paths import database_path
from companion.store.tables import StoreMeta

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "companion-sandbox.sqlite3"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = Database.open(db_path, "sandbox")
    yield database
    database.close()


def _put(key: str, value: str) -> Callable[[Session], None]:
    def fn(session: Session) -> None:
        session.add(StoreMeta(key=key, value=value))

    return fn


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _make_v1_file(path: Path, env: str = "sandbox") -> None:
    database = Database.open(path, env)
    database.write(_put("made", "v1"))
    database.close()


def test_database_path_uses_companion_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANION_DATA_DIR", "/somewhere/else")
    assert database_path("staging") == Path("/somewhere/else/companion-staging.sqlite3")
    monkeypatch.delenv("COMPANION_DATA_DIR")
    expected = Path(platformdirs.user_data_dir("timeback-companion", appauthor=False))
    assert database_path("production") == expected / "companion-production.sqlite3"
    with pytest.raises(ValueError, match="unknown environment"):
        database_path("prod")


def test_open_turns_on_wal_busy_timeout_and_schema(db: Database) -> None:
    assert db.pragma("journal_mode") == "wal"
    assert db.pragma("busy_timeout") == 10_000
    assert db.schema_version() == latest_version(MIGRATIONS)
    with db.read() as session:
        env = session.get(StoreMeta, "environment")
    assert env is not None and env.value == "sandbox"


@posix_only
def test_files_are_private(db: Database, db_path: Path) -> None:
    db.write(_put("k", "v"))  # the writer connection stays open: -wal and -shm exist
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700
    for name in (db_path.name, db_path.name + "-wal", db_path.name + "-shm"):
        mode = stat.S_IMODE((db_path.parent / name).stat().st_mode)
        assert mode == 0o600, f"{name} has mode {oct(mode)}"


def test_write_returns_result_and_objects_stay_usable(db: Database) -> None:
    def fn(session: Session) -> StoreMeta:
        row = StoreMeta(key="a", value="1")
        session.add(row)
        return row

    row = db.write(fn)
    assert (row.key, row.value) == ("a", "1")
    with db.read() as session:
        assert session.get(StoreMeta, "a") is not None


def test_failed_write_rolls_back_and_reraises(db: Database) -> None:
    def fn(session: Session) -> None:
        session.add(StoreMeta(key="lost", value="x"))
        session.flush()
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        db.write(fn)
    with db.read() as session:
        assert session.get(StoreMeta, "lost") is None
    db.write(_put("after", "ok"))  # the writer survives a failed job


def test_nested_write_is_refused(db: Database) -> None:
    with pytest.raises(StoreError, match="inside a write"):
        db.write(lambda session: db.write(_put("inner", "x")))


def test_closed_database_refuses_work(db_path: Path) -> None:
    database = Database.open(db_path, "sandbox")
    database.close()
    database.close()
    with pytest.raises(StoreError, match="closed"):
        database.write(_put("k", "v"))
    with pytest.raises(StoreError, match="closed"), database.read():
        pass


def _increment(session: Session) -> None:
    row = session.get(StoreMeta, "counter")
    if row is None:
        session.add(StoreMeta(key="counter", value="1"))
    else:
        row.value = str(int(row.value) + 1)


def test_concurrent_writers_never_lock_or_lose_updates(db: Database, db_path: Path) -> None:
    other = Database.open(db_path, "sandbox")  # a second writer on the file, like another process
    errors: list[BaseException] = []
    threads_per_db, writes_each = 4, 25
    start = threading.Barrier(2 * threads_per_db)

    def worker(database: Database, n: int) -> None:
        start.wait()
        try:
            for i in range(writes_each):
                database.write(_put(f"t{n}-{i}", "x"))
                database.write(_increment)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(database, n))
        for n, database in enumerate([db, other] * threads_per_db)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()
    assert errors == []
    total = 2 * threads_per_db * writes_each
    with db.read() as session:
        keys = session.exec(select(StoreMeta.key).where(StoreMeta.key.startswith("t"))).all()
        counter = session.get(StoreMeta, "counter")
    assert len(keys) == total
    assert counter is not None and int(counter.value) == total


def test_older_file_is_migrated_once(db_path: Path) -> None:
    _make_v1_file(db_path)
    calls: list[int] = []

    def add_notes(conn: Connection) -> None:
        calls.append(1)
        conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        conn.exec_driver_sql(
            "INSERT INTO notes (text) SELECT value FROM store_meta WHERE key = 'made'"
        )

    after = latest_version(MIGRATIONS) + 1
    steps = (*MIGRATIONS, (after, add_notes))
    for _ in range(2):
        database = Database.open(db_path, "sandbox", migrations=steps)
        assert database.schema_version() == after
        with database.read() as session:
            rows = session.connection().exec_driver_sql("SELECT text FROM notes").all()
        database.close()
        assert [tuple(r) for r in rows] == [("v1",)]
    assert calls == [1]


def test_failed_migration_leaves_previous_version(db_path: Path) -> None:
    _make_v1_file(db_path)

    def broken(conn: Connection) -> None:
        conn.exec_driver_sql("CREATE TABLE half_done (id INTEGER)")
        raise RuntimeError("step failed")

    with pytest.raises(RuntimeError, match="step failed"):
        Database.open(db_path, "sandbox",
                      migrations=(*MIGRATIONS, (latest_version(MIGRATIONS) + 1, broken)))
    with closing(sqlite3.connect(db_path)) as con:
        assert con.execute("PRAGMA user_version").fetchone()[0] == latest_version(MIGRATIONS)
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in tables


def test_newer_schema_is_refused_untouched(db_path: Path) -> None:
    _make_v1_file(db_path)
    with closing(sqlite3.connect(db_path)) as con:
        con.execute("PRAGMA user_version = 7")
    before = _files(db_path.parent)
    with pytest.raises(NewerSchemaError, match="schema version 7"):
        Database.open(db_path, "sandbox")
    assert _files(db_path.parent) == before


def test_file_that_is_not_sqlite_is_refused_untouched(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is a spreadsheet, not a database\n" * 200)
    before = _files(db_path.parent)
    with pytest.raises(CorruptDatabaseError) as caught:
        Database.open(db_path, "sandbox")
    assert str(db_path) in str(caught.value)
    assert "move the file aside" in str(caught.value)
    assert _files(db_path.parent) == before


def test_damaged_sqlite_file_is_refused_untouched(db_path: Path) -> None:
    database = Database.open(db_path, "sandbox")
    for n in range(40):
        database.write(_put(f"key-{n:03}", "v" * 400))
    database.close()
    with closing(sqlite3.connect(db_path)) as con:
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        pages = con.execute("PRAGMA page_count").fetchone()[0]
    assert pages > 3
    data = bytearray(db_path.read_bytes())
    for page in range(1, pages):  # keep the header page, scramble the rest
        start = page * page_size
        data[start : start + page_size] = bytes([0xA5]) * page_size
    db_path.write_bytes(bytes(data))
    before = _files(db_path.parent)
    with pytest.raises(CorruptDatabaseError, match="left untouched"):
        Database.open(db_path, "sandbox")
    assert _files(db_path.parent) == before


def test_other_environment_is_refused_untouched(db_path: Path) -> None:
    _make_v1_file(db_path, env="sandbox")
    before = _files(db_path.parent)
    with pytest.raises(EnvironmentMismatchError, match="'sandbox' environment, not 'production'"):
        Database.open(db_path, "production")
    assert _files(db_path.parent) == before
    database = Database.open(db_path, "sandbox")  # the right environment still opens it
    database.close()


@posix_only
def test_existing_data_folder_keeps_working(tmp_path: Path) -> None:
    folder = tmp_path / "existing"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    database = Database.open(folder / "companion-staging.sqlite3", "staging")
    database.close()
    assert stat.S_IMODE((folder / "companion-staging.sqlite3").stat().st_mode) == 0o600
