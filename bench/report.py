"""The guide's report on a month of a big class: 100 students × 30 days × 4 lessons a day,
every run recorded and closed through the store (journal, events, gradebook result, summary).

Times the month's class report (from the stored run summaries) with the table filled in the
guide view, and one student's chart drawn offscreen; reports the database size and how it
grows per student-hour of study. Run: ``.venv/bin/python -m bench.report [--students N]
[--days N] [--per-day N]``. Targets: report under 1 s, chart under 0.3 s.
The last line is JSON: report_s, chart_s, db_mb, runs, student_hours, mb_per_student_hour,
and the megabytes of the journals, the outbox and the summaries (journal_mb, outbox_mb,
summary_mb): what data care removes, what delivery keeps, what stays for good.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

GROUPS = {
    "journal": ("journal_lines", "sqlite_autoindex_journal_lines_1"),
    "outbox": ("outbox", "sqlite_autoindex_outbox_1", "ix_outbox_run_id", "ix_outbox_state",
               "ix_outbox_kind", "ix_outbox_next_attempt_at"),
    "summary": ("run_summaries", "run_answers", "sqlite_autoindex_run_answers_1",
                "sqlite_autoindex_run_summaries_1", "ix_run_summaries_student_id",
                "ix_run_summaries_started_at"),
}


def table_sizes_mb(path: Path) -> dict[str, float]:
    """Megabytes of the journals, the outbox and the summaries (SQLite's dbstat, if built)."""
    import sqlite3

    try:
        with sqlite3.connect(path) as con:
            pages = dict(con.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"))
    except sqlite3.Error:
        return {}
    return {group: round(sum(pages.get(n, 0) for n in names) / 1e6, 1)
            for group, names in GROUPS.items()}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--per-day", type=int, default=4)
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep the database in this folder, and reuse it when it is there")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from companion.core import periods
    from companion.session import closing
    from companion.session.report import build_report
    from companion.store.db import Database
    from companion.ui.charts import DayChart
    from companion.ui.guide_report import ReportPanel
    from tests.session.report_seed import CATALOGUE, CLASS_ID, month_of_study, seed_roster

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert app is not None
    first = datetime(2026, 3, 2, tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="companion-report-bench-") as scratch:
        tmp = str(args.keep or scratch)
        Path(tmp).mkdir(parents=True, exist_ok=True)
        path = Path(tmp) / "companion-sandbox.sqlite3"
        reuse = path.exists()
        with Database.open(path, "sandbox") as db:
            count = args.students * args.days * args.per_day
            if not reuse:
                seed_roster(db, args.students)
                started = time.perf_counter()
                count = month_of_study(db, args.students, args.days, args.per_day, first)
                seed_s = time.perf_counter() - started
                print(f"recorded {count} runs in {seed_s:.1f} s", file=sys.stderr)
            closing.backfill_summaries(db)
            month = periods.Period(first.date(), periods.parse_day("2026-03-31"))
            table = ReportPanel()
            table.build = lambda period, class_id: build_report(
                db, period, tz=UTC, class_id=class_id, catalogue=CATALOGUE)
            table.set_classes([(CLASS_ID, "Class 3A")])
            loop = QEventLoop()
            table.report_shown.connect(loop.quit)
            started = time.perf_counter()
            table.set_period(month)  # built off the UI thread, then shown
            loop.exec()
            report_s = time.perf_counter() - started
            report = table.current
            assert report is not None and len(report.students) == args.students
            chart = DayChart()
            chart.resize(900, 320)
            started = time.perf_counter()
            one = build_report(db, month, tz=UTC, student_ids=[report.students[0].student_id])
            chart.set_days(one.students[0].days, one.goal_minutes, one.students[0].name)
            image = chart.grab()
            chart_s = time.perf_counter() - started
            assert not image.isNull()
            focused_ms = sum(s.minutes["focused"] for s in report.students) * 60_000
            table.close()
            chart.close()
            del table, chart, image
        size_mb = sum(p.stat().st_size for p in Path(tmp).glob(path.name + "*")) / 1e6
        parts = table_sizes_mb(path)
    student_hours = focused_ms / 3_600_000
    print(json.dumps({
        "report_s": round(report_s, 3),
        "chart_s": round(chart_s, 3),
        "db_mb": round(size_mb, 1),
        "runs": count,
        "student_hours": round(student_hours, 1),
        "mb_per_student_hour": round(size_mb / student_hours, 3) if student_hours else None,
        **{f"{name}_mb": value for name, value in parts.items()},
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
