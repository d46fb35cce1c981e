"""Progress follows the student: two computers (two databases), one sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from companion.core import results
from companion.core.catalogue import lesson_state
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.store import runs
from companion.store.db import Database
from companion.sync.progress_sync import sync_progress
from tests.results.helpers import (
    APP_ID,
    CATALOGUE,
    LESSON_1,
    LESSON_2,
    STUDENT,
    client_for,
    deliver_all,
    open_computer,
    study,
)


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


@pytest.fixture
def computers(tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    a = open_computer(tmp_path / "a" / "companion-sandbox.sqlite3")
    b = open_computer(tmp_path / "b" / "companion-sandbox.sqlite3")
    yield a, b
    a.close()
    b.close()


def mastered(db: Database) -> set[str]:
    found = set()
    for lesson in CATALOGUE.lessons:
        progress = runs.get_progress(db, STUDENT, lesson.id)
        if progress is not None and progress.mastered:
            found.add(lesson.id)
    return found


def test_mastery_attempts_and_xp_follow_the_student(
    sandbox: SandboxHandle, computers: tuple[Database, Database]
) -> None:
    a, b = computers
    with client_for(sandbox.base_url) as client:
        for lesson in CATALOGUE.lessons:
            client.put_line_item(results.line_item_payload(APP_ID, lesson, "demo-course-1"))
        first = study(a, LESSON_1, correct=5)  # attempt 1, perfect: mastered, 10 XP
        assert first.mastered and first.xp == Decimal(10)
        assert sum(p.sent for p in deliver_all(a, client)) == 1

        assert lesson_state(CATALOGUE, LESSON_2, mastered(b)) == "locked"
        synced = sync_progress(b, client, STUDENT)
        assert synced.online and synced.changed_lessons == (LESSON_1,)
        assert lesson_state(CATALOGUE, LESSON_2, mastered(b)) == "open"
        progress = runs.get_progress(b, STUDENT, LESSON_1)
        assert progress is not None
        assert (progress.attempts, Decimal(progress.total_xp)) == (1, Decimal(10))
        assert progress.mastered_at == "2026-01-05T09:10:00.000Z"

        # A second attempt on B is attempt 2: a perfect run earns 1.0x, not 1.25x.
        again = study(b, LESSON_1, correct=5, minutes=4)
        run = runs.get_run(b, again.run_id)
        assert run is not None and run.attempt == 2
        assert again.xp == Decimal(4)  # 4 minutes x 1.0
        assert sync_progress(b, client, STUDENT).changed_lessons == ()  # merging again: same
        progress = runs.get_progress(b, STUDENT, LESSON_1)
        assert progress is not None and Decimal(progress.total_xp) == Decimal(14)

        # B's result is not delivered yet; once it is, A learns of attempt 2 as well.
        deliver_all(b, client)
        assert sync_progress(a, client, STUDENT).changed_lessons == (LESSON_1,)
        on_a = runs.get_progress(a, STUDENT, LESSON_1)
        assert on_a is not None and (on_a.attempts, Decimal(on_a.total_xp)) == (2, Decimal(14))


def test_undelivered_local_results_count_and_offline_keeps_the_cache(
    computers: tuple[Database, Database],
) -> None:
    a, _ = computers
    study(a, LESSON_1, correct=5)
    before = runs.get_progress(a, STUDENT, LESSON_1)
    with client_for("http://127.0.0.1:9") as offline:
        synced = sync_progress(a, offline, STUDENT)
    assert not synced.online and synced.changed_lessons == ()
    assert runs.get_progress(a, STUDENT, LESSON_1) == before


def test_a_merge_never_lowers_local_progress(
    sandbox: SandboxHandle, computers: tuple[Database, Database]
) -> None:
    a, b = computers
    with client_for(sandbox.base_url) as client:
        for lesson in CATALOGUE.lessons:
            client.put_line_item(results.line_item_payload(APP_ID, lesson, "demo-course-1"))
        study(a, LESSON_1, correct=3)  # 60 %: attempt 1, no XP, not mastered
        deliver_all(a, client)
        study(b, LESSON_1, correct=5)
        study(b, LESSON_1, correct=5)
        before = runs.get_progress(b, STUDENT, LESSON_1)
        assert before is not None and before.attempts == 2
        sync_progress(b, client, STUDENT)
    after = runs.get_progress(b, STUDENT, LESSON_1)
    assert after is not None
    assert after.mastered and after.attempts == 2
    assert Decimal(after.total_xp) == Decimal(before.total_xp)
    assert after.best_accuracy == 1.0
