"""Run summaries: written with the close, back-filled for version-1 runs, equal to the rules."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.core import rules
from companion.core.journal import Line
from companion.core.report import Answer
from companion.session import closing
from companion.store import runs, summaries
from companion.store.db import Database
from tests.store.run_child import ANCHOR, CTX, LESSON, STUDENT, seed

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "v1-sample.sqlite3"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as database:
        seed(database)
        yield database


def test_closing_a_run_writes_its_summary_and_first_answers(db: Database) -> None:
    run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append_many(db, run_id, [
        Line(10_000, "input"),
        Line(20_000, "answer", item="q1", correct=False),
        Line(25_000, "answer", item="q1", correct=True),  # a second try does not count
        Line(30_000, "answer", item="q2", correct=True),
        Line(40_000, "input"),
        Line(60_000, "focus", focused=False, app="game"),
        Line(90_000, "focus", focused=True),
        Line(100_000, "input"),
        Line(200_000, "input"),  # 100 s without input: idle after the 60 s timeout
    ])
    closing.close_run(db, run_id, completed=True, at_ms=201_000, ctx=CTX)

    row = summaries.get(db, run_id)
    assert row is not None
    lines = runs.journal(db, run_id)
    classification = rules.classify(lines)
    score = rules.score(lines, classification)
    assert row.focused_ms == classification.total("active")
    assert row.off_task_ms == classification.total("waste") == 30_000
    assert row.idle_ms + row.away_ms == classification.total("inactive")
    assert row.idle_ms > 0 and row.away_ms == 0
    assert (row.questions, row.correct) == (2, 1)
    assert row.xp == str(score.xp)
    assert row.started_at == ANCHOR.isoformat()
    assert summaries.explanation(row) == rules.explain(score)
    assert summaries.answers(db, [run_id])[run_id] == [
        Answer("q1", False), Answer("q2", True)
    ]
    assert summaries.missing(db) == []


def test_version_one_runs_are_summarised_from_their_journals(tmp_path: Path) -> None:
    path = tmp_path / "companion-sandbox.sqlite3"
    shutil.copyfile(SAMPLE, path)
    count = "SELECT (SELECT COUNT(*) FROM runs), (SELECT COUNT(*) FROM outbox WHERE state = ?)"
    with sqlite3.connect(path) as con:
        before = con.execute(count, ("pending",)).fetchone()
    with Database.open(path, "sandbox") as db:
        closed = runs.closed_run_ids(db)
        assert sorted(summaries.missing(db)) == sorted(closed) and len(closed) == 2
        assert closing.backfill_summaries(db) == 2
        assert closing.backfill_summaries(db) == 0  # once only
        for run_id in closed:
            row = summaries.get(db, run_id)
            run = runs.get_run(db, run_id)
            assert row is not None and run is not None
            lines = runs.journal(db, run_id)
            classification = rules.classify(lines)
            score = rules.score(lines, classification)
            assert row.xp == run.xp == str(score.xp)
            assert row.focused_ms == classification.total("active")
            assert row.closed_at == run.closed_at
            answered = [line for line in lines if line.kind == "answer"]
            stored = summaries.answers(db, [run_id])[run_id]
            assert len(stored) == score.questions <= len(answered)
        # the run left open by a crash has no summary until it is closed
        assert len(summaries.in_range(db, "2000-01-01", "2100-01-01")) == 2
    with sqlite3.connect(path) as con:  # every run and pending event is still there
        assert con.execute(count, ("pending",)).fetchone() == before
        assert before[0] == 3 and before[1] > 0
