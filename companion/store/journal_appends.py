"""Journal lines streamed by many clients, written together: one transaction for all the
lines that arrive while the previous write is still on its way to the disk.

``apply_appends(session, appends)`` checks each append against its run (open, no gap, time
never going backwards) and inserts the lines of every append that passes with one Core
``INSERT`` (an executemany, no ORM objects). An append that fails leaves nothing behind;
the others are written anyway: the outcome of each is its own.

``GroupedAppends`` is the service's way in: ``append`` queues the lines and waits for their
commit. The first append to find nothing queued asks the database's writer thread for a
write; every append queued until that write starts joins it. So a line is acknowledged only
after the transaction holding it has committed, and 30 lessons streaming at once cost one
commit (one fsync) per round instead of one per line.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlmodel import Session

from companion.core.journal import Line
from companion.store.db import Database, PendingWrite
from companion.store.run_tables import JournalLineRow, RunRow
from companion.store.runs import RunClosed, RunError, UnknownRun

_LINES = JournalLineRow.__table__  # type: ignore[attr-defined]
_RUNS = RunRow.__table__  # type: ignore[attr-defined]
_TAIL = (
    select(_LINES.c.seq, _LINES.c.t_ms)
    .where(_LINES.c.run_id == bindparam("run_id"))
    .order_by(_LINES.c.seq.desc())
    .limit(1)
)
_STATE = select(_RUNS.c.state).where(_RUNS.c.run_id == bindparam("run_id"))


class SequenceGap(RunError):
    """Lines were sent past the journal's end: ``expected`` is the next seq it takes."""

    def __init__(self, expected: int, got: int) -> None:
        super().__init__(f"journal line {got} sent, {expected} expected next")
        self.expected = expected
        self.got = got


@dataclass(frozen=True, slots=True)
class Append:
    """Lines for journal seqs ``first_seq``, ``first_seq + 1``, ... of run ``run_id``."""

    run_id: str
    first_seq: int
    lines: Sequence[Line]


def check_lines(first_seq: int, lines: Sequence[Line]) -> None:
    """ValueError for what no run takes: seqs before 1, `start` and `end` lines."""
    if first_seq < 1:
        raise ValueError("the app's journal lines count from 1")
    for line in lines:
        if line.kind in ("start", "end"):
            raise ValueError(f"{line.kind!r} lines are written by the service")


def apply_appends(session: Session, appends: Sequence[Append]) -> list[int | Exception]:
    """Write ``appends`` in the caller's transaction; for each, the last seq its journal now
    holds, or why nothing of it was written (UnknownRun, RunClosed, SequenceGap,
    ValueError). Lines whose seq is already stored are skipped (a re-send)."""
    conn = session.connection()
    tails: dict[str, tuple[int, int]] = {}  # run id -> (last seq, its t), this batch included
    rows: list[dict[str, Any]] = []
    outcomes: list[int | Exception] = []
    for append in appends:
        try:
            check_lines(append.first_seq, append.lines)
            tail = tails.get(append.run_id)
            if tail is None:
                state = conn.execute(_STATE, {"run_id": append.run_id}).scalar()
                if state is None:
                    raise UnknownRun(append.run_id)
                if state != "open":
                    raise RunClosed(append.run_id)
                found = conn.execute(_TAIL, {"run_id": append.run_id}).first()
                tail = (-1, 0) if found is None else (found[0], found[1])
            last_seq, last_t = tail
            new: list[dict[str, Any]] = []
            for offset, line in enumerate(append.lines):
                seq = append.first_seq + offset
                if seq <= last_seq:
                    continue
                if seq != last_seq + 1:
                    raise SequenceGap(last_seq + 1, seq)
                if line.t < last_t:
                    raise ValueError(f"t goes backwards: {line.t} ms after {last_t} ms")
                new.append(_row(append.run_id, seq, line))
                last_seq, last_t = seq, line.t
        except (RunError, ValueError) as exc:
            outcomes.append(exc)
            continue
        tails[append.run_id] = (last_seq, last_t)
        rows.extend(new)
        outcomes.append(last_seq)
    if rows:
        conn.execute(insert(_LINES), rows)
    return outcomes


def _row(run_id: str, seq: int, line: Line) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "seq": seq,
        "t_ms": line.t,
        "kind": line.kind,
        "data": json.dumps(line.to_json(), ensure_ascii=False),
    }


@dataclass
class _Queued:
    append: Append
    done: Future[int] = field(default_factory=Future)


class GroupedAppends:
    """Appends from many threads, grouped into one write per round (thread-safe)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._queued: list[_Queued] = []

    def append(self, run_id: str, first_seq: int, lines: Sequence[Line]) -> int:
        """Store ``lines`` as journal seqs ``first_seq``, ... of an open run, in a write
        shared with the appends queued beside it; returns once it has committed: the last
        seq the journal holds. Raises what ``apply_appends`` gives for it (or the write's
        own failure, e.g. a full disk, for every append of the write)."""
        item = _Queued(Append(run_id, first_seq, tuple(lines)))
        with self._lock:
            self._queued.append(item)
            first = len(self._queued) == 1
        if first:
            taken: list[_Queued] = []
            try:
                future = self._db.submit(lambda session: self._write(session, taken))
            except Exception as exc:
                self._fail(self._take(), exc)
            else:
                future.add_done_callback(lambda f: self._settle(f, taken))
        return item.done.result()

    def _take(self) -> list[_Queued]:
        with self._lock:
            taken, self._queued = self._queued, []
        return taken

    def _write(self, session: Session, taken: list[_Queued]) -> list[int | Exception]:
        taken.extend(self._take())  # whatever queued up until the writer got here
        return apply_appends(session, [item.append for item in taken])

    def _settle(self, future: Future[list[int | Exception]], taken: list[_Queued]) -> None:
        """On the writer thread, after the commit (or the rollback)."""
        try:
            outcomes = PendingWrite(future, self._db.path).result()
        except BaseException as exc:
            self._fail(taken, exc)
            return
        for item, outcome in zip(taken, outcomes, strict=True):
            if isinstance(outcome, Exception):
                item.done.set_exception(outcome)
            else:
                item.done.set_result(outcome)

    @staticmethod
    def _fail(items: list[_Queued], exc: BaseException) -> None:
        for item in items:
            if not item.done.done():
                item.done.set_exception(exc)
