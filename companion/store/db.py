"""The SQLite database: opening, checks, schema migrations, one writer thread, reads.

One database per OS user and environment. Opening checks the file before anything writes
to it: a file that is not SQLite, fails ``PRAGMA quick_check``, has a newer schema or was
made for another environment is refused and left byte-for-byte as it was.

Transactions are ours, not pysqlite's: every connection runs with ``isolation_level=None``
and a ``begin`` listener emits ``BEGIN IMMEDIATE`` for writes and ``BEGIN`` for reads.
All writes go through ``Database.write`` and run on one dedicated thread, in order.
"""

from __future__ import annotations

import logging
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

from companion.core.journal import JournalNotSaved
from companion.store.migrations import MIGRATIONS, Migration
from companion.store.paths import ensure_private_dir

log = logging.getLogger("companion.store")

T = TypeVar("T")

SQLITE_HEADER = b"SQLite format 3\x00"
ENV_KEY = "environment"

class StoreError(Exception):
    """Base of the store's errors."""


class NewerSchemaError(StoreError):
    """The database was written by a newer version of the app."""


class DiskFullError(StoreError, JournalNotSaved):
    """A write failed because the disk (or the database's page limit) is full; nothing
    already written is lost, and the failed write left no trace."""


def _is_full(exc: OperationalError) -> bool:
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL or "database or disk is full" in str(orig)


class CorruptDatabaseError(StoreError):
    """The file is not a SQLite database or fails its integrity check."""


class EnvironmentMismatchError(StoreError):
    """The database belongs to another Timeback environment."""


class PendingWrite(Generic[T]):
    """A queued write: ``done()`` without waiting, ``result()`` waits for its commit."""

    def __init__(self, future: Future[T], path: Path) -> None:
        self._future = future
        self._path = path

    def done(self) -> bool:
        """Whether the write has committed or failed."""
        return self._future.done()

    def result(self) -> T:
        """What the write returned, once committed; raises what it raised (a full disk as
        ``DiskFullError``), after rolling it back."""
        try:
            return self._future.result()
        except OperationalError as exc:
            if _is_full(exc):
                raise DiskFullError(
                    f"The disk holding {self._path} is full, so nothing more can be saved. "
                    "Everything saved until now is kept. Free some space (or ask your "
                    "guide), then go on."
                ) from exc
            raise


def latest_version(migrations: Sequence[Migration]) -> int:
    """The schema version a database has after all ``migrations`` ran."""
    return max((version for version, _ in migrations), default=0)


class Database:
    """An open database: ``write`` on the writer thread, ``read`` from any thread."""

    def __init__(self, path: Path, env: str, writer: Engine, reader: Engine) -> None:
        """Use ``Database.open``; this only wires already-checked engines together."""
        self.path = path
        self.env = env
        self._writer_engine = writer
        self._reader_engine = reader
        self._queue: queue.SimpleQueue[tuple[Callable[[Session], Any], Future[Any]] | None]
        self._queue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._run_writer, name="store-writer", daemon=True)
        self._thread.start()

    @classmethod
    def open(
        cls,
        path: Path,
        env: str,
        *,
        migrations: Sequence[Migration] = MIGRATIONS,
        busy_timeout_s: float = 10.0,
    ) -> Database:
        """Open (creating and migrating as needed) the database at ``path`` for ``env``.

        Raises ``CorruptDatabaseError``, ``NewerSchemaError`` or ``EnvironmentMismatchError``
        without changing the file.
        """
        path = Path(path)
        latest = latest_version(migrations)
        ensure_private_dir(path.parent)
        _inspect(path, env, latest)
        _create_private_file(path)
        writer = _make_engine(path, busy_timeout_s, "BEGIN IMMEDIATE", pool_size=1)
        reader = _make_engine(path, busy_timeout_s, "BEGIN", pool_size=5)
        try:
            _migrate(writer, path, migrations)
            _claim_environment(writer, path, env)
        except BaseException:
            writer.dispose()
            reader.dispose()
            raise
        _tighten_side_files(path)
        return cls(path, env, writer, reader)

    def submit(self, fn: Callable[[Session], T]) -> Future[T]:
        """Queue ``fn(session)`` for the writer thread; the future holds its result."""
        if threading.current_thread() is self._thread:
            raise StoreError("Database.write called from inside a write (it would deadlock)")
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise StoreError(f"database {self.path} is closed")
            self._queue.put((fn, future))
        return future

    def write(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn(session)`` in ``BEGIN IMMEDIATE ... COMMIT`` on the writer thread.

        Returns what ``fn`` returns; if ``fn`` raises, the transaction is rolled back and
        the exception is raised here. Objects returned stay usable (no expiry on commit).
        """
        return self.write_soon(fn).result()

    def write_soon(self, fn: Callable[[Session], T]) -> PendingWrite[T]:
        """Queue the write ``fn(session)`` (as ``write`` runs it) without waiting for it.

        Writes run in the order they were queued, so a later ``write`` sees this one done.
        """
        return PendingWrite(self.submit(fn), self.path)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A short read session (one ``BEGIN`` snapshot) usable from any thread."""
        if self._closed:
            raise StoreError(f"database {self.path} is closed")
        with Session(self._reader_engine, expire_on_commit=False) as session:
            yield session

    def schema_version(self) -> int:
        """The database's ``PRAGMA user_version``."""
        with self.read() as session:
            return int(session.connection().exec_driver_sql("PRAGMA user_version").scalar_one())

    def pragma(self, name: str) -> Any:
        """The value of a read-only ``PRAGMA name`` on a reader connection."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bad pragma name {name!r}")
        with self.read() as session:
            return session.connection().exec_driver_sql(f"PRAGMA {name}").scalar()

    def close(self) -> None:
        """Finish queued writes, stop the writer thread and close every connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
        self._thread.join()
        self._writer_engine.dispose()
        self._reader_engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run_writer(self) -> None:
        """The writer thread: one transaction per queued job, in order."""
        while True:
            job = self._queue.get()
            if job is None:
                return
            fn, future = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                with (
                    Session(self._writer_engine, expire_on_commit=False) as session,
                    session.begin(),
                ):
                    result = fn(session)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)


def _corrupt(path: Path, detail: str) -> CorruptDatabaseError:
    return CorruptDatabaseError(
        f"{path} is not a usable database ({detail}). It has been left untouched. "
        "Quit the app, move the file aside (keep it: it may hold undelivered events) "
        "or restore a backup, then start again to create a new database."
    )


def _inspect(path: Path, env: str, latest: int) -> None:
    """Refuse a corrupt, newer or other-environment file without writing to it."""
    if not path.exists():
        return
    if path.stat().st_size == 0:  # never made by this app: undelivered events may be gone
        raise _corrupt(path, "the file is empty")
    with open(path, "rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise _corrupt(path, "not a SQLite database")
    # A plain connection that only reads: unlike a mode=ro one, it removes the -wal and
    # -shm files it made when it closes, so the folder is left as it was found.
    try:
        with closing(sqlite3.connect(path, timeout=10.0, isolation_level=None)) as con:
            con.text_factory = _lenient_text  # damaged pages can hold any bytes
            version = int(con.execute("PRAGMA user_version").fetchone()[0])
            if version > latest:
                raise NewerSchemaError(
                    f"{path} has schema version {version}, but this app knows only up to "
                    f"{latest}. It was written by a newer Timeback Companion: update the app. "
                    "The file has not been changed."
                )
            check = [row[0] for row in con.execute("PRAGMA quick_check").fetchall()]
            if check != ["ok"]:
                raise _corrupt(path, "integrity check failed: " + "; ".join(check[:3]))
            has_meta = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='store_meta'"
            ).fetchone()
            recorded = None
            if has_meta:
                row = con.execute("SELECT value FROM store_meta WHERE key=?", (ENV_KEY,)).fetchone()
                recorded = row[0] if row else None
    except sqlite3.OperationalError as exc:
        raise StoreError(f"cannot read {path}: {exc}") from exc
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise _corrupt(path, str(exc)[:200]) from exc
    if recorded is not None and recorded != env:
        raise EnvironmentMismatchError(_mismatch_message(path, recorded, env))


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _mismatch_message(path: Path, recorded: str, env: str) -> str:
    return (
        f"{path} belongs to the {recorded!r} environment, not {env!r}; "
        "events made for one environment are never sent to another."
    )


def _create_private_file(path: Path) -> None:
    """Create an empty database file with mode 0600 before SQLite opens it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    os.chmod(path, 0o600)


def _tighten_side_files(path: Path) -> None:
    """Make the -wal and -shm files 0600 (SQLite copies the main file's mode already)."""
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.chmod(side, 0o600)


def _make_engine(path: Path, busy_timeout_s: float, begin_sql: str, pool_size: int) -> Engine:
    """An engine whose connections we control: no pysqlite transactions, WAL, busy wait."""
    url = URL.create("sqlite", database=str(path))
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_s},
        pool_size=pool_size,
        max_overflow=0 if pool_size == 1 else 10,
    )
    busy_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
            mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                log.warning("WAL not available for %s (journal_mode=%s)", path, mode)
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn: Connection) -> None:
        conn.exec_driver_sql(begin_sql)

    return engine


def _migrate(engine: Engine, path: Path, migrations: Sequence[Migration]) -> None:
    """Run the missing forward steps, each in its own ``BEGIN IMMEDIATE`` transaction."""
    latest = latest_version(migrations)
    for version, step in sorted(migrations, key=lambda m: m[0]):
        with engine.begin() as conn:
            current = int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())
            if current > latest:
                raise NewerSchemaError(
                    f"{path} has schema version {current}, newer than this app's {latest}"
                )
            if current >= version:
                continue
            log.info("migrating %s from schema %d to %d", path, current, version)
            step(conn)
            conn.exec_driver_sql(f"PRAGMA user_version = {int(version)}")


def _claim_environment(engine: Engine, path: Path, env: str) -> None:
    """Record ``env`` in a new database; refuse one recorded for another environment."""
    with engine.begin() as conn:
        row = conn.exec_driver_sql(
            "SELECT value FROM store_meta WHERE key = ?", (ENV_KEY,)
        ).fetchone()
        if row is None:
            conn.exec_driver_sql(
                "INSERT INTO store_meta (key, value) VALUES (?, ?)", (ENV_KEY, env)
            )
        elif row[0] != env:
            raise EnvironmentMismatchError(_mismatch_message(path, row[0], env))
