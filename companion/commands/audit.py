"""`companion audit`: recompute stored runs from their journals and compare with the outbox.

For every closed run (or the one asked for) the journal is classified and scored again;
the ActivityEvent must carry the same questions, correct answers, XP and mastery, and the
TimeSpentEvents must add up, per category and to the millisecond, to the classification's
totals. Exit status 0 when everything agrees, 1 on any mismatch, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import sys
from decimal import Decimal, InvalidOperation
from typing import Any

from companion.commands._database import open_existing
from companion.core import rules
from companion.core.rules import Category, Classification, Score
from companion.store import runs, summaries
from companion.store.db import Database
from companion.store.run_tables import RunRow

CATEGORIES: tuple[Category, ...] = ("active", "inactive", "waste", "unknown")


def register(subparsers: Any, name: str, help_text: str) -> None:
    """Add the `audit` subcommand."""
    p = subparsers.add_parser(name, help=help_text, description=help_text)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--run", metavar="ID", help="audit only this run")
    which.add_argument("--student", metavar="ID", help="audit only this student's runs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Audit the runs of the environment's database; the exit status of the command."""
    db = open_existing(args.env)
    if db is None:
        return 2
    with db:
        if args.run:
            row = runs.get_run(db, args.run)
            if row is None:
                print(f"no run {args.run!r} in {db.path}", file=sys.stderr)
                return 2
            if row.state != "closed":
                print(f"run {args.run} is still open; nothing to audit yet", file=sys.stderr)
                return 2
            ids = [args.run]
        else:
            ids = runs.closed_run_ids(db, args.student)
        if not ids:
            print("no closed runs to audit")
            return 0
        failed = pending = 0
        for run_id in ids:
            report = audit_run(db, run_id)
            print("\n".join(report.lines))
            print()
            failed += bool(report.mismatches)
            pending += report.pending is not None
    waiting = f" ({pending} with events pending)" if pending else ""
    if failed:
        print(f"{failed} of {len(ids)} runs do not match their journals{waiting}")
        return 1
    print(f"all {len(ids)} runs match their journals{waiting}")
    return 0


class RunAudit:
    """The outcome of auditing one run: printable lines and what did not match."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.lines: list[str] = []
        self.mismatches: list[str] = []
        self.pending: str | None = None


def audit_run(db: Database, run_id: str) -> RunAudit:
    """Recompute one closed run and compare it with its events in the outbox."""
    report = RunAudit(run_id)
    row = runs.get_run(db, run_id)
    if row is None:
        report.mismatches.append("run not found")
        report.lines.append(f"Run {run_id}: not found")
        return report
    summary = summaries.get(db, run_id)
    if summary is not None and summary.journal_removed_at is not None:
        return _audit_summary(report, row, summary, runs.run_events(db, run_id))
    lines = runs.journal(db, run_id)
    classification = rules.classify(lines)
    result = rules.score(lines, classification)
    report.lines.append(
        f"Run {run_id}: student {row.student_id}, lesson {row.lesson_id}, attempt {row.attempt}"
    )
    report.lines.extend("  " + text for text in rules.explain(result))
    if row.xp is not None and _decimal(row.xp) != result.xp:
        report.mismatches.append(f"stored XP {row.xp} != recomputed {result.xp}")
    if row.events_pending_reason is not None:
        report.pending = row.events_pending_reason
        report.lines.append(f"  Events: pending ({row.events_pending_reason})")
        return report
    events = runs.run_events(db, run_id)
    report.mismatches.extend(_check_activity(events, result))
    report.mismatches.extend(_check_time(events, classification))
    if report.mismatches:
        report.lines.extend("  MISMATCH: " + text for text in report.mismatches)
    else:
        report.lines.append("  Events: match the journal")
    return report


def _audit_summary(
    report: RunAudit, row: RunRow, summary: summaries.Summary, events: list[dict[str, Any]]
) -> RunAudit:
    """A run whose journal data care removed: its stored summary against its events."""
    day = summary.journal_removed_at[:10] if summary.journal_removed_at else "?"
    report.lines.append(
        f"Run {row.run_id}: student {row.student_id}, lesson {row.lesson_id}, "
        f"attempt {row.attempt}: journal removed on {day}; from its stored summary"
    )
    report.lines.extend("  " + text for text in summaries.explanation(summary))
    activity = [e for e in events if e.get("type") == "ActivityEvent"]
    expected = {
        "xpEarned": _decimal(summary.xp),
        "totalQuestions": Decimal(summary.questions),
        "correctQuestions": Decimal(summary.correct),
        "masteredUnits": Decimal(1 if summary.mastered else 0),
    }
    if len(activity) != 1:
        report.mismatches.append(f"expected 1 ActivityEvent in the outbox, found {len(activity)}")
    else:
        items = {i.get("type"): i.get("value") for i in activity[0]["generated"]["items"]}
        for key, want in expected.items():
            if _decimal(items.get(key, 0)) != want:
                report.mismatches.append(
                    f"{key}: outbox has {items.get(key)}, summary gives {want}")
    if row.xp is not None and _decimal(row.xp) != _decimal(summary.xp):
        report.mismatches.append(f"stored XP {row.xp} != summary {summary.xp}")
    if report.mismatches:
        report.lines.extend("  MISMATCH: " + text for text in report.mismatches)
    else:
        report.lines.append("  Events: match the stored summary")
    return report


def _check_activity(events: list[dict[str, Any]], result: Score) -> list[str]:
    activity = [e for e in events if e.get("type") == "ActivityEvent"]
    if len(activity) != 1:
        return [f"expected 1 ActivityEvent in the outbox, found {len(activity)}"]
    items = {i.get("type"): i.get("value") for i in activity[0]["generated"]["items"]}
    expected: dict[str, Decimal] = {
        "xpEarned": result.xp,
        "totalQuestions": Decimal(result.questions),
        "correctQuestions": Decimal(result.correct),
        "masteredUnits": Decimal(1 if result.mastered else 0),
    }
    out = []
    for key, want in expected.items():
        got = _decimal(items.get(key, 0))
        if got != want:
            out.append(f"{key}: outbox has {items.get(key)}, journal gives {want}")
    return out


def _check_time(events: list[dict[str, Any]], classification: Classification) -> list[str]:
    sums = dict.fromkeys(CATEGORIES, Decimal(0))
    for event in events:
        if event.get("type") != "TimeSpentEvent":
            continue
        for item in event["generated"]["items"]:
            category = item.get("type")
            if category not in sums:
                return [f"unknown time category {category!r} in event {event.get('id')}"]
            sums[category] += _decimal(item.get("value")) * 1000
    out = []
    for category in CATEGORIES:
        want = classification.total(category)
        if sums[category] != want:
            out.append(f"{category} time: outbox has {sums[category]} ms, journal gives {want} ms")
    return out


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal("NaN")
