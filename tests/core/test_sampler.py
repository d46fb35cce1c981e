"""The 1 s sampler: journal lines from observations (learning-rules.md section 1)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from companion.core import rules
from companion.core.journal import Line, validate_run
from companion.core.sampler import Observation, Sampler

START = 50_000  # the run starts at this monotonic time


@st.composite
def ticks(draw: st.DrawFn) -> list[tuple[int, Observation]]:
    """(monotonic ms, observation) pairs: mostly ~1 s apart, with occasional long gaps."""
    out: list[tuple[int, Observation]] = []
    now = START
    last_input: int | None = None
    for _ in range(draw(st.integers(1, 40))):
        now += draw(
            st.one_of(
                st.integers(0, 1_500),
                st.integers(1_000, 1_100),
                st.integers(9_000, 40_000),
            )
        )
        if draw(st.booleans()):
            last_input = now - draw(st.integers(0, 900))
        out.append(
            (
                now,
                Observation(
                    focused=draw(st.booleans()),
                    app=draw(st.sampled_from([None, "game"])),
                    locked=draw(st.booleans()),
                    sensing_available=draw(st.booleans()),
                    last_input_ms=last_input,
                ),
            )
        )
    return out


def run(seq: list[tuple[int, Observation]], sampler: Sampler | None = None) -> list[Line]:
    s = sampler or Sampler(START)
    lines: list[Line] = []
    for now, obs in seq:
        lines.extend(s.tick(now, obs))
    return lines


@settings(max_examples=60, deadline=None)
@given(ticks())
def test_t_never_decreases_and_the_journal_classifies(seq: list[tuple[int, Observation]]) -> None:
    lines = run(seq)
    ts = [line.t for line in lines]
    assert ts == sorted(ts)
    assert all(t >= 0 for t in ts)
    end = max([*ts, 0])
    journal = [Line(0, "start", lesson="l"), *lines, Line(end, "end")]
    validate_run(journal)
    totals = rules.classify(journal).totals()
    assert sum(totals.values()) + rules.classify(journal).cut_ms == end


@settings(max_examples=60, deadline=None)
@given(ticks())
def test_no_two_input_lines_less_than_a_second_apart(seq: list[tuple[int, Observation]]) -> None:
    inputs = [line.t for line in run(seq) if line.kind == "input"]
    assert all(b - a >= 1000 for a, b in pairwise(inputs))


@settings(max_examples=60, deadline=None)
@given(ticks())
def test_state_lines_only_on_change(seq: list[tuple[int, Observation]]) -> None:
    lines = run(seq)
    focus = [line.focused for line in lines if line.kind == "focus"]
    expected_focus = []
    previous = True
    for _, obs in seq:
        if obs.focused != previous:
            expected_focus.append(obs.focused)
            previous = obs.focused
    assert focus == expected_focus
    locks = [line.kind for line in lines if line.kind in ("lock", "unlock")]
    assert all(a != b for a, b in pairwise(locks))
    assert not locks or locks[0] == "lock"
    sensing = [line.available for line in lines if line.kind == "sensing"]
    assert all(a != b for a, b in pairwise(sensing))
    assert not sensing or sensing[0] is False


@settings(max_examples=60, deadline=None)
@given(ticks())
def test_a_suspend_resume_pair_for_each_gap_over_ten_ticks(
    seq: list[tuple[int, Observation]],
) -> None:
    lines = run(seq)
    previous = START
    expected: list[tuple[int, int]] = []
    for now, _ in seq:
        if now - previous > 10_000:
            expected.append((previous - START, now - START))
        previous = now
    suspends = [line.t for line in lines if line.kind == "suspend"]
    resumes = [line.t for line in lines if line.kind == "resume"]
    assert list(zip(suspends, resumes, strict=True)) == expected


def test_one_long_gap_gives_exactly_one_pair_at_the_last_tick_and_now() -> None:
    s = Sampler(START)
    steady = Observation()
    for i in range(1, 6):
        assert s.tick(START + i * 1000, steady) == []
    lines = s.tick(START + 5_000 + 10_000, steady)  # exactly ten ticks: not a sleep
    assert lines == [Line(15_000, "heartbeat")]
    lines = s.tick(START + 15_000 + 10_001, steady)
    assert lines == [Line(15_000, "suspend"), Line(25_001, "resume")]
    assert s.tick(START + 26_001, steady) == []


def test_input_recorded_while_unfocused_and_only_when_it_moved() -> None:
    s = Sampler(START)
    away = Observation(focused=False, app="game", last_input_ms=START + 500)
    assert s.tick(START + 1000, away) == [
        Line(1000, "focus", focused=False, app="game"),
        Line(1000, "input"),
    ]
    assert s.tick(START + 2000, away) == []  # the same input time: nothing new
    back = Observation(focused=True, app="game", last_input_ms=START + 2500)
    assert s.tick(START + 3000, back) == [Line(3000, "focus", focused=True), Line(3000, "input")]


def test_input_before_the_run_started_is_not_the_runs() -> None:
    s = Sampler(START)
    assert s.tick(START + 1000, Observation(last_input_ms=START - 10)) == []


def test_two_inputs_within_a_second_wait_for_the_next_tick() -> None:
    s = Sampler(START)
    assert s.tick(START + 1000, Observation(last_input_ms=START + 900)) == [Line(1000, "input")]
    # a jittery timer fires early; the new input is kept for the next tick
    assert s.tick(START + 1600, Observation(last_input_ms=START + 1500)) == []
    assert s.tick(START + 2600, Observation(last_input_ms=START + 1500)) == [Line(2600, "input")]


def test_heartbeat_every_fifteen_seconds_when_nothing_else_is_written() -> None:
    s = Sampler(START)
    lines = run([(START + i * 1000, Observation()) for i in range(1, 62)], s)
    assert lines == [Line(t, "heartbeat") for t in (15_000, 30_000, 45_000, 60_000)]


def test_lock_and_sensing_lines() -> None:
    s = Sampler(START)
    assert s.tick(START + 1000, Observation(locked=True, sensing_available=False)) == [
        Line(1000, "lock"),
        Line(1000, "sensing", available=False),
    ]
    assert s.tick(START + 2000, Observation()) == [
        Line(2000, "unlock"),
        Line(2000, "sensing", available=True),
    ]


def test_lines_written_by_others_keep_t_in_order() -> None:
    s = Sampler(START)
    s.tick(START + 1000, Observation())
    s.note_line(1_700)  # an answer between two ticks
    lines = s.tick(START + 30_000, Observation())
    assert lines == [Line(1_700, "suspend"), Line(30_000, "resume")]
    assert s.run_time(START + 100) == 30_000  # never before the last line
