"""`companion report`: the guide's report for a range of days, as CSV or a printable PDF.

It asks for a guide's PIN first (from the terminal; a line on standard input when that is
not a terminal). ``--csv`` writes one row per student and day, ``--attempts-csv`` one row
per attempt, ``--pdf`` the page the guide view prints. Exit status 0 on success, 1 when
the PIN is refused, 2 for a usage error (bad dates, no database, no guide).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from companion.commands._database import open_existing
from companion.config import ConfigError, load_config
from companion.core import periods
from companion.core.clock import SystemClock
from companion.core.report import Report
from companion.core.report_rows import (
    ATTEMPT_COLUMNS,
    STUDENT_DAY_COLUMNS,
    attempt_rows,
    student_day_rows,
)
from companion.session.report import build_report
from companion.session.signin import SignInService
from companion.store import roster
from companion.store.db import Database

_APP: object = None  # the QApplication a PDF export made (one per process)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
             help_text: str) -> None:
    """Add the `report` subcommand."""
    p = subparsers.add_parser(name, help=help_text, description=help_text)
    p.add_argument("--from", dest="first", required=True, metavar="DATE",
                   help="first day (YYYY-MM-DD)")
    p.add_argument("--to", dest="last", required=True, metavar="DATE",
                   help="last day, included (YYYY-MM-DD)")
    p.add_argument("--class", dest="class_id", metavar="ID", help="only this class's students")
    p.add_argument("--guide", metavar="ID",
                   help="the guide whose PIN is asked (default: the only guide with a PIN)")
    p.add_argument("--time-zone", metavar="ZONE",
                   help="days in this zone (default: [report] time_zone, else this computer's)")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("--csv", type=Path, metavar="FILE", help="one row per student and day")
    out.add_argument("--attempts-csv", type=Path, metavar="FILE", help="one row per attempt")
    out.add_argument("--pdf", type=Path, metavar="FILE", help="the printable page")
    p.set_defaults(func=run)


def read_pin(stdin: TextIO | None = None) -> str:
    """The guide's PIN: hidden from the terminal, or a line of standard input."""
    stream = stdin or sys.stdin
    if stream.isatty():
        return getpass.getpass("Guide PIN: ")
    return stream.readline().strip()


def _guide_id(db: Database, asked: str | None) -> tuple[str | None, str]:
    """The guide to check, or (None, why not)."""
    guides = SignInService(db, SystemClock()).guides()
    if asked:
        if any(g.id == asked for g in guides):
            return asked, ""
        return None, f"{asked!r} is not a guide who can sign in on this computer"
    with_pin = [g for g in guides if g.has_pin]
    if len(with_pin) == 1:
        return with_pin[0].id, ""
    if not with_pin:
        return None, "no guide has a PIN on this computer yet (set one in the app)"
    names = ", ".join(f"{g.id} ({g.display_name})" for g in with_pin)
    return None, f"several guides have a PIN; name yours with --guide ID: {names}"


def run(args: argparse.Namespace) -> int:
    """Check the guide's PIN, build the report and write the file asked for."""
    try:
        period = periods.between(args.first, args.last)
        zone_name = args.time_zone
        if zone_name is None:
            try:
                zone_name = load_config().time_zone
            except ConfigError as exc:
                print(f"warning: {exc}; days in this computer's time zone", file=sys.stderr)
        tz = periods.time_zone(zone_name)
    except periods.PeriodError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    db = open_existing(args.env)
    if db is None:
        return 2
    with db:
        if args.class_id and roster.get_class(db, args.class_id) is None:
            print(f"error: no class {args.class_id!r} in this computer's roster", file=sys.stderr)
            return 2
        guide_id, why = _guide_id(db, args.guide)
        if guide_id is None:
            print(f"error: {why}", file=sys.stderr)
            return 2
        checked = SignInService(db, SystemClock()).sign_in_guide(guide_id, read_pin())
        if not checked.ok:
            reason = ("too many wrong PINs; wait and try again" if checked.status == "locked_out"
                      else checked.message or "the guide PIN is not right")
            print(f"error: {reason}", file=sys.stderr)
            return 1
        report = build_report(db, period, tz=tz, class_id=args.class_id)
        title = _title(db, args.class_id)
    target = args.csv or args.attempts_csv or args.pdf
    if args.csv:
        _write_csv(args.csv, STUDENT_DAY_COLUMNS, student_day_rows(report))
    elif args.attempts_csv:
        _write_csv(args.attempts_csv, ATTEMPT_COLUMNS, attempt_rows(report))
    else:
        write_pdf_offscreen(report, args.pdf, title)
    print(f"wrote {target}: {len(report.students)} students, {period.label()}")
    return 0


def _title(db: Database, class_id: str | None) -> str:
    if class_id is None:
        return "Report: every student on this computer"
    cls = roster.get_class(db, class_id)
    return f"Report: {cls.title if cls and cls.title else class_id}"


def _write_csv(path: Path, columns: Sequence[str], rows: list[list[str]]) -> None:
    from companion.ui.report_print import write_csv

    write_csv(path, columns, rows)


def write_pdf_offscreen(report: Report, path: Path, title: str) -> None:
    """The printable page through Qt, with an application made offscreen when none runs."""
    import os

    from PySide6.QtWidgets import QApplication

    from companion.app import has_display

    global _APP
    if QApplication.instance() is None:
        if not has_display():
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        _APP = QApplication([])  # kept for the process: Qt allows one, made once
    from companion.ui.charts import DayPicture
    from companion.ui.report_print import write_pdf

    chart = DayPicture(report.days, report.goal_minutes, "Minutes and XP per day")
    write_pdf(report, path, title, [("chart-class.png", chart.image(1100, 340))])
