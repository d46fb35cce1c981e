"""`companion audit` and `companion export-journal` on a real database in the data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from companion import cli
from companion.core import rules
from companion.core.journal import Line, parse_jsonl
from companion.session import closing
from companion.store import paths, runs
from companion.store.db import Database
from companion.store.tables import OutboxItem
from tests.store.run_child import ANCHOR, CTX, LESSON, NEXT_LESSON, STUDENT, seed


def journal_body() -> list[Line]:
    """Eight minutes with a distraction, an idle gap and 9 of 10 answers right."""
    lines = [Line(t, "input") for t in range(20_000, 480_001, 20_000) if not 200_000 < t < 330_000]
    lines += [Line(60_000 + i * 1_000, "answer", item=f"q{i}", correct=i != 3) for i in range(10)]
    lines += [
        Line(150_500, "focus", focused=False, app="game"),
        Line(190_250, "focus", focused=True),
    ]
    return sorted(lines, key=lambda line: line.t)


@pytest.fixture
def stored_runs() -> list[str]:
    """Two closed runs in the sandbox database: one with events, one still pending."""
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        seed(db)
        first = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
        runs.append_many(db, first, journal_body())
        closing.report_time_spent(db, first, 300_000, CTX, window_ms=60_000)
        closing.close_run(db, first, completed=True, at_ms=481_500, ctx=CTX, window_ms=60_000)
        second = runs.open_run(db, "stu-9", NEXT_LESSON, anchor=ANCHOR)  # not in the roster
        runs.append(db, second, Line(10_000, "input"))
        closing.close_run(db, second, completed=True, at_ms=30_000, ctx=CTX)
    return [first, second]


def tamper_xp(run_id: str, xp: float) -> None:
    def work(session: Session) -> None:
        rows = session.exec(
            select(OutboxItem).where(OutboxItem.run_id == run_id).order_by(col(OutboxItem.id))
        ).all()
        for row in rows:
            payload = json.loads(row.payload)
            if payload["type"] == "ActivityEvent":
                for item in payload["generated"]["items"]:
                    if item["type"] == "xpEarned":
                        item["value"] = xp
                row.payload = json.dumps(payload)
                session.add(row)

    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        db.write(work)


def test_audit_passes_on_honest_data(
    stored_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["audit"]) == 0
    out = capsys.readouterr().out
    assert f"Run {stored_runs[0]}" in out and f"Run {stored_runs[1]}" in out
    assert "Accuracy: 9 of 10 correct (90 %)" in out
    assert "Events: match the journal" in out
    assert "Events: pending (student not in roster)" in out
    assert "all 2 runs match their journals (1 with events pending)" in out


def test_audit_fails_after_tampering_with_xp(
    stored_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    first = stored_runs[0]
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        xp = rules.score(runs.journal(db, first), rules.classify(runs.journal(db, first))).xp
    assert xp > 0
    tamper_xp(first, float(xp) + 1)

    assert cli.main(["audit", "--student", STUDENT]) == 1
    out = capsys.readouterr().out
    assert f"MISMATCH: xpEarned: outbox has {float(xp) + 1}, journal gives {xp}" in out
    assert "1 of 1 runs do not match" in out
    assert cli.main(["audit", "--run", stored_runs[1]]) == 0


def test_audit_compares_time_to_the_millisecond(
    stored_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    first = stored_runs[0]

    def shave(session: Session) -> None:
        row = session.exec(
            select(OutboxItem).where(OutboxItem.run_id == first).order_by(col(OutboxItem.id))
        ).first()
        assert row is not None
        payload = json.loads(row.payload)
        active = next(i for i in payload["generated"]["items"] if i["type"] == "active")
        active["value"] = active["value"] - 0.001
        row.payload = json.dumps(payload)
        session.add(row)

    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        db.write(shave)
    assert cli.main(["audit", "--run", first]) == 1
    assert "MISMATCH: active time" in capsys.readouterr().out


def test_audit_without_a_database_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit"]) == 2
    assert "no database for the sandbox environment" in capsys.readouterr().err
    assert not paths.database_path("sandbox").exists()


def test_audit_unknown_run(stored_runs: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", "--run", "nope"]) == 2
    assert "no run 'nope'" in capsys.readouterr().err


def test_export_journal_round_trips_through_replay(
    stored_runs: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = stored_runs[0]
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        stored = runs.journal(db, first)

    assert cli.main(["export-journal", "--run", first]) == 0
    printed = capsys.readouterr().out
    assert list(parse_jsonl(printed.splitlines())) == stored

    target = tmp_path / "run.jsonl"
    assert cli.main(["export-journal", "--run", first, "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == printed
    capsys.readouterr()
    assert cli.main(["replay", str(target), "--json"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert replayed == rules.summarize(stored)
    assert replayed["questions"] == 10 and replayed["correct"] == 9


def test_export_journal_unknown_run(
    stored_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["export-journal", "--run", "nope"]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
