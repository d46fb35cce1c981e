"""Results from the students' other computers, kept as the gradebook last showed them.

``keep_for_student`` replaces what is kept of one student with the gradebook records just
read: only results of this app's line items that this computer did not write (this
computer's results are in its outbox, by sourcedId, and name its runs in ``metadata.runId``),
so nothing of this computer is counted twice. ``in_range`` reads them for the report, and
checks the same again (a run of this computer never shows as another computer's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from companion.core.elsewhere import RemoteResult, parse_remote
from companion.store.db import Database
from companion.store.remote_tables import RemoteResultRow
from companion.store.results import RESULT_KIND

COLUMNS = (
    "sourced_id",
    "student_id",
    "lesson_id",
    "run_id",
    "attempt",
    "score",
    "questions",
    "correct",
    "xp",
    "mastered",
    "completed",
    "is_attempt",
    "score_date",
    "source",
)

_NOT_OURS = (
    "NOT EXISTS (SELECT 1 FROM runs r WHERE r.run_id = x.run_id) "
    "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.kind = ? AND o.event_id = x.sourced_id)"
)


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def _ours(session: Session, found: Sequence[RemoteResult]) -> tuple[set[str], set[str]]:
    """Which of these results this computer wrote: (result sourcedIds, run ids)."""
    conn = session.connection()
    ids = [r.sourced_id for r in found]
    runs = [r.run_id for r in found if r.run_id]
    own_ids: set[str] = set()
    own_runs: set[str] = set()
    if ids:
        own_ids = {
            str(row[0])
            for row in conn.exec_driver_sql(
                f"SELECT event_id FROM outbox WHERE kind = ? AND event_id IN ({_marks(ids)})",
                (RESULT_KIND, *ids),
            ).all()
        }
    if runs:
        own_runs = {
            str(row[0])
            for row in conn.exec_driver_sql(
                f"SELECT run_id FROM runs WHERE run_id IN ({_marks(runs)})", tuple(runs)
            ).all()
        }
    return own_ids, own_runs


def keep_for_student(
    db: Database,
    student_id: str,
    records: Iterable[Mapping[str, Any]],
    lessons: Mapping[str, str],
    *,
    now: datetime | None = None,
) -> int:
    """Keep the student's results of other computers from ``records`` (gradebook records;
    ``lessons`` maps line item sourcedIds to lesson ids), replacing what was kept of the
    student before, in one write; returns how many are kept."""
    parsed: dict[str, RemoteResult] = {}
    for record in records:
        result = parse_remote(record, lessons)
        if result is not None and result.student_id == student_id:
            parsed[result.sourced_id] = result
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat()

    def work(session: Session) -> int:
        own_ids, own_runs = _ours(session, list(parsed.values()))
        session.connection().exec_driver_sql(
            "DELETE FROM remote_results WHERE student_id = ?", (student_id,)
        )
        kept = 0
        for r in parsed.values():
            if r.sourced_id in own_ids or (r.run_id is not None and r.run_id in own_runs):
                continue
            session.add(
                RemoteResultRow(
                    sourced_id=r.sourced_id,
                    student_id=r.student_id,
                    lesson_id=r.lesson_id,
                    run_id=r.run_id,
                    attempt=r.attempt,
                    score=r.score,
                    questions=r.questions,
                    correct=r.correct,
                    xp=None if r.xp is None else str(r.xp),
                    mastered=r.mastered,
                    completed=r.completed,
                    is_attempt=r.is_attempt,
                    score_date=r.score_date,
                    source=r.source,
                    fetched_at=stamp,
                )
            )
            kept += 1
        return kept

    kept: int = db.write(work)
    return kept


def _rows(db: Database, where: str, params: tuple[Any, ...]) -> list[RemoteResult]:
    sql = (
        f"SELECT {', '.join(f'x.{c}' for c in COLUMNS)} FROM remote_results x "
        f"WHERE {where} AND {_NOT_OURS} ORDER BY x.score_date, x.sourced_id"
    )
    with db.read() as session:
        rows = session.connection().exec_driver_sql(sql, (*params, RESULT_KIND)).all()
    return [
        RemoteResult(
            sourced_id=r[0],
            student_id=r[1],
            lesson_id=r[2],
            run_id=r[3],
            attempt=int(r[4]),
            score=r[5],
            questions=r[6],
            correct=r[7],
            xp=None if r[8] is None else Decimal(r[8]),
            mastered=bool(r[9]),
            completed=bool(r[10]),
            is_attempt=bool(r[11]),
            score_date=r[12],
            source=r[13],
        )
        for r in rows
    ]


def in_range(
    db: Database, start_utc: str, end_utc: str, student_ids: Sequence[str] | None = None
) -> list[RemoteResult]:
    """Other computers' results dated in [start_utc, end_utc) (UTC ISO text), oldest first."""
    where = "x.score_date >= ? AND x.score_date < ?"
    params: tuple[Any, ...] = (start_utc, end_utc)
    if student_ids is not None:
        if not student_ids:
            return []
        where += f" AND x.student_id IN ({_marks(student_ids)})"
        params += tuple(student_ids)
    return _rows(db, where, params)


def for_student(db: Database, student_id: str) -> list[RemoteResult]:
    """Every kept result of other computers for one student, oldest first."""
    return _rows(db, "x.student_id = ?", (student_id,))
