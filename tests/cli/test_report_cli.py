"""`companion report`: the guide's PIN first, then CSV per student and day, per attempt, PDF."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from companion import cli
from companion.core.clock import FakeClock
from companion.core.report_rows import ATTEMPT_COLUMNS, STUDENT_DAY_COLUMNS
from companion.session.signin import SignInService
from companion.store import paths
from companion.store.db import Database
from tests.session.report_seed import CLASS_ID, TEACHER, Study, record, seed_roster, student_id

GUIDE_PIN = "4812"


@pytest.fixture
def class_db() -> None:
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        seed_roster(db, 2)
        clock = FakeClock(datetime(2026, 3, 1, tzinfo=UTC))
        assert SignInService(db, clock).set_guide_pin(TEACHER, GUIDE_PIN).ok
        record(db, Study(student_id(0), "add-1", datetime(2026, 3, 2, 9, tzinfo=UTC), 10,
                         (True,) * 5))
        record(db, Study(student_id(0), "add-2", datetime(2026, 3, 3, 9, tzinfo=UTC), 6,
                         (True, False, True, True)))
        record(db, Study(student_id(1), "add-1", datetime(2026, 3, 3, 10, tzinfo=UTC), 4, (),
                         completed=False))


def run_report(monkeypatch: pytest.MonkeyPatch, pin: str, *args: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(pin + "\n"))
    return cli.main(["report", "--from", "2026-03-02", "--to", "2026-03-04",
                     "--time-zone", "UTC", *args])


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_one_row_per_student_and_day(
    class_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "days.csv"
    assert run_report(monkeypatch, GUIDE_PIN, "--class", CLASS_ID, "--csv", str(out)) == 0
    rows = read_csv(out)
    assert list(rows[0]) == list(STUDENT_DAY_COLUMNS)
    assert len(rows) == 2 * 3  # two students, three days
    first = {r["date"]: r for r in rows if r["student id"] == student_id(0)}
    assert first["2026-03-02"]["attempts"] == "1" and first["2026-03-04"]["attempts"] == "0"
    assert float(first["2026-03-02"]["focused minutes"]) > 9
    assert first["2026-03-02"]["goal met"] == "no"  # 10 of 20 minutes
    # a run with no answer that did not complete is no attempt, its minutes still count
    second = {r["date"]: r for r in rows if r["student id"] == student_id(1)}
    assert second["2026-03-03"]["attempts"] == "0"


def test_one_row_per_attempt_with_right_and_wrong(
    class_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "attempts.csv"
    assert run_report(monkeypatch, GUIDE_PIN, "--attempts-csv", str(out)) == 0
    rows = read_csv(out)
    assert list(rows[0]) == list(ATTEMPT_COLUMNS)
    assert [(r["lesson id"], r["accuracy"]) for r in rows] == [("add-1", "100 %"),
                                                                ("add-2", "75 %")]
    assert rows[1]["wrong"] == "q2" and rows[1]["right"] == "q1 q3 q4"
    assert "80 % gate: failed" in rows[1]["xp explanation"]


def test_a_printable_page(class_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "report.pdf"
    assert run_report(monkeypatch, GUIDE_PIN, "--class", CLASS_ID, "--pdf", str(out)) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5_000


def test_a_wrong_pin_writes_nothing(
    class_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "days.csv"
    assert run_report(monkeypatch, "0000", "--csv", str(out)) == 1
    assert not out.exists()
    assert "PIN" in capsys.readouterr().err


def test_bad_dates_and_classes_say_why(
    class_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(GUIDE_PIN + "\n"))
    assert cli.main(["report", "--from", "2026-03-32", "--to", "2026-04-01",
                     "--csv", str(tmp_path / "x.csv")]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err
    assert run_report(monkeypatch, GUIDE_PIN, "--class", "nope", "--csv",
                      str(tmp_path / "x.csv")) == 2
    assert "no class 'nope'" in capsys.readouterr().err


def test_attempts_from_other_computers_are_marked_in_both_files(
    class_db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from companion.core import results
    from companion.core.caliper import DEFAULT_APP
    from companion.store import remote_results
    from companion.store.progress_merge import lessons_by_line_item
    from tests.results.helpers import PERFECT

    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        info = results.RunResult(DEFAULT_APP.app_id, student_id(0), "add-3", "run-on-pc-3",
                                 "2026-03-04T08:00:00.000Z")
        record = results.result_payload(info, PERFECT)  # 10 XP, as read at a sign-in
        lessons = lessons_by_line_item(db, DEFAULT_APP.app_id)
        assert remote_results.keep_for_student(db, student_id(0), [record], lessons) == 1
    attempts_csv, days_csv = tmp_path / "attempts.csv", tmp_path / "days.csv"
    assert run_report(monkeypatch, GUIDE_PIN, "--attempts-csv", str(attempts_csv)) == 0
    assert run_report(monkeypatch, GUIDE_PIN, "--csv", str(days_csv)) == 0
    rows = read_csv(attempts_csv)
    assert [(r["lesson id"], r["source"]) for r in rows] == [
        ("add-1", "this computer"), ("add-2", "this computer"), ("add-3", "other computer")]
    assert rows[2]["xp"] == "10.0" and rows[2]["focused minutes"] == ""
    day = next(r for r in read_csv(days_csv)
               if r["student id"] == student_id(0) and r["date"] == "2026-03-04")
    assert (day["xp"], day["xp elsewhere"], day["attempts"]) == ("10.0", "10.0", "1")
