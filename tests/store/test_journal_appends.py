"""Journal lines of many open runs written together: each append's own outcome, one write."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.core.journal import Line
from companion.store import open_runs, runs
from companion.store.db import Database
from companion.store.journal_appends import (
    Append,
    GroupedAppends,
    SequenceGap,
    apply_appends,
)
from companion.store.run_tables import RunRow
from companion.store.runs import RunClosed, UnknownRun
from tests.store.run_child import ANCHOR, LESSON, NEXT_LESSON, seed


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as database:
        seed(database)
        yield database


def journal(db: Database, run_id: str) -> list[tuple[int, str]]:
    return [(line.t, line.kind) for line in runs.journal(db, run_id)]


def test_each_append_of_a_write_has_its_own_outcome(db: Database) -> None:
    one = open_runs.open_student_run(db, "stu-1", LESSON, anchor=ANCHOR).run_id
    two = open_runs.open_student_run(db, "stu-2", NEXT_LESSON, anchor=ANCHOR).run_id
    closed = open_runs.open_student_run(db, "stu-3", LESSON, anchor=ANCHOR).run_id
    db.write(lambda session: setattr(session.get(RunRow, closed), "state", "closed"))
    outcomes = db.write(
        lambda session: apply_appends(
            session,
            [
                Append(one, 1, [Line(10, "input"), Line(20, "heartbeat")]),
                Append(two, 2, [Line(10, "input")]),  # a gap: 1 is missing
                Append(one, 3, [Line(30, "input")]),  # after the first, in the same write
                Append(one, 2, [Line(20, "heartbeat")]),  # a re-send: nothing new
                Append(closed, 1, [Line(10, "input")]),
                Append("no-such-run", 1, [Line(10, "input")]),
                Append(two, 1, [Line(50, "input"), Line(40, "input")]),  # t goes back
            ],
        )
    )
    assert outcomes[0] == 2 and outcomes[2] == 3 and outcomes[3] == 3
    assert isinstance(outcomes[1], SequenceGap) and outcomes[1].expected == 1
    assert isinstance(outcomes[4], RunClosed)
    assert isinstance(outcomes[5], UnknownRun)
    assert isinstance(outcomes[6], ValueError)
    assert journal(db, one) == [(0, "start"), (10, "input"), (20, "heartbeat"), (30, "input")]
    assert journal(db, two) == [(0, "start")]  # the refused append left nothing


def test_appends_from_many_threads_are_all_stored_once_in_order(db: Database) -> None:
    appends = GroupedAppends(db)
    students = [f"stu-{n}" for n in range(8)]
    run_ids = [open_runs.open_student_run(db, s, LESSON, anchor=ANCHOR).run_id for s in students]
    acked: dict[str, list[int]] = {run_id: [] for run_id in run_ids}
    start = threading.Barrier(len(run_ids))

    def stream(run_id: str) -> None:
        start.wait()
        for seq in range(1, 41):
            acked[run_id].append(appends.append(run_id, seq, [Line(seq * 100, "input")]))
        # a re-send after a lost acknowledgement is acknowledged, not stored again
        acked[run_id].append(appends.append(run_id, 39, [Line(3900, "input")]))

    threads = [threading.Thread(target=stream, args=(run_id,)) for run_id in run_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for run_id in run_ids:
        assert acked[run_id] == [*range(1, 41), 40]
        assert journal(db, run_id) == [(0, "start")] + [(n * 100, "input") for n in range(1, 41)]


def test_a_refused_append_is_raised_to_its_caller_only(db: Database) -> None:
    appends = GroupedAppends(db)
    run_id = open_runs.open_student_run(db, "stu-1", LESSON, anchor=ANCHOR).run_id
    with pytest.raises(SequenceGap):
        appends.append(run_id, 5, [Line(10, "input")])
    with pytest.raises(ValueError, match="service"):
        appends.append(run_id, 1, [Line(10, "end")])
    assert appends.append(run_id, 1, [Line(10, "input")]) == 1


def test_appends_after_the_database_closed_fail_plainly(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox")
    seed(db)
    run_id = open_runs.open_student_run(db, "stu-1", LESSON, anchor=ANCHOR).run_id
    appends = GroupedAppends(db)
    db.close()
    with pytest.raises(Exception, match="closed"):
        appends.append(run_id, 1, [Line(10, "input")])
