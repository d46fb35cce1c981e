"""Reading the students' results from their other computers, for the guide's report.

When a guide opens the report, the results of its students are read from the gradebook
(one filtered list per student) and kept (``store.remote_results``), replacing what was
kept of each of them. A failure (offline, refused) leaves what was read before, and the
answer says why, so the report still shows at once and tells the guide what is missing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from companion.core.caliper import DEFAULT_APP
from companion.core.elsewhere import Fetch
from companion.store import remote_results
from companion.store.db import Database
from companion.store.progress_merge import lessons_by_line_item
from companion.timeback import GradebookClient, TimebackError

log = logging.getLogger("companion.sync.other_computers")


def fetch_other_computers(
    db: Database,
    client: GradebookClient,
    student_ids: Sequence[str],
    *,
    app_id: str = DEFAULT_APP.app_id,
    now: datetime | None = None,
) -> Fetch:
    """Read and keep each student's results of other computers; stops at the first error."""
    lessons = lessons_by_line_item(db, app_id)
    done = 0
    for student_id in student_ids:
        try:
            records = client.results_for_student(student_id)
        except TimebackError as exc:
            log.info(
                "other computers' results not read (%d of %d students read): %s",
                done,
                len(student_ids),
                exc,
            )
            return Fetch(False, str(exc), done)
        remote_results.keep_for_student(db, student_id, records, lessons, now=now)
        done += 1
    return Fetch(True, students=done)
