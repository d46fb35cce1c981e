"""Files the store refuses and a disk that fills up: clear messages, nothing lost."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from companion.core.journal import Line
from companion.store import runs
from companion.store.db import CorruptDatabaseError, Database, DiskFullError
from tests.store.run_child import ANCHOR, LESSON, STUDENT, seed


def test_an_empty_existing_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "companion-sandbox.sqlite3"
    path.write_bytes(b"")
    with pytest.raises(CorruptDatabaseError, match="the file is empty"):
        Database.open(path, "sandbox")
    assert path.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_a_full_disk_during_a_lesson_keeps_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "companion-sandbox.sqlite3"
    with Database.open(path, "sandbox") as db:
        seed(db)
        run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)

        def limit(session: Session) -> None:  # the writer's one connection: a full disk
            pages = session.exec(text("PRAGMA page_count")).one()[0]  # type: ignore[call-overload]
            session.exec(text(f"PRAGMA max_page_count = {pages + 2}"))  # type: ignore[call-overload]

        db.write(limit)
        written = 0
        with pytest.raises(DiskFullError) as full:
            for t in range(1, 100_000):
                runs.append(db, run_id, Line(t * 1000, "answer", item=f"q{t}-" + "x" * 150,
                                             correct=True))
                written = t
        assert "is full" in str(full.value) and "Everything saved until now is kept" \
            in str(full.value)
        assert written > 0
        lines = runs.journal(db, run_id)
        assert len(lines) == written + 1  # the start line and every answer before the full one
    with closing(sqlite3.connect(path)) as con:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_a_file_whose_check_reports_undecodable_text_gets_the_clear_message(
        tmp_path: Path) -> None:
    path = tmp_path / "companion-sandbox.sqlite3"
    with closing(sqlite3.connect(path)) as con:  # damage that quick_check reports in bytes
        con.execute('CREATE TABLE t("\u00ffk" TEXT, v TEXT)')
        con.execute("INSERT INTO t VALUES (NULL, 'a')")
        con.commit()
        sql = b'CREATE TABLE t("\xffk" TEXT NOT NULL, v TEXT)'.hex()
        con.execute("PRAGMA writable_schema=ON")
        con.execute(f"UPDATE sqlite_master SET sql=CAST(x'{sql}' AS TEXT) WHERE name='t'")
        con.commit()
    before = path.read_bytes()
    with pytest.raises(CorruptDatabaseError, match=r"integrity check failed.*left untouched"):
        Database.open(path, "sandbox")
    assert path.read_bytes() == before
