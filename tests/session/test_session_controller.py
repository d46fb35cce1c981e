"""The session controller: study a lesson with a fake clock and fake sensing sources."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from companion.core.catalogue import Catalogue, Course, Lesson
from companion.core.clock import FakeClock
from companion.core.journal import LessonSettings, Line
from companion.core.sampler import Observation
from companion.core.session_types import (
    LessonLocked,
    NoOpenRun,
    RunAlreadyOpen,
    SessionSummary,
    TickResult,
)
from companion.session.run import SessionController
from companion.store import outbox, roster, runs
from companion.store.db import Database
from companion.system.fakes import FakeFocus, FakeInput, FakeLock

CTX = runs.EventContext(oneroster_base="https://sandbox.example/")
SETTINGS = LessonSettings(idle_timeout_ms=60_000, abandon_after_ms=600_000)
COURSE = Course("math-1", "Math 1", "Math", "1")
L1 = Lesson("add-10", "Adding to 10", "math-1", "Math", "1", 1, SETTINGS)
L2 = Lesson("add-20", "Adding to 20", "math-1", "Math", "1", 2, SETTINGS)
L3 = Lesson("sub-10", "Taking away", "math-1", "Math", "1", 3, SETTINGS)
CATALOGUE = Catalogue((COURSE,), (L1, L2, L3))
ADA, BEN = "stu-ada", "stu-ben"


def student(sourced_id: str, given: str, email: str) -> dict[str, object]:
    return {
        "sourcedId": sourced_id,
        "status": "active",
        "enabledUser": "true",
        "givenName": given,
        "familyName": "Test",
        "email": email,
        "roles": [{"roleType": "primary", "role": "student"}],
    }


@dataclass
class World:
    """A database with two students and a three-lesson course, a clock and fake sources."""

    db: Database
    clock: FakeClock
    keys: FakeInput
    focus: FakeFocus
    lock: FakeLock

    def controller(self) -> SessionController:
        return SessionController(
            self.db, self.clock, CTX, CATALOGUE, self.keys, self.focus, self.lock
        )

    def seconds(self, ctl: SessionController, n: int, input_every: int = 0) -> list[TickResult]:
        """Advance ``n`` seconds, ticking each second; input every ``input_every`` s."""
        out = []
        for i in range(1, n + 1):
            self.clock.advance(1000)
            if input_every and i % input_every == 0:
                self.keys.touch()
            result = ctl.tick()
            out.append(result)
            if result.abandoned:
                break
        return out

    def study(
        self, ctl: SessionController, who: str, lesson: Lesson, right: int, wrong: int
    ) -> SessionSummary:
        """Ten minutes of steady work with the given answers, then complete."""
        ctl.start(who, lesson.id)
        for i in range(right + wrong):
            self.seconds(ctl, 20, input_every=5)
            ctl.answer(f"q{i}", i < right)
        self.seconds(ctl, 600 - 20 * (right + wrong), input_every=5)
        return ctl.complete()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with Database.open(tmp_path / "companion-sandbox.sqlite3", "sandbox") as db:
        roster.replace_roster(
            db,
            orgs=[],
            users=[student(ADA, "Ada", "ada@example.org"), student(BEN, "Ben", "ben@ex.org")],
            classes=[],
            enrollments=[],
            courses=[],
        )
        runs.save_lessons(db, CATALOGUE)
        clock = FakeClock(monotonic_ms=7_000_000)
        yield World(db, clock, FakeInput(clock), FakeFocus(), FakeLock())


CALIPER = ("TimeSpentEvent", "ActivityEvent")


def event_types(db: Database, run_id: str) -> list[str]:
    """The run's Caliper event types in the outbox, oldest first."""
    return [e["type"] for e in runs.run_events(db, run_id) if e.get("type") in CALIPER]


def test_study_complete_explains_the_xp_and_unlocks_the_next_lesson(world: World) -> None:
    ctl = world.controller()
    handle = ctl.start(ADA, L1.id)
    assert (handle.student_id, handle.lesson, handle.attempt) == (ADA, L1, 1)
    reported = 0
    for i in range(10):
        reported += sum(r.reported for r in world.seconds(ctl, 20, input_every=5))
        ctl.answer(f"q{i}", True)
    live = ctl.live()
    assert (live.answered, live.correct, live.accuracy, live.state) == (10, 10, 1.0, "active")
    assert live.focused_s == 200
    ticks = world.seconds(ctl, 400, input_every=5)
    reported += sum(r.reported for r in ticks)
    assert reported == 2  # both five-minute windows, sent while the run was open

    summary = ctl.complete()

    assert summary.completed and not summary.abandoned
    assert summary.active_ms == 600_000 and summary.focused_minutes == 10
    assert (summary.questions, summary.correct, summary.accuracy) == (10, 10, 1.0)
    assert summary.gate_passed and summary.multiplier == 1.25 and not summary.capped
    assert summary.xp == Decimal("12.5")
    assert summary.mastered and summary.next_unlocked == L2
    assert "XP: floor(10 × 1.25 × 10) / 10 = 12.5" in summary.explain
    assert "80 % gate: passed (100 % >= 80 %)" in summary.explain
    assert summary.explain[-1] == "Unlocked next: 'Adding to 20'"
    assert ctl.run is None

    assert event_types(world.db, handle.run_id) == [
        "TimeSpentEvent",
        "TimeSpentEvent",
        "ActivityEvent",
    ]
    events = runs.run_events(world.db, handle.run_id)
    [activity] = [e for e in events if e.get("type") == "ActivityEvent"]
    items = {i["type"]: i["value"] for i in activity["generated"]["items"]}
    assert items["xpEarned"] == 12.5 and items["masteredUnits"] == 1
    assert len([i for i in outbox.list_items(world.db) if i.kind == "caliper"]) == 3
    journal = runs.journal(world.db, handle.run_id)
    assert journal[-1] == Line(600_000, "end", completed=True)
    inputs = [line.t for line in journal if line.kind == "input"]
    assert inputs[:2] == [5_000, 10_000] and len(inputs) == 120
    # the next lesson opens now
    assert world.controller().start(ADA, L2.id).lesson == L2


def test_no_mastery_below_ninety_percent_keeps_the_next_lesson_locked(world: World) -> None:
    summary = world.study(world.controller(), ADA, L1, right=17, wrong=3)
    assert summary.accuracy == 0.85 and summary.gate_passed
    assert summary.xp == Decimal("10.0") and summary.multiplier == 1
    assert not summary.mastered and summary.next_unlocked is None
    assert summary.explain[-1] == "Mastered: no (accuracy below 90 %)"
    with pytest.raises(LessonLocked) as locked:
        world.controller().start(ADA, L2.id)
    assert locked.value.required == L1


def test_a_locked_lesson_cannot_be_opened(world: World) -> None:
    ctl = world.controller()
    with pytest.raises(LessonLocked) as locked:
        ctl.start(ADA, L3.id)
    assert locked.value.lesson == L3 and locked.value.required == L2
    assert "Master 'Adding to 20'" in str(locked.value)
    assert ctl.run is None and runs.open_run_id(world.db) is None


def test_walking_away_abandons_the_run_and_signs_out(world: World) -> None:
    ctl = world.controller()
    handle = ctl.start(ADA, L1.id)
    world.seconds(ctl, 30, input_every=10)
    ctl.answer("q1", True)
    results = world.seconds(ctl, 700)  # no input at all from 30 s on
    last = results[-1]
    assert last.abandoned and last.sign_out
    # idle from the last input (30 s) is retroactive: abandoned at 30 s + 600 s
    assert len(results) == 600
    assert last.reason is not None and "10 minutes" in last.reason
    assert last.summary is not None and last.summary.abandoned
    assert not last.summary.completed and last.summary.xp == 0
    assert not last.summary.mastered and last.summary.next_unlocked is None
    run = runs.get_run(world.db, handle.run_id)
    assert run is not None and run.state == "closed"
    assert (run.completed, run.abandoned, run.end_ms) == (False, True, 630_000)
    assert "ActivityEvent" in event_types(world.db, handle.run_id)
    assert ctl.run is None
    with pytest.raises(NoOpenRun):
        ctl.tick()


def test_leaving_the_window_is_off_task_and_counts_toward_abandonment(world: World) -> None:
    ctl = world.controller()
    handle = ctl.start(ADA, L1.id)
    world.seconds(ctl, 10, input_every=1)
    world.focus.focus, world.focus.app = False, "Minecraft"
    results = world.seconds(ctl, 700, input_every=1)  # busy in the other app
    assert results[0].lines[0] == Line(11_000, "focus", focused=False, app="Minecraft")
    assert results[0].live.state == "off-task"
    # off-task from the tick that saw it (11 s); abandoned ten minutes later
    assert results[-1].abandoned and len(results) == 601
    run = runs.get_run(world.db, handle.run_id)
    assert run is not None and run.abandoned and run.end_ms == 611_000


def test_lock_and_sleep_are_away(world: World) -> None:
    ctl = world.controller()
    handle = ctl.start(ADA, L1.id)
    world.seconds(ctl, 5, input_every=1)
    world.lock.is_locked = True
    assert world.seconds(ctl, 1)[0].live.state == "away"
    world.lock.is_locked = False
    world.seconds(ctl, 2, input_every=1)
    world.clock.advance(120_000)  # the machine slept for two minutes
    world.keys.touch()
    tick = ctl.tick()
    assert [line.kind for line in tick.lines] == ["suspend", "resume", "input"]
    assert tick.lines[0].t == 8_000 and tick.lines[1].t == 128_000
    summary = ctl.quit()
    assert summary.active_ms == 7_000  # 0-5 s, 6-8 s: lock and sleep count as away
    lines = runs.journal(world.db, handle.run_id)
    assert [line.kind for line in lines if line.kind in ("lock", "unlock")] == ["lock", "unlock"]


def test_quitting_mid_lesson_ends_the_run_not_completed(world: World) -> None:
    ctl = world.controller()
    handle = ctl.start(ADA, L1.id)
    world.seconds(ctl, 120, input_every=5)
    ctl.answer("q1", True)
    summary = ctl.quit()
    assert not summary.completed and not summary.abandoned
    assert summary.active_ms == 120_000 and summary.xp == 0 and not summary.mastered
    assert "Run not completed: no XP, not mastered" in summary.explain
    assert event_types(world.db, handle.run_id) == ["TimeSpentEvent", "ActivityEvent"]
    progress = runs.get_progress(world.db, ADA, L1.id)
    assert progress is not None and progress.attempts == 1 and not progress.mastered


def test_one_run_at_a_time_per_computer(world: World) -> None:
    first = world.controller()
    first.start(ADA, L1.id)
    with pytest.raises(RunAlreadyOpen):
        first.start(ADA, L1.id)
    with pytest.raises(RunAlreadyOpen):
        world.controller().start(BEN, L1.id)
    first.quit()
    assert world.controller().start(BEN, L1.id).student_id == BEN


@pytest.mark.parametrize(
    ("item", "correct"),
    [(7, True), ("", True), ("x" * 201, True), ("a\nb", True), ("  ", True), ("q", 1),
     ("q", "true"), ("q", None)],
)
def test_bridge_input_is_validated(world: World, item: object, correct: object) -> None:
    ctl = world.controller()
    handle = ctl.start(ADA, L1.id)
    with pytest.raises(ValueError):
        ctl.answer(item, correct)  # type: ignore[arg-type]
    assert [line.kind for line in runs.journal(world.db, handle.run_id)] == ["start"]
    ctl.quit()


def test_media_lines_and_validation(world: World) -> None:
    ctl = world.controller()
    handle = ctl.start(ADA, L1.id)
    world.clock.advance(2_500)
    ctl.media(True)
    with pytest.raises(ValueError):
        ctl.media("no")  # type: ignore[arg-type]
    world.clock.advance(200_000)  # a long video, no input: still active while it plays
    ctl.media(False)
    summary = ctl.quit()
    assert summary.active_ms == 202_500
    media = [line for line in runs.journal(world.db, handle.run_id) if line.kind == "media"]
    assert media == [Line(2_500, "media", playing=True), Line(202_500, "media", playing=False)]


def test_controller_needs_a_run(world: World) -> None:
    ctl = world.controller()
    for call in (ctl.tick, ctl.live, ctl.complete, ctl.quit):
        with pytest.raises(NoOpenRun):
            call()
    with pytest.raises(NoOpenRun):
        ctl.answer("q1", True)


def test_an_observer_can_replace_the_sources(world: World) -> None:
    seen = [Observation(sensing_available=False)]
    ctl = SessionController(
        world.db, world.clock, CTX, CATALOGUE, world.keys, world.focus, world.lock,
        observe=lambda: seen[-1],
    )
    handle = ctl.start(ADA, L1.id)
    world.clock.advance(1000)
    result = ctl.tick()
    assert result.lines == (Line(1000, "sensing", available=False),)
    assert result.live.state == "unknown"
    ctl.quit()
    assert runs.get_run(world.db, handle.run_id) is not None


def test_the_focused_clock_never_runs_backwards(world: World) -> None:
    """30 s of input, then 90 s of nothing (idle timeout 60 s): the quiet seconds are shown
    as pending, never counted and then taken back when the gap turns idle."""
    ctl = world.controller()
    ctl.start(ADA, L1.id)
    shown: list[tuple[int, int, int | None, str]] = []
    for result in world.seconds(ctl, 30, input_every=1) + world.seconds(ctl, 90):
        live = result.live
        shown.append((live.focused_s, live.pending_s, live.idle_in_s, live.state))
    focused = [s[0] for s in shown]
    assert focused == sorted(focused), "the focused time went down"
    assert shown[29] == (30, 0, None, "active")  # the last input was this second
    assert shown[59] == (30, 30, 30, "active")  # 30 s quiet: pending, idle in 30 s
    assert shown[88] == (30, 59, 1, "active")
    assert shown[90][0] == 30 and shown[90][1] == 0 and shown[90][3] == "idle"
    back = world.seconds(ctl, 2, input_every=1)[-1].live  # back at work
    assert (back.focused_s, back.pending_s, back.state) == (31, 0, "active")
