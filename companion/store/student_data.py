"""One student's data on this computer: what is kept, what still waits, export and erase.

Export is plain JSON (runs, summaries, per-question results, journals, progress, deliveries
and whether a PIN is set: never the PIN's hash or salt). Erase removes all of it in one
write; anything not yet delivered stops it unless the caller discards it explicitly
(``StillWaiting`` lists it). The roster entry stays: it comes back with every refresh.
"""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, col, select

from companion.core.library_types import Kept, Waiting
from companion.store.db import Database
from companion.store.pins import PinRow
from companion.store.run_tables import (
    JournalLineRow,
    LessonRow,
    ProgressRow,
    RunAnswerRow,
    RunRow,
    RunSummaryRow,
)
from companion.store.tables import OutboxItem, OutboxState, RosterUser

FORMAT = "timeback-companion student data 1"


class StillWaiting(Exception):
    """Erase refused: these are not delivered yet (wait for them, or discard them)."""

    def __init__(self, waiting: tuple[Waiting, ...]) -> None:
        super().__init__(f"{len(waiting)} deliveries still wait")
        self.waiting = waiting


def _run_ids(session: Session, student_id: str) -> list[str]:
    return list(session.exec(select(RunRow.run_id).where(RunRow.student_id == student_id)).all())


def _waiting(session: Session, student_id: str) -> tuple[Waiting, ...]:
    titles = {row.id: row.title or row.id for row in session.exec(select(LessonRow)).all()}
    runs = {r.run_id: r for r in session.exec(
        select(RunRow).where(RunRow.student_id == student_id)).all()}
    out: list[Waiting] = []
    for run in runs.values():
        if run.state == "closed" and run.events_pending_reason is not None:
            out.append(Waiting(run.run_id, run.lesson_id, titles.get(run.lesson_id, run.lesson_id),
                               "events not built", "waiting", run.events_pending_reason))
        elif run.state == "open":
            out.append(Waiting(run.run_id, run.lesson_id, titles.get(run.lesson_id, run.lesson_id),
                               "open run", "open", None))
    if runs:
        rows = session.exec(
            select(OutboxItem)
            .where(col(OutboxItem.run_id).in_(list(runs)))
            .where(OutboxItem.state != OutboxState.DELIVERED.value)
            .order_by(col(OutboxItem.id))
        ).all()
        for row in rows:
            run = runs[str(row.run_id)]
            out.append(Waiting(run.run_id, run.lesson_id, titles.get(run.lesson_id, run.lesson_id),
                               row.kind, row.state, row.last_error))
    return tuple(sorted(out, key=lambda w: (w.lesson_title, w.run_id, w.what)))


def kept(db: Database, student_id: str) -> Kept:
    """What this computer holds of the student, and what is still waiting."""
    with db.read() as session:
        ids = _run_ids(session, student_id)
        lines = delivered = 0
        if ids:
            conn = session.connection()
            marks = ",".join("?" * len(ids))
            lines = int(conn.exec_driver_sql(
                f"SELECT COUNT(*) FROM journal_lines WHERE run_id IN ({marks})", tuple(ids)
            ).scalar_one())
            delivered = int(conn.exec_driver_sql(
                f"SELECT COUNT(*) FROM outbox WHERE state = ? AND run_id IN ({marks})",
                (OutboxState.DELIVERED.value, *ids),
            ).scalar_one())
        pin = session.get(PinRow, student_id)
        return Kept(len(ids), lines, delivered, _waiting(session, student_id),
                    pin is not None and pin.hash is not None)


def _dump(row: Any, *, without: tuple[str, ...] = ()) -> dict[str, Any]:
    data = row.model_dump(mode="json")
    return {k: v for k, v in data.items() if k not in without}


def export(db: Database, student_id: str) -> dict[str, Any]:
    """Everything kept about the student, as JSON-ready values (no PIN hash, no secret)."""
    with db.read() as session:
        user = session.get(RosterUser, student_id)
        runs = session.exec(select(RunRow).where(RunRow.student_id == student_id)
                            .order_by(col(RunRow.created_at))).all()
        ids = [r.run_id for r in runs]
        summaries = session.exec(select(RunSummaryRow).where(
            col(RunSummaryRow.run_id).in_(ids))).all() if ids else []
        answers = session.exec(select(RunAnswerRow).where(col(RunAnswerRow.run_id).in_(ids))
                               .order_by(col(RunAnswerRow.run_id),
                                         col(RunAnswerRow.position))).all() if ids else []
        journal: dict[str, list[Any]] = {run_id: [] for run_id in ids}
        if ids:
            for line in session.exec(select(JournalLineRow)
                                     .where(col(JournalLineRow.run_id).in_(ids))
                                     .order_by(col(JournalLineRow.run_id),
                                               col(JournalLineRow.seq))).all():
                journal[line.run_id].append(json.loads(line.data))
        progress = session.exec(select(ProgressRow).where(
            ProgressRow.student_id == student_id)).all()
        deliveries = session.exec(select(OutboxItem).where(col(OutboxItem.run_id).in_(ids))
                                  .order_by(col(OutboxItem.id))).all() if ids else []
        pin = session.get(PinRow, student_id)
        return {
            "format": FORMAT,
            "student": None if user is None else _dump(
                user, without=("raw_json", "roles_json", "org_ids_json")),
            "runs": [_dump(r) for r in runs],
            "summaries": [_dump(s) for s in summaries],
            "answers": [_dump(a) for a in answers],
            "journals": journal,
            "progress": [_dump(p) for p in progress],
            "deliveries": [_dump(d, without=("payload",)) for d in deliveries],
            "pin": {"set": pin is not None and pin.hash is not None,
                    "failures": 0 if pin is None else pin.failures},
        }


def erase(db: Database, student_id: str, *, discard_waiting: bool = False) -> int:
    """Remove the student's runs, journals, summaries, answers, deliveries, progress, the
    results read from their other computers and PIN from this computer; returns the runs
    removed. Raises StillWaiting when something is not delivered and ``discard_waiting``
    is False (then nothing is removed)."""

    def work(session: Session) -> int:
        waiting = _waiting(session, student_id)
        if waiting and not discard_waiting:
            raise StillWaiting(waiting)
        ids = _run_ids(session, student_id)
        conn = session.connection()
        if ids:
            marks = ",".join("?" * len(ids))
            for table in ("journal_lines", "run_answers", "run_summaries", "outbox"):
                conn.exec_driver_sql(f"DELETE FROM {table} WHERE run_id IN ({marks})",
                                     tuple(ids))
            conn.exec_driver_sql(f"DELETE FROM runs WHERE run_id IN ({marks})", tuple(ids))
        conn.exec_driver_sql("DELETE FROM progress WHERE student_id = ?", (student_id,))
        conn.exec_driver_sql("DELETE FROM remote_results WHERE student_id = ?", (student_id,))
        conn.exec_driver_sql("DELETE FROM pins WHERE user_id = ?", (student_id,))
        return len(ids)

    removed: int = db.write(work)
    return removed
