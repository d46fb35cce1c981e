"""``companion outbox``: list, show, retry and release deliveries.

* ``list [--state S]`` — a table of rows with their state and reason (default: every row
  not delivered: pending, in flight, settling, held and refused; ``--state all`` for every
  row). States: pending, in_flight, settling, held, delivered, refused; the older names
  ``acked`` (delivered) and ``dead`` (refused) are accepted;
* ``show ID`` — one row: its fields, its reason and its payload pretty-printed;
* ``retry ID`` — put a refused row back in the queue (pending, due now, attempts reset);
* ``release ID... | --all`` — let held rows go after reading why they are held: they are
  sent with the next sync (for a batch held because read-back could not be trusted, that
  may store a second copy if the first did arrive).

Exit status: 0 on success, 2 for a usage error (unknown id, a row in another state, no
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
from companion.store.tables import OLD_STATE_NAMES, DeliveryState, OutboxItem, delivery_state

STATES = [state.value for state in DeliveryState]
WAITING = "waiting"  # every row not delivered (the default listing)
ERROR_WIDTH = 60


def _state_name(text: str) -> str:
    """A ``--state`` value: a state (old names accepted), ``all`` or ``waiting``."""
    if text in ("all", WAITING):
        return text
    try:
        return delivery_state(text).value
    except ValueError:
        names = ", ".join([*STATES, *OLD_STATE_NAMES, WAITING, "all"])
        raise argparse.ArgumentTypeError(f"unknown state {text!r} (one of {names})") from None


def register(subparsers: Any, name: str, help_text: str) -> None:
    """Add ``outbox`` with its ``list``, ``show`` and ``retry`` actions."""
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text,
                                                       description=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    listing = actions.add_parser("list", help="list deliveries (default: every one not "
                                 "delivered, with its state and reason)")
    listing.add_argument("--state", type=_state_name, default=WAITING,
                         help=f"which rows to list: {', '.join(STATES)}, waiting (default: "
                         "all but delivered) or all; acked and dead are the older names")
    listing.add_argument("--limit", type=int, default=None, help="at most this many rows")
    show = actions.add_parser("show", help="one delivery: payload and last error")
    show.add_argument("id", type=int, metavar="ID")
    retry = actions.add_parser("retry", help="send a refused delivery again")
    retry.add_argument("id", type=int, metavar="ID")
    release = actions.add_parser("release", help="let held deliveries go (read why first: "
                                 "`companion outbox list --state held`)")
    release.add_argument("ids", type=int, nargs="*", metavar="ID")
    release.add_argument("--all", action="store_true", help="every held delivery")
    p.set_defaults(func=run, action=None)


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%SZ")


def _one_line(text: str | None, width: int = ERROR_WIDTH) -> str:
    if not text:
        return "-"
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def format_table(rows: list[OutboxItem]) -> str:
    """The rows as a plain-text table (id, kind, state, event id, attempts, reason, updated).

    The reason is the hold reason of a held row, else its last error."""
    header = ("ID", "KIND", "STATE", "EVENT ID", "ATTEMPTS", "REASON", "UPDATED")
    cells = [
        (str(r.id), r.kind, DeliveryState(r.state).value, r.event_id, str(r.attempts),
         _one_line(r.hold_reason or r.last_error), _when(r.updated_at))
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
        f"state:        {DeliveryState(item.state).value}",
        f"held because: {item.hold_reason or '-'}",
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
    wanted: str | list[DeliveryState] | None
    if args.state == "all":
        wanted, label = None, ""
    elif args.state == WAITING:
        wanted, label = [*outbox.UNDONE, DeliveryState.REFUSED], "undelivered "
    else:
        wanted, label = args.state, f"{args.state} "
    rows = outbox.list_items(db, wanted, args.limit)
    if not rows:
        print(f"no {label}deliveries", file=out)
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
    if item.state != DeliveryState.REFUSED:
        print(f"error: delivery {args.id} is {DeliveryState(item.state).value}, not refused; "
              "only refused deliveries can be retried", file=err)
        return 2
    if not outbox.retry_dead(db, args.id):
        print(f"error: delivery {args.id} changed state meanwhile; nothing done", file=err)
        return 2
    print(f"delivery {args.id} ({item.event_id}) is pending again with its attempts reset; "
          "it goes out with the next sync", file=out)
    return 0


def _release(db: Database, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.all:
        ids = [r.id for r in outbox.list_items(db, DeliveryState.HELD) if r.id is not None]
    else:
        ids = list(args.ids)
    if not ids:
        print("error: name the held deliveries to release (IDs), or --all", file=err)
        return 2
    for row_id in ids:
        item = outbox.get(db, row_id)
        if item is None:
            print(f"error: no delivery with id {row_id}", file=err)
            return 2
        if item.state != DeliveryState.HELD:
            print(f"error: delivery {row_id} is {DeliveryState(item.state).value}, not held",
                  file=err)
            return 2
    released = sum(outbox.release_held_row(db, row_id) for row_id in ids)
    print(f"{released} held deliveries released; they go out with the next sync", file=out)
    return 0


def run(args: argparse.Namespace, *, stdout: TextIO | None = None,
        stderr: TextIO | None = None) -> int:
    """Carry out the outbox action; the exit status."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    action = args.action or "list"
    if action == "list" and not hasattr(args, "state"):
        args.state, args.limit = WAITING, None
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
        if action == "release":
            return _release(db, args, out, err)
        return _retry(db, args, out, err)
