"""How ``tests/data/v1-sample.sqlite3`` was made: with the code of commit 53cac6f (schema 1).

The file is kept in the repository as it was made, because later code writes later schemas;
this script documents it and can only reproduce it on that commit:
``git checkout 53cac6f && python -m tests.store.make_v1_sample tests/data/v1-sample.sqlite3``.

What it holds (the migration tests count on it): the roster's two students, two lessons,
two closed runs with their events delivered or pending, one run left open (a crash), a
refused event, one student's PIN, and the lease of a process that is gone.
"""

from __future__ import annotations

import sys
from pathlib import Path

from companion.core import pins as core_pins
from companion.core.journal import Line
from companion.session import closing
from companion.store import outbox, pins, runs
from companion.store.db import Database
from companion.store.lease import Lease
from tests.store.run_child import ANCHOR, CTX, LESSON, NEXT_LESSON, STUDENT, seed


def main(path: str) -> int:
    target = Path(path)
    target.unlink(missing_ok=True)
    db = Database.open(target, "sandbox")
    seed(db)
    work = [Line(t, "input") for t in range(30_000, 600_001, 30_000)]
    answers = [Line(1_000 + i * 10_000, "answer", item=f"q{i}", correct=i != 3) for i in range(10)]
    body = sorted(work + answers, key=lambda line: line.t)
    first = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
    runs.append_many(db, first, body)
    closing.close_run(db, first, completed=True, at_ms=600_000, ctx=CTX)
    second = runs.open_run(db, STUDENT, NEXT_LESSON, anchor=ANCHOR.replace(hour=10))
    runs.append_many(db, second, body[:12])
    closing.close_run(db, second, completed=False, at_ms=200_000, ctx=CTX)
    # the first run's events were delivered, one of the second's refused
    items = outbox.list_items(db)
    first_ids = [i.id for i in items if i.run_id == first and i.id is not None]
    outbox.mark_acked(db, first_ids, now=ANCHOR)
    left = [i for i in outbox.list_items(db) if i.state == "pending" and i.kind == "caliper"]
    assert left[0].id is not None
    outbox.mark_dead(db, left[0].id, "400: refused for the sample", now=ANCHOR)
    crashed = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR.replace(hour=11))
    runs.append_many(db, crashed, body[:6])
    pins.set_pin(db, STUDENT, core_pins.hash_pin("1234"), ANCHOR)
    Lease(db, name="owner", ttl_s=30).try_acquire()
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
