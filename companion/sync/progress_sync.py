"""Progress that follows the student: at sign-in, merge their gradebook results into ours.

When online, the student's AssessmentResults for this app's line items are read and merged
into the local progress (mastered anywhere is mastered here; attempts continue from the
highest seen; XP never goes down). Offline, the cached progress stays as it is and the
merge happens at the next sign-in that reaches Timeback. The results other computers wrote
are kept for the guide's report too (``store.remote_results``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from companion.core import results
from companion.core.caliper import DEFAULT_APP
from companion.store import remote_results
from companion.store.db import Database
from companion.store.progress_merge import apply_remote_results, lessons_by_line_item
from companion.timeback import GradebookClient, TimebackError

log = logging.getLogger("companion.sync.progress")


@dataclass(frozen=True)
class ProgressSyncResult:
    """What the sign-in merge did; ``error`` is set (and nothing changed) when it failed."""

    fetched: int = 0  # results of this app's line items read from the gradebook
    changed_lessons: tuple[str, ...] = field(default=())
    error: TimebackError | None = None

    @property
    def online(self) -> bool:
        """Whether the gradebook was reached."""
        return self.error is None


def sync_progress(
    db: Database,
    client: GradebookClient,
    student_id: str,
    *,
    app_id: str = DEFAULT_APP.app_id,
) -> ProgressSyncResult:
    """Read the student's results for the app's line items and merge them into progress."""
    line_items = lessons_by_line_item(db, app_id)
    try:
        raw = client.results_for_student(student_id)
    except TimebackError as exc:
        log.info("progress of %s not merged (using the cached progress): %s", student_id, exc)
        return ProgressSyncResult(error=exc)
    seen = [
        parsed
        for parsed in (results.parse_result(record) for record in raw)
        if parsed is not None
        and parsed.student_id == student_id
        and parsed.line_item_id in line_items
    ]
    changed = apply_remote_results(db, student_id, seen, line_items)
    remote_results.keep_for_student(db, student_id, raw, line_items)
    return ProgressSyncResult(fetched=len(seen), changed_lessons=tuple(changed))
