"""Time-spent windows: settled time only, no gaps, no overlaps, exact totals."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from companion.core.caliper import (
    ActivityInfo,
    Actor,
    RunInfo,
    activity_completed_event,
    envelope,
    time_spent_event,
)
from companion.core.journal import parse_jsonl
from companion.core.rules import Category, Classification, Segment, classify, score
from companion.core.timespent import due_time_spent_events, due_windows, window_totals
from tests.schemas import validate

KINDS: list[tuple[Category, str | None]] = [
    ("active", None),
    ("inactive", "idle"),
    ("inactive", "locked"),
    ("inactive", "suspended"),
    ("waste", "focus-lost"),
    ("waste", "focus-lost:Chess"),
    ("unknown", None),
]

RUN = RunInfo(
    run_id="6f1d1c3a-1b7e-4f0a-8d3c-9e2b4a5c6d7e",
    anchor=datetime(2025, 1, 6, 8, 0, tzinfo=UTC),
    attempt=1,
    actor=Actor("https://roster.example/ims/oneroster/rostering/v1p2/users/s1", "s1@example.org"),
    activity=ActivityInfo(
        subject="Reading",
        course_id_url="https://roster.example/ims/oneroster/rostering/v1p2/courses/r1",
        course_name="Reading 1",
        activity_id_url="https://roster.example/lessons/7",
        activity_name="Lesson 7",
    ),
)


def _classification(
    start: int, pieces: list[tuple[int, tuple[Category, str | None]]], settled: int | None = None
) -> Classification:
    segments = []
    t = start
    for length, (category, sub_type) in pieces:
        segments.append(Segment(t, t + length, category, sub_type))
        t += length
    return Classification(
        start=start,
        end=t,
        segments=tuple(segments),
        abandoned_at=None,
        settled_until=t if settled is None else settled,
    )


def _run_totals(c: Classification) -> Counter[tuple[str, str | None]]:
    totals: Counter[tuple[str, str | None]] = Counter()
    for seg in c.segments:
        totals[(seg.category, seg.sub_type)] += seg.end - seg.start
    return totals


# 0-30 s active, 30-200 s idle, 200-260 s waste in Chess, 260-300 s active
EXAMPLE = _classification(
    0,
    [
        (30_000, ("active", None)),
        (170_000, ("inactive", "idle")),
        (60_000, ("waste", "focus-lost:Chess")),
        (40_000, ("active", None)),
    ],
)


def test_window_totals_clip_segments_exactly() -> None:
    assert window_totals(EXAMPLE, 20_000, 230_000) == {
        ("active", None): 10_000,
        ("inactive", "idle"): 170_000,
        ("waste", "focus-lost:Chess"): 30_000,
    }
    assert window_totals(EXAMPLE, 0, 300_000) == {
        ("active", None): 70_000,
        ("inactive", "idle"): 170_000,
        ("waste", "focus-lost:Chess"): 60_000,
    }
    assert window_totals(EXAMPLE, 100_000, 100_000) == {}


@pytest.mark.parametrize(("lo", "hi"), [(-1, 10), (0, 300_001), (50, 40)])
def test_window_totals_refuse_windows_outside_the_run(lo: int, hi: int) -> None:
    with pytest.raises(ValueError):
        window_totals(EXAMPLE, lo, hi)


def test_open_run_reports_only_full_settled_windows() -> None:
    open_run = replace(EXAMPLE, settled_until=179_999)
    assert due_windows(open_run, 0, 60_000, final=False) == [(0, 60_000), (60_000, 120_000)]
    assert due_windows(open_run, 120_000, 60_000, final=False) == []
    assert due_windows(replace(EXAMPLE, settled_until=180_000), 120_000, 60_000, False) == [
        (120_000, 180_000)
    ]


def test_final_report_covers_the_rest_with_a_shorter_last_window() -> None:
    assert due_windows(EXAMPLE, 120_000, 70_000, final=True) == [
        (120_000, 190_000),
        (190_000, 260_000),
        (260_000, 300_000),
    ]
    assert due_windows(EXAMPLE, 0, 300_000, final=True) == [(0, 300_000)]
    assert due_windows(EXAMPLE, 0, 1_000_000, final=True) == [(0, 300_000)]


def test_nothing_left_gives_no_window() -> None:
    assert due_windows(EXAMPLE, 300_000, 60_000, final=True) == []
    assert due_windows(EXAMPLE, 300_000, 60_000, final=False) == []
    empty = Classification(5_000, 5_000, (), None, 5_000)
    assert due_windows(empty, 5_000, 60_000, final=True) == []


def test_reporting_starts_no_earlier_than_the_run() -> None:
    late = _classification(10_000, [(50_000, ("active", None))])
    assert due_windows(late, 0, 30_000, final=True) == [(10_000, 40_000), (40_000, 60_000)]


def without_ids(event: dict[str, Any]) -> dict[str, Any]:
    """The event with its id and its collection's id left out."""
    generated = {k: v for k, v in event["generated"].items() if k != "id"}
    return {**{k: v for k, v in event.items() if k != "id"}, "generated": generated}


def test_due_events_are_the_due_windows_built_as_events() -> None:
    open_run = replace(EXAMPLE, settled_until=200_000)
    due = due_time_spent_events(RUN, open_run, 60_000, 60_000, final=False)
    assert [(lo, hi) for lo, hi, _ in due] == [(60_000, 120_000), (120_000, 180_000)]
    for lo, hi, event in due:
        built = time_spent_event(RUN, lo, hi, window_totals(EXAMPLE, lo, hi))
        assert without_ids(event) == without_ids(built)
        assert event["id"] != built["id"]  # every build is a new event with a new id
    idle = {i["type"]: i["value"] for i in due[0][2]["generated"]["items"]}
    assert idle == {"active": 0, "inactive": 60, "waste": 0, "unknown": 0}


@pytest.mark.parametrize("window_ms", [0, -5])
def test_window_length_must_be_positive(window_ms: int) -> None:
    with pytest.raises(ValueError):
        due_windows(EXAMPLE, 0, window_ms, final=True)


@st.composite
def reporting_scenarios(
    draw: st.DrawFn,
) -> tuple[Classification, int, list[int]]:
    start = draw(st.integers(min_value=0, max_value=10**7))
    pieces = draw(
        st.lists(
            st.tuples(st.integers(min_value=1, max_value=900_000), st.sampled_from(KINDS)),
            min_size=1,
            max_size=25,
        )
    )
    c = _classification(start, pieces)
    length = c.end - c.start
    window_ms = draw(st.integers(min_value=max(1, length // 150), max_value=2 * length))
    settled = sorted(draw(st.lists(st.integers(min_value=c.start, max_value=c.end), max_size=8)))
    return c, window_ms, settled


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reporting_scenarios())
def test_windows_tile_the_run_and_keep_every_total(
    scenario: tuple[Classification, int, list[int]],
) -> None:
    final_c, window_ms, settled_steps = scenario
    reported_until = final_c.start
    windows: list[tuple[int, int]] = []

    for settled in settled_steps:
        open_c = replace(final_c, settled_until=settled)
        due = due_windows(open_c, reported_until, window_ms, final=False)
        for lo, hi in due:
            assert hi - lo == window_ms
            assert hi <= settled
        if due:
            reported_until = due[-1][1]
        windows += due
    windows += due_windows(final_c, reported_until, window_ms, final=True)

    # consecutive, non-empty, from start to end
    assert windows[0][0] == final_c.start
    assert windows[-1][1] == final_c.end
    for (_, prev_hi), (lo, _) in pairwise(windows):
        assert prev_hi == lo
    assert all(hi > lo for lo, hi in windows)

    summed: Counter[tuple[str, str | None]] = Counter()
    reported_ms: Counter[str] = Counter()
    for lo, hi in windows:
        totals = window_totals(final_c, lo, hi)
        assert sum(totals.values()) == hi - lo
        summed.update(totals)
        for item in time_spent_event(RUN, lo, hi, totals)["generated"]["items"]:
            reported_ms[item["type"]] += int(Decimal(str(item["value"])) * 1000)
    expected = _run_totals(final_c)
    assert summed == expected
    by_category: Counter[str] = Counter()
    for (category, _), ms in expected.items():
        by_category[category] += ms
    assert +reported_ms == by_category


@pytest.mark.parametrize(
    "name", ["02-long-pause-is-idle", "03-switched-to-game", "06-screen-locked", "07-abandoned"]
)
def test_example_journal_reported_while_open_matches_replay(shared: Path, name: str) -> None:
    examples = shared / "spec" / "examples"
    lines = list(parse_jsonl((examples / f"{name}.jsonl").read_text().splitlines()))
    expected = json.loads((examples / "expected.json").read_text())[name]
    window_ms = 45_000

    events: list[dict[str, Any]] = []
    reported_until = 0
    for n in range(1, len(lines)):  # the run as the recorder saw it, line by line
        if lines[n - 1].kind == "end":
            break
        so_far = classify(lines[:n], now=lines[n - 1].t)
        for _, hi, event in due_time_spent_events(
            RUN, so_far, reported_until, window_ms, final=False
        ):
            events.append(event)
            reported_until = hi
    closed = classify(lines)
    events += [e for *_, e in due_time_spent_events(RUN, closed, reported_until, window_ms, True)]
    result = score(lines, closed)
    events.append(
        activity_completed_event(
            RUN, closed.end, result.questions, result.correct, result.xp, result.mastered
        )
    )
    validate(shared, "Envelope", envelope(RUN.app.sensor, RUN.anchor, events))

    categories = ("active", "inactive", "waste", "unknown")
    seconds: dict[str, Decimal] = dict.fromkeys(categories, Decimal(0))
    for event in events[:-1]:
        validate(shared, "TimebackTimeSpentEvent", event)
        for item in event["generated"]["items"]:
            seconds[item["type"]] += Decimal(str(item["value"]))
    for category in ("active", "inactive", "waste", "unknown"):
        assert seconds[category] == Decimal(str(expected[f"{category}Seconds"])), category
    assert len({e["id"] for e in events}) == len(events)
    completed = events[-1]
    validate(shared, "TimebackActivityCompletedEvent", completed)
    metrics = {i["type"]: i["value"] for i in completed["generated"]["items"]}
    assert metrics["xpEarned"] == expected["xp"]
    assert metrics["masteredUnits"] == (1 if expected["mastered"] else 0)
    assert metrics["totalQuestions"] == expected["questions"]
