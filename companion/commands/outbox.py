"""``companion outbox``: list, show and retry deliveries, dead letters above all.

* ``list [--state S]`` — a table of rows (default: dead ones; ``--state all`` for every row);
* ``show ID`` — one row: its fields, its last error and its payload pretty-printed;
* ``retry ID`` — put a dead row back in the queue (pending, due now, attempts reset).

Exit status: 0 on success, 2 for a usage error (unknown id, a row that is not dead, no
database), 1 when the database cannot be opened.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any, TextIO

from companion.config import ConfigError, load_config
from companion.store import outbox, paths
from companion.store.db import Database, StoreError
from companion.store.tables import OutboxItem, OutboxState

STATES = [state.value for state in OutboxState]
ERROR_WIDTH = 60


def register(subparsers: Any, name: str, help_text: str) -> None:
    """Add ``outbox`` with its ``list``, ``show`` and ``retry`` actions."""
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text,
                                                       description=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="list deliveries (default: the dead ones)")
    listing.add_argument("--state", choices=[*STATES, "all"], default=OutboxState.DEAD.value,
                         help="which rows to list (default: dead)")
    listing.add_argument("--limit", type=int, default=None, help="at most this many rows")
    show = actions.add_parser("show", help="one delivery: payload and last error")
    show.add_argument("id", type=int, metavar="ID")
    retry = actions.add_parser("retry", help="send a dead delivery again")
    retry.add_argument("id", type=int, metavar="ID")
    p.set_defaults(func=run, action=None)


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%SZ")


def _one_line(text: str | None, width: int = ERROR_WIDTH) -> str:
    if not text:
        return "-"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def format_table(rows: list[OutboxItem]) -> str:
    """The rows as a plain-text table (id, kind, event id, attempts, last error, updated)."""
    header = ("ID", "KIND", "EVENT ID", "ATTEMPTS", "LAST ERROR", "UPDATED")
    cells = [
        (str(r.id), r.kind, r.event_id, str(r.attempts), _one_line(r.last_error),
         _when(r.updated_at))
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(col.ljust(w) for col, w in zip(line, widths, strict=True)).rstrip()
             for line in (header, *cells)]
    return "\n".join(lines)


def format_item(item: OutboxItem) -> str:
    """One row in full, payload pretty-printed."""
    try:
        payload = json.dumps(json.loads(item.payload), indent=2, ensure_ascii=False)
    except json.JSONDecodeError:
        payload = item.payload
    lines = [
        f"id:           {item.id}",
        f"kind:         {item.kind}",
        f"event id:     {item.event_id}",
        f"state:        {item.state}",
        f"attempts:     {item.attempts}",
        f"run:          {item.run_id or '-'}",
        f"created:      {_when(item.created_at)}",
        f"updated:      {_when(item.updated_at)}",
        f"next attempt: {_when(item.next_attempt_at)}",
        f"settling to:  {_when(getattr(item, 'settle_until', None))}",
        f"acked:        {_when(item.acked_at)}",
        f"job:          {item.job_id or '-'}",
        "last error:",
        f"  {item.last_error}" if item.last_error else "  -",
        "payload:",
        payload,
    ]
    return "\n".join(lines)


def _list(db: Database, args: argparse.Namespace, out: TextIO) -> int:
    state = None if args.state == "all" else args.state
    rows = outbox.list_items(db, state, args.limit)
    if not rows:
        print(f"no {'' if state is None else state + ' '}deliveries", file=out)
        return 0
    print(format_table(rows), file=out)
    return 0


def _show(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    item = outbox.get(db, args.id)
    if item is None:
        print(f"error: no delivery with id {args.id}", file=err)
        return 2
    print(format_item(item), file=out)
    return 0


def _retry(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    item = outbox.get(db, args.id)
    if item is None:
        print(f"error: no delivery with id {args.id}", file=err)
        return 2
    if item.state != OutboxState.DEAD.value:
        print(f"error: delivery {args.id} is {item.state}, not dead; only dead deliveries "
              "can be retried", file=err)
        return 2
    if not outbox.retry_dead(db, args.id):
        print(f"error: delivery {args.id} changed state meanwhile; nothing done", file=err)
        return 2
    print(f"delivery {args.id} ({item.event_id}) is pending again with its attempts reset; "
          "it goes out with the next sync", file=out)
    return 0


def run(args: argparse.Namespace, *, stdout: TextIO | None = None,
        stderr: TextIO | None = None) -> int:
    """Carry out the outbox action; the exit status."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    action = args.action or "list"
    if action == "list" and not hasattr(args, "state"):
        args.state, args.limit = OutboxState.DEAD.value, None
    try:
        env: str = args.env or load_config().environment
    except ConfigError as exc:
        print(f"error: {exc}", file=err)
        return 1
    path = paths.database_path(env)
    if not path.exists():
        if action == "list":
            print(f"no database for the {env} environment yet ({path}); nothing queued",
                  file=out)
            return 0
        print(f"error: no database for the {env} environment at {path}", file=err)
        return 2
    try:
        db = Database.open(path, env)
    except StoreError as exc:
        print(f"error: cannot open {path}: {exc}", file=err)
        return 1
    with db:
        if action == "list":
            return _list(db, args, out)
        if action == "show":
            return _show(db, args, out, err)
        return _retry(db, args, out, err)
