"""Merging results seen in the gradebook into the stored progress, never lowering it.

The merge counts, besides the gradebook's results, every result this computer wrote (in
the outbox, delivered or not) and the XP of this computer's closed runs, so a result that
has not reached the server yet is not lost and no run's XP is counted twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from sqlmodel import Session, select

from companion.core import results
from companion.core.results import ProgressFacts, SeenResult
from companion.store.db import Database
from companion.store.results import RESULT_KIND, body_of
from companion.store.run_tables import LessonRow, ProgressRow, RunRow
from companion.store.tables import OutboxItem


def lessons_by_line_item(db: Database, app_id: str) -> dict[str, str]:
    """The stored lessons by the sourcedId of their line item."""
    with db.read() as session:
        ids = session.exec(select(LessonRow.id)).all()
    return {results.line_item_id(app_id, lesson_id): lesson_id for lesson_id in ids}


def apply_remote_results(
    db: Database,
    student_id: str,
    remote: Iterable[SeenResult],
    line_items: Mapping[str, str],
) -> list[str]:
    """Merge results into the student's progress in one write; returns the lessons changed.

    ``line_items`` maps line item sourcedIds to lesson ids (results for other line items
    are ignored). Results queued on this computer count as seen.
    """
    seen = [r for r in remote if r.student_id == student_id and r.line_item_id in line_items]

    def work(session: Session) -> list[str]:
        by_lesson: dict[str, list[SeenResult]] = defaultdict(list)
        for result in [*seen, *_queued(session, student_id)]:
            lesson_id = line_items.get(result.line_item_id)
            if lesson_id is not None:
                by_lesson[lesson_id].append(result)
        changed: list[str] = []
        for lesson_id, lesson_results in sorted(by_lesson.items()):
            if _merge_lesson(session, student_id, lesson_id, lesson_results):
                changed.append(lesson_id)
        return changed

    changed: list[str] = db.write(work)
    return changed


def _queued(session: Session, student_id: str) -> list[SeenResult]:
    rows = session.exec(select(OutboxItem).where(OutboxItem.kind == RESULT_KIND)).all()
    out = []
    for row in rows:
        parsed = results.parse_result(body_of(row))
        if parsed is not None and parsed.student_id == student_id:
            out.append(parsed)
    return out


def _merge_lesson(
    session: Session, student_id: str, lesson_id: str, seen: list[SeenResult]
) -> bool:
    row = session.get(ProgressRow, (student_id, lesson_id))
    if row is None:
        row = ProgressRow(student_id=student_id, lesson_id=lesson_id)
    local = ProgressFacts(
        mastered=row.mastered,
        attempts=row.attempts,
        best_accuracy=row.best_accuracy,
        total_xp=Decimal(row.total_xp),
        mastered_at=row.mastered_at,
    )
    runs = session.exec(
        select(RunRow)
        .where(RunRow.student_id == student_id)
        .where(RunRow.lesson_id == lesson_id)
        .where(RunRow.state == "closed")
    ).all()
    local_xp = {run.run_id: Decimal(run.xp or "0") for run in runs}
    merged = results.merge_progress(local, seen, local_xp)
    if merged == local:
        return False
    row.mastered = merged.mastered
    row.attempts = merged.attempts
    row.best_accuracy = merged.best_accuracy
    row.total_xp = str(merged.total_xp)
    row.mastered_at = merged.mastered_at
    session.add(row)
    return True
