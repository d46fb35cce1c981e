"""`companion export-journal --run ID [-o FILE]`: a run's journal in the replay format.

Writes JSON Lines (learning-rules.md section 1) to stdout, or to FILE. Exit status 0, or 2
when the database or the run does not exist.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from companion.commands._database import open_existing
from companion.core.journal import dumps_jsonl
from companion.store import runs, summaries


def register(subparsers: Any, name: str, help_text: str) -> None:
    """Add the `export-journal` subcommand."""
    p = subparsers.add_parser(name, help=help_text, description=help_text)
    p.add_argument("--run", metavar="ID", required=True, help="the run to export")
    p.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export one run's journal; the exit status of the command."""
    db = open_existing(args.env)
    if db is None:
        return 2
    with db:
        try:
            lines = runs.journal(db, args.run)
        except runs.UnknownRun:
            print(f"no run {args.run!r} in {db.path}", file=sys.stderr)
            return 2
        summary = summaries.get(db, args.run)
    if not lines and summary is not None and summary.journal_removed_at:
        print(f"run {args.run}: journal removed on {summary.journal_removed_at[:10]} "
              "(kept for a while after delivery); `companion audit --run` shows its summary",
              file=sys.stderr)
        return 2
    text = dumps_jsonl(lines)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
