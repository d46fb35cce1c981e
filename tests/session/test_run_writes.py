"""The run use case: a close classifies the journal once; a tick does not wait for the
writer thread; a write that failed loses no line silently."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlmodel import Session

from companion.core import rules
from companion.core.journal import JournalNotSaved, Line
from companion.session import closing
from companion.store import outbox, runs
from tests.session.test_session_controller import ADA, CTX, L1, World
from tests.session.test_session_controller import world as world  # the fixture
from tests.store.run_child import ANCHOR, LESSON, STUDENT, seed


class CountingClassify:
    """The real ``rules.classify``, counting its calls."""

    def __init__(self) -> None:
        self.real = rules.classify
        self.calls = 0

    def __call__(self, lines: list[Line], now: int | None = None) -> rules.Classification:
        self.calls += 1
        return self.real(lines, now)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingClassify:
    counter = CountingClassify()
    monkeypatch.setattr(rules, "classify", counter)
    return counter


def test_completing_a_run_classifies_its_journal_once(
    world: World, counting: CountingClassify
) -> None:
    ctl = world.controller()
    handle = ctl.start(ADA, L1.id)
    for i in range(4):
        world.seconds(ctl, 150, input_every=5)
        ctl.answer(f"q{i}", True)
    counting.calls = 0

    summary = ctl.complete()

    assert counting.calls == 1
    assert summary.xp == Decimal("12.5") and summary.mastered and summary.active_ms == 600_000
    run = runs.get_run(world.db, handle.run_id)
    assert run is not None and run.state == "closed" and run.xp == "12.5"
    lines = runs.journal(world.db, handle.run_id)
    assert lines[-1] == Line(600_000, "end", completed=True)
    assert rules.classify(lines).total("active") == 600_000  # what was stored adds up


def test_closing_from_the_stored_journal_classifies_it_once(
    world: World, counting: CountingClassify
) -> None:
    seed_db = world.db
    run_id = runs.open_run(seed_db, ADA, L1.id, anchor=ANCHOR)
    runs.append_many(seed_db, run_id, [Line(t, "input") for t in range(10_000, 300_001, 10_000)])
    counting.calls = 0
    result = closing.close_run(seed_db, run_id, completed=False, at_ms=300_000, ctx=CTX)
    assert counting.calls == 1
    assert (result.active_ms, result.events) == (300_000, 2)  # a window and the ActivityEvent


def test_a_tick_hands_its_lines_over_without_waiting_for_the_writer(world: World) -> None:
    ctl = world.controller()
    handle = ctl.start(ADA, L1.id)
    release = threading.Event()
    entered = threading.Event()

    def busy_writer(session: Session) -> bool:  # e.g. the sync worker's big write
        entered.set()
        return release.wait(timeout=30)

    blocker = world.db.write_soon(busy_writer)
    assert entered.wait(timeout=30)
    world.clock.advance(1000)
    world.keys.touch()
    result = ctl.tick()  # returns while the writer is still busy
    still_busy = not blocker.done()
    release.set()
    assert still_busy
    assert blocker.result() is True  # released, not timed out
    assert result.lines == (Line(1000, "input"),)
    ctl.quit()  # waits for everything before it
    lines = runs.journal(world.db, handle.run_id)
    assert [line.kind for line in lines] == ["start", "input", "end"]


def test_a_write_that_failed_is_raised_and_nothing_after_it_is_kept(world: World) -> None:
    ctl = world.controller()
    handle = ctl.start(ADA, L1.id)

    def limit(session: Session) -> None:  # the writer's one connection: a full disk
        pages = session.exec(text("PRAGMA page_count")).one()[0]  # type: ignore[call-overload]
        session.exec(text(f"PRAGMA max_page_count = {pages + 1}"))  # type: ignore[call-overload]

    world.db.write(limit)
    ticked: list[Line] = []
    with pytest.raises(JournalNotSaved) as full:
        for _ in range(20_000):
            world.clock.advance(1000)
            world.keys.touch()
            ticked.extend(ctl.tick().lines)
    assert "is full" in str(full.value)
    saved = runs.journal(world.db, handle.run_id)
    assert saved[1:] == ticked[: len(saved) - 1]  # what is stored has no gap
    # the line of the tick whose write failed is not in it: one tick's lines in flight
    assert len(ticked) - (len(saved) - 1) == 1

    def unlimit(session: Session) -> None:
        session.exec(text("PRAGMA max_page_count = 1073741823"))  # type: ignore[call-overload]

    world.db.write(unlimit)
    world.seconds(ctl, 5, input_every=1)  # the run goes on from what was saved
    summary = ctl.quit()
    lines = runs.journal(world.db, handle.run_id)
    assert lines[: len(saved)] == saved and lines[-1].kind == "end"
    classification = rules.classify(lines)
    assert summary.active_ms == classification.total("active")
    spent = [e for e in runs.run_events(world.db, handle.run_id) if e["type"] == "TimeSpentEvent"]
    assert sum(float(i["value"]) for e in spent for i in e["generated"]["items"]) * 1000 == (
        pytest.approx(classification.end)
    )  # every stored second reported, once


def test_recovery_closes_each_stored_journal_with_one_classification(
    tmp_path: object, counting: CountingClassify
) -> None:
    from pathlib import Path

    from companion.store.db import Database
    from companion.store.lease import Lease

    assert isinstance(tmp_path, Path)
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as db:
        seed(db)
        run_id = runs.open_run(db, STUDENT, LESSON, anchor=ANCHOR)
        runs.append_many(db, run_id, [Line(5_000, "input"), Line(20_000, "heartbeat")])
        lease = Lease(db, ttl_s=30)
        assert lease.try_acquire()
        counting.calls = 0
        assert closing.recover_orphaned_runs(db, lease, CTX) == [run_id]
        assert counting.calls == 1
        assert runs.journal(db, run_id)[-1] == Line(20_000, "end", completed=False)
        assert len(outbox.list_items(db)) == 2  # a TimeSpentEvent and the ActivityEvent
