"""Other computers' results in the guide's report: each one as an attempt, marked.

A result another computer wrote (``store.remote_results``) becomes an ``Attempt`` with
``elsewhere`` set: its XP, accuracy and mastery count in the student's figures, its
minutes are not known (zero of every kind), and its explanation says where it came from.
It counts on the day of its ``scoreDate``, in the report's time zone. A result that is no
attempt (nothing answered, not completed: ``rules.counts_as_attempt``) is left out, as a
run of this computer that is no attempt is.
"""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from decimal import Decimal

from companion.core import elsewhere
from companion.core.elsewhere import RemoteResult
from companion.core.report import Attempt, no_minutes


def remote_attempt(result: RemoteResult, tz: tzinfo | None) -> Attempt | None:
    """The attempt another computer's result stands for; None when it has no date or is
    no attempt."""
    if result.score_date is None or not result.is_attempt:
        return None
    started = datetime.fromisoformat(result.score_date).astimezone(tz)
    questions = result.questions or 0
    correct = min(result.correct or 0, questions)
    return Attempt(
        run_id=result.run_id or result.sourced_id,
        student_id=result.student_id,
        lesson_id=result.lesson_id,
        attempt=result.attempt,
        started=started,
        day=started.date(),
        minutes=no_minutes(),
        xp=result.xp if result.xp is not None else Decimal(0),
        questions=questions,
        correct=correct,
        completed=result.completed,
        mastered=result.mastered,
        explanation_json=json.dumps(elsewhere.explanation(result), ensure_ascii=False),
        answers=(),
        journal_removed_at=None,
        elsewhere=True,
        source=result.source,
        score=None if result.score is None else result.score / 100,
    )
