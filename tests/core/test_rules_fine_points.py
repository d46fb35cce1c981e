"""One small journal per rule of learning-rules.md sections 2-4 and per fine point of §6."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from companion.core.journal import JournalError, Line, parse_line
from companion.core.rules import (
    Classification,
    Score,
    Segment,
    classify,
    explain,
    score,
    summarize,
)


def journal(*rows: tuple[Any, ...], **start: Any) -> list[Line]:
    """A journal from rows ``(t_seconds, kind[, {fields}])``; ``start`` fields go on line 1."""
    lines = [parse_line({"t": 0, "kind": "start", "lesson": "L", **start}, 1)]
    for no, row in enumerate(rows, start=2):
        fields = row[2] if len(row) > 2 else {}
        lines.append(parse_line({"t": row[0], "kind": row[1], **fields}, no))
    return lines


def run(lines: list[Line]) -> tuple[Classification, Score]:
    c = classify(lines)
    return c, score(lines, c)


def secs(c: Classification) -> dict[str, float]:
    return {k: v / 1000 for k, v in c.totals().items()}


def segs(c: Classification) -> list[tuple[float, float, str, str | None]]:
    return [(s.start / 1000, s.end / 1000, s.category, s.sub_type) for s in c.segments]


def answers(t: float, right: int, wrong: int = 0) -> list[tuple[Any, ...]]:
    """``right`` correct then ``wrong`` wrong answers to distinct items, all at t."""
    rows: list[tuple[Any, ...]] = []
    for i in range(right + wrong):
        rows.append((t, "answer", {"item": f"q{i}", "correct": i < right}))
    return rows


def inputs(every: float, until: float, first: float | None = None) -> list[tuple[Any, ...]]:
    t = every if first is None else first
    rows: list[tuple[Any, ...]] = []
    while t <= until:
        rows.append((t, "input"))
        t += every
    return rows


# --- Section 2: categories -------------------------------------------------------------


def test_locked_is_inactive_locked() -> None:
    c, _ = run(journal((10, "lock"), (70, "unlock"), (80, "end")))
    assert segs(c) == [(0, 10, "active", None), (10, 70, "inactive", "locked"),
                       (70, 80, "active", None)]


def test_suspended_is_inactive_suspended_even_when_also_locked() -> None:
    c, _ = run(journal((10, "lock"), (20, "suspend"), (50, "resume"), (60, "unlock"),
                       (70, "end")))
    assert segs(c) == [
        (0, 10, "active", None),
        (10, 20, "inactive", "locked"),
        (20, 50, "inactive", "suspended"),
        (50, 60, "inactive", "locked"),
        (60, 70, "active", None),
    ]


def test_unfocused_is_waste_with_the_named_app() -> None:
    c, _ = run(journal((10, "focus", {"focused": False, "app": "game"}),
                       (40, "focus", {"focused": False}),
                       (50, "focus", {"focused": True}), (60, "end")))
    assert segs(c) == [
        (0, 10, "active", None),
        (10, 40, "waste", "focus-lost:game"),
        (40, 50, "waste", "focus-lost"),
        (50, 60, "active", None),
    ]


def test_away_wins_over_unfocused_and_waste_over_unknown() -> None:
    c, _ = run(journal((10, "sensing", {"available": False}),
                       (20, "focus", {"focused": False}), (30, "lock"), (40, "unlock"),
                       (50, "focus", {"focused": True}), (60, "sensing", {"available": True}),
                       (70, "end")))
    assert segs(c) == [
        (0, 10, "active", None),
        (10, 20, "unknown", None),
        (20, 30, "waste", "focus-lost"),
        (30, 40, "inactive", "locked"),
        (40, 50, "waste", "focus-lost"),
        (50, 60, "unknown", None),
        (60, 70, "active", None),
    ]


def test_sensing_unavailable_is_unknown_and_never_active() -> None:
    c, _ = run(journal((10, "sensing", {"available": False}), (20, "input"),
                       (30, "media", {"playing": True}), (90, "end")))
    assert secs(c) == {"active": 10, "inactive": 0, "waste": 0, "unknown": 80}


def test_gap_of_exactly_idle_timeout_is_active_one_ms_more_is_idle() -> None:
    c, _ = run(journal((120, "input"), (240.001, "input"), (250, "end")))
    assert segs(c) == [(0, 120, "active", None), (120, 240.001, "inactive", "idle"),
                       (240.001, 250, "active", None)]


def test_idle_is_retroactive_over_the_whole_gap() -> None:
    c, _ = run(journal((10, "input"), (200, "input"), (210, "end")))
    assert secs(c) == {"active": 20, "inactive": 190, "waste": 0, "unknown": 0}


def test_gap_to_the_end_of_a_stretch_counts_like_any_gap() -> None:
    c, _ = run(journal((10, "input"), (200, "focus", {"focused": False}), (210, "end")))
    assert segs(c) == [(0, 10, "active", None), (10, 200, "inactive", "idle"),
                       (200, 210, "waste", "focus-lost")]


def test_lesson_idle_timeout_overrides_the_default() -> None:
    c, _ = run(journal((61, "input"), (70, "end"), idleTimeout=60))
    assert secs(c)["inactive"] == 61
    c, _ = run(journal((61, "input"), (70, "end"), idleTimeout=61))
    assert secs(c)["active"] == 70


def test_media_playing_makes_attended_time_active() -> None:
    c, _ = run(journal((5, "media", {"playing": True}), (505, "media", {"playing": False}),
                       (520, "end")))
    assert secs(c)["active"] == 520


def test_three_decimal_times_are_exact() -> None:
    c, _ = run(journal((0.001, "input"), (0.101, "input"), (0.202, "input"), (0.3, "end"),
                       idleTimeout=0.1))
    assert [(s.start, s.end, s.category) for s in c.segments] == [
        (0, 101, "active"), (101, 202, "inactive"), (202, 300, "active"),
    ]


def test_abandonment_in_a_mix_of_idle_away_and_waste() -> None:
    c, s = run(journal((10, "input"), (200, "lock"), (400, "unlock"),
                       (400, "focus", {"focused": False}), (900, "focus", {"focused": True}),
                       (950, "end")))
    assert c.abandoned_at == 610_000
    assert segs(c) == [(0, 10, "active", None), (10, 200, "inactive", "idle"),
                       (200, 400, "inactive", "locked"), (400, 610, "waste", "focus-lost")]
    assert c.cut_ms == 340_000
    assert s.completed is False and s.abandoned is True


def test_active_time_ends_a_stretch_without_active_time() -> None:
    c, _ = run(journal((10, "input"), (200, "lock"), (400, "unlock"),
                       (420, "focus", {"focused": False}), (900, "focus", {"focused": True}),
                       (950, "end")))
    assert c.abandoned_at is None
    assert secs(c) == {"active": 10 + 20 + 50, "inactive": 390, "waste": 480, "unknown": 0}


def test_idle_and_away_join_one_stretch_without_active_time() -> None:
    c, s = run(journal((10, "input"), (300, "lock"), (700, "unlock"), (705, "input"),
                       (710, "end")))
    assert c.abandoned_at == 610_000
    assert c.end == 610_000
    assert segs(c) == [(0, 10, "active", None), (10, 300, "inactive", "idle"),
                       (300, 610, "inactive", "locked")]
    assert c.cut_ms == 100_000
    assert s.xp == 0 and not s.completed


def test_unknown_time_ends_a_stretch_without_active_time() -> None:
    c, _ = run(journal((0, "focus", {"focused": False}), (400, "sensing", {"available": False}),
                       (400, "focus", {"focused": True}), (401, "focus", {"focused": False}),
                       (900, "end")))
    assert c.abandoned_at is None
    assert secs(c) == {"active": 0, "inactive": 0, "waste": 899, "unknown": 1}


def test_lesson_abandon_after_overrides_the_default() -> None:
    c, _ = run(journal((0, "lock"), (100, "unlock"), (110, "end"), abandonAfter=60))
    assert c.abandoned_at == 60_000
    assert secs(c)["inactive"] == 60


# --- Section 3: XP --------------------------------------------------------------------


def test_no_answers_no_xp_but_time_is_reported() -> None:
    c, s = run(journal(*inputs(10, 300), (300, "end")))
    assert secs(c)["active"] == 300
    assert (s.questions, s.accuracy, s.xp, s.gate_passed) == (0, None, Decimal("0.0"), False)


def test_below_80_percent_earns_nothing() -> None:
    _, s = run(journal(*inputs(10, 300), *answers(300, 7, 2), (300, "end")))
    assert s.accuracy == Fraction(7, 9)
    assert (s.gate_passed, s.xp) == (False, Decimal(0))


def test_exactly_80_percent_passes_the_gate() -> None:
    _, s = run(journal(*inputs(10, 600), *answers(600, 4, 1), (600, "end")))
    assert s.accuracy == Fraction(4, 5)
    assert s.gate_passed and s.multiplier == 1
    assert s.xp == Decimal("10.0")
    assert not s.mastered


@pytest.mark.parametrize(
    ("attempt", "right", "wrong", "multiplier", "xp"),
    [
        (1, 10, 0, Fraction(5, 4), Decimal("12.5")),
        (1, 9, 1, Fraction(1), Decimal("10.0")),
        (2, 10, 0, Fraction(1), Decimal("10.0")),
        (2, 9, 1, Fraction(1, 2), Decimal("5.0")),
        (3, 10, 0, Fraction(1), Decimal("10.0")),
        (7, 9, 1, Fraction(1, 2), Decimal("5.0")),
    ],
)
def test_multiplier_per_attempt(
    attempt: int, right: int, wrong: int, multiplier: Fraction, xp: Decimal
) -> None:
    _, s = run(journal(*inputs(10, 600), *answers(600, right, wrong), (600, "end"),
                       attempt=attempt))
    assert (s.multiplier, s.xp) == (multiplier, xp)


def test_xp_is_floored_to_one_decimal() -> None:
    # 119.999 s = 1.99998 min -> 1.9, never 2.0
    _, s = run(journal((60, "input"), (119.999, "input"), *answers(119.999, 9, 1),
                       (119.999, "end")))
    assert s.active_ms == 119_999
    assert s.xp == Decimal("1.9")
    assert str(s.xp) == "1.9"


def test_expected_xp_caps_minutes_before_the_multiplier() -> None:
    _, s = run(journal(*inputs(10, 600), *answers(600, 3), (600, "end"), expectedXp=4))
    assert s.capped and s.minutes == 4
    assert s.xp == Decimal("5.0")  # 1.25 x expectedXp
    _, s = run(journal(*inputs(10, 120), *answers(120, 3), (120, "end"), expectedXp=4))
    assert not s.capped and s.xp == Decimal("2.5")


def test_a_second_answer_to_an_item_does_not_change_accuracy() -> None:
    rows = [
        (10, "answer", {"item": "a", "correct": False}),
        (11, "answer", {"item": "a", "correct": True}),
        (12, "answer", {"item": "b", "correct": True}),
        (13, "answer", {"item": "b", "correct": False}),
    ]
    _, s = run(journal(*rows, (20, "end")))
    assert (s.questions, s.correct, s.accuracy) == (2, 1, Fraction(1, 2))


def test_abandoned_run_earns_no_xp_even_with_perfect_answers() -> None:
    c, s = run(journal(*inputs(10, 300), *answers(300, 5), (300, "lock"), (1000, "end")))
    assert c.abandoned_at == 900_000
    assert s.questions == 5 and s.gate_passed
    assert (s.xp, s.mastered, s.completed) == (Decimal(0), False, False)


# --- Section 4: mastery ---------------------------------------------------------------


def test_mastery_needs_90_percent() -> None:
    _, s = run(journal(*answers(5, 9, 1), (10, "end")))
    assert s.mastered
    _, s = run(journal(*answers(5, 8, 1), (10, "end")))
    assert s.accuracy == Fraction(8, 9) and not s.mastered


def test_mastery_needs_min_questions() -> None:
    _, s = run(journal(*answers(5, 4), (10, "end"), minQuestions=5))
    assert not s.mastered
    _, s = run(journal(*answers(5, 5), (10, "end"), minQuestions=5))
    assert s.mastered


def test_lesson_mastery_threshold() -> None:
    _, s = run(journal(*answers(5, 9, 1), (10, "end"), masteryThreshold=1.0))
    assert not s.mastered
    _, s = run(journal(*answers(5, 19, 1), (10, "end"), masteryThreshold=0.95))
    assert s.mastered


# --- Section 6: fine points -----------------------------------------------------------


def test_same_t_lines_apply_in_file_order() -> None:
    c, _ = run(journal((10, "focus", {"focused": False}), (10, "focus", {"focused": True}),
                       (10, "lock"), (20, "end")))
    assert segs(c) == [(0, 10, "active", None), (10, 20, "inactive", "locked")]


def test_a_zero_length_state_begins_a_new_stretch() -> None:
    # without the flip at 100 the 200 s gap would be idle; with it, two 100 s gaps
    c, _ = run(journal((100, "focus", {"focused": False}), (100, "focus", {"focused": True}),
                       (200, "end")))
    assert secs(c) == {"active": 200, "inactive": 0, "waste": 0, "unknown": 0}
    c, _ = run(journal((100, "lock"), (100, "unlock"), (200, "end")))
    assert secs(c)["active"] == 200


def test_zero_length_unknown_does_not_end_a_stretch_without_active_time() -> None:
    c, _ = run(journal((0, "focus", {"focused": False}), (300, "sensing", {"available": False}),
                       (300, "focus", {"focused": True}), (300, "sensing", {"available": True}),
                       (1000, "end")))
    assert c.abandoned_at == 600_000
    assert segs(c) == [(0, 300, "waste", "focus-lost"), (300, 600, "inactive", "idle")]


def test_input_outside_an_attended_stretch_is_ignored() -> None:
    c, _ = run(journal((10, "focus", {"focused": False}), *inputs(5, 100, first=15),
                       (110, "end")))
    assert secs(c) == {"active": 10, "inactive": 0, "waste": 100, "unknown": 0}
    c, _ = run(journal((10, "sensing", {"available": False}), *inputs(5, 100, first=15),
                       (110, "end")))
    assert secs(c) == {"active": 10, "inactive": 0, "waste": 0, "unknown": 100}
    c, _ = run(journal((10, "lock"), (20, "input"), (30, "resume"), (40, "end")))
    assert secs(c) == {"active": 10, "inactive": 30, "waste": 0, "unknown": 0}


@pytest.mark.parametrize(
    "row",
    [
        (100, "focus", {"focused": True}),
        (100, "unlock"),
        (100, "resume"),
        (100, "sensing", {"available": True}),
        (100, "heartbeat"),
        (100, "answer", {"item": "q", "correct": True}),
    ],
)
def test_a_line_that_changes_nothing_is_not_a_signal(row: tuple[Any, ...]) -> None:
    c, _ = run(journal(row, (200, "end")))
    assert segs(c) == [(0, 200, "inactive", "idle")]


@pytest.mark.parametrize("playing", [True, False])
def test_every_media_line_in_a_stretch_is_a_signal(playing: bool) -> None:
    c, _ = run(journal((100, "media", {"playing": False}),
                       (100, "media", {"playing": playing}), (200, "end")))
    assert secs(c)["active"] == 200


def test_media_while_unattended_sets_playing_but_is_no_signal() -> None:
    c, _ = run(journal((10, "focus", {"focused": False}), (20, "media", {"playing": True}),
                       (30, "focus", {"focused": True}), (500, "end")))
    assert secs(c) == {"active": 480, "inactive": 0, "waste": 20, "unknown": 0}
    c, _ = run(journal((10, "lock"), (20, "media", {"playing": False}), (30, "unlock"),
                       (160, "end")))
    assert segs(c) == [(0, 10, "active", None), (10, 30, "inactive", "locked"),
                       (30, 160, "inactive", "idle")]


def test_answers_count_while_unattended() -> None:
    _, s = run(journal((10, "focus", {"focused": False}), *answers(20, 2), (30, "lock"),
                       *answers(40, 3), (50, "end")))
    assert (s.questions, s.correct) == (3, 3)


def test_resume_while_locked_stays_away_until_unlock() -> None:
    c, _ = run(journal((10, "lock"), (20, "suspend"), (30, "resume"), (40, "unlock"),
                       (170, "end")))
    # the stretch begins at the unlock (40): a 130 s gap with no signal is idle
    assert segs(c)[-2:] == [(30, 40, "inactive", "locked"), (40, 170, "inactive", "idle")]
    c, _ = run(journal((10, "suspend"), (20, "lock"), (30, "unlock"), (40, "resume"),
                       (100, "end")))
    assert segs(c) == [(0, 10, "active", None), (10, 40, "inactive", "suspended"),
                       (40, 100, "active", None)]


def test_abandonment_can_fall_inside_an_idle_gap() -> None:
    c, s = run(journal((30, "input"), *answers(31, 1), (800, "input"), (900, "end")))
    assert c.abandoned_at == 630_000
    assert secs(c) == {"active": 30, "inactive": 600, "waste": 0, "unknown": 0}
    assert s.questions == 1 and s.xp == 0


def test_a_line_at_the_abandonment_instant_is_dropped() -> None:
    rows = [(10, "focus", {"focused": False}),
            (609.999, "answer", {"item": "a", "correct": True}),
            (610, "answer", {"item": "b", "correct": True}),
            (610, "focus", {"focused": True}), (700, "end")]
    c, s = run(journal(*rows))
    assert c.abandoned_at == 610_000  # the focus at 610 does not save the run
    assert (s.questions, s.correct) == (1, 1)


def test_an_end_at_the_abandonment_instant_leaves_the_run_abandoned() -> None:
    c, s = run(journal((10, "focus", {"focused": False}), (610, "end")))
    assert c.abandoned_at == 610_000 and c.cut_ms == 0
    assert (s.abandoned, s.completed) == (True, False)
    c, s = run(journal((10, "focus", {"focused": False}), (609.999, "end")))
    assert c.abandoned_at is None and s.completed


def test_completed_false_earns_nothing_and_masters_nothing() -> None:
    c, s = run(journal(*inputs(10, 300), *answers(300, 5), (300, "end", {"completed": False})))
    assert c.abandoned_at is None
    assert (s.completed, s.abandoned, s.xp, s.mastered) == (False, False, Decimal(0), False)


def test_no_questions_masters_nothing_even_with_min_questions_zero() -> None:
    _, s = run(journal(*inputs(10, 300), (300, "end"), minQuestions=0))
    assert not s.mastered


def test_mastery_threshold_does_not_move_the_xp_gate() -> None:
    _, s = run(journal(*inputs(10, 600), *answers(600, 3, 2), (600, "end"),
                       masteryThreshold=0.5))
    assert s.mastered and not s.gate_passed and s.xp == 0
    _, s = run(journal(*inputs(10, 600), *answers(600, 17, 3), (600, "end"),
                       masteryThreshold=1))
    assert s.gate_passed and s.xp == Decimal("10.0") and not s.mastered


def test_replay_infers_nothing_from_the_spacing_of_lines() -> None:
    c, _ = run(journal((1, "media", {"playing": True}), (5000, "media", {"playing": False}),
                       (5001, "end")))
    assert secs(c) == {"active": 5001, "inactive": 0, "waste": 0, "unknown": 0}


def test_a_crash_closed_run_is_not_completed() -> None:
    c, s = run(journal((10, "input"), *answers(11, 1), (15, "heartbeat"),
                       (15, "end", {"completed": False})))
    assert secs(c)["active"] == 15
    assert (s.completed, s.xp, s.mastered) == (False, Decimal(0), False)


# --- Open journals --------------------------------------------------------------------


def test_open_journal_leaves_a_short_gap_unsettled() -> None:
    lines = journal((10, "input"), (30, "input"))
    c = classify(lines, now=100_000)
    assert (c.end, c.settled_until, c.closed) == (100_000, 30_000, False)
    assert c.total("active") == 100_000
    c = classify(lines, now=150_001)
    assert c.settled_until == 150_001
    assert segs(c)[-1] == (30, 150.001, "inactive", "idle")


def test_open_journal_is_settled_while_media_plays_or_unattended() -> None:
    c = classify(journal((10, "media", {"playing": True})), now=50_000)
    assert c.settled_until == 50_000
    c = classify(journal((10, "focus", {"focused": False})), now=50_000)
    assert c.settled_until == 50_000


def test_open_journal_defaults_now_to_the_last_line() -> None:
    c = classify(journal((10, "input"), (25, "heartbeat")))
    assert (c.end, c.settled_until) == (25_000, 10_000)


def test_open_journal_detects_abandonment() -> None:
    lines = journal((10, "focus", {"focused": False}))
    assert classify(lines, now=609_999).abandoned_at is None
    c = classify(lines, now=610_000)
    assert (c.abandoned_at, c.end, c.settled_until) == (610_000, 610_000, 610_000)
    c = classify(lines, now=700_000)
    assert c.abandoned_at == 610_000 and c.cut_ms == 90_000


def test_open_journal_score_is_provisional() -> None:
    lines = journal(*inputs(10, 120), *answers(120, 3))
    s = score(lines, classify(lines, now=120_000))
    assert (s.closed, s.completed, s.xp) == (False, True, Decimal("2.5"))
    assert explain(s)[-1].startswith("The run is still open")


def test_now_before_the_last_line_is_an_error() -> None:
    with pytest.raises(ValueError, match="before the last line"):
        classify(journal((10, "input")), now=5_000)


# --- Shape, totals and summaries ------------------------------------------------------


def test_totals_in_a_window_and_clip() -> None:
    c, _ = run(journal((10, "focus", {"focused": False}), (30, "focus", {"focused": True}),
                       (40, "end")))
    assert c.totals(5_000, 35_000) == {"active": 10_000, "inactive": 0, "waste": 20_000,
                                       "unknown": 0}
    assert c.clip(5_000, 15_000) == (Segment(5_000, 10_000, "active"),
                                      Segment(10_000, 15_000, "waste", "focus-lost"))


def test_journal_must_begin_with_start() -> None:
    with pytest.raises(JournalError, match="start"):
        classify([parse_line({"t": 0, "kind": "input"}, 1)])


def test_summarize_needs_an_end_line() -> None:
    with pytest.raises(JournalError, match="no 'end' line"):
        summarize(journal((10, "input")))


def test_summarize_reports_seconds_with_three_decimals() -> None:
    got = summarize(journal((0.001, "input"), *answers(0.5, 1), (100.123, "end")))
    assert got["activeSeconds"] == 100.123
    assert got["accuracy"] == 1.0 and got["xp"] == 2.0  # 1.6687 min x 1.25 = 2.08 -> 2.0


def test_explain_names_gate_multiplier_cap_xp_and_mastery() -> None:
    _, s = run(journal(*inputs(10, 600), *answers(600, 9, 1), (600, "end"),
                       attempt=2, expectedXp=4))
    text = "\n".join(explain(s))
    assert "Active time: 10 min" in text
    assert "9 of 10 correct (90 %)" in text
    assert "80 % gate: passed" in text
    assert "×0.5 (attempt 2)" in text
    assert "expectedXp 4" in text
    assert "XP: floor(4 × 0.5 × 10) / 10 = 2.0" in text
    assert "Mastered: yes" in text
    _, s = run(journal(*answers(5, 1, 1), (10, "end")))
    text = "\n".join(explain(s))
    assert "80 % gate: failed (50 % < 80 %)" in text
    assert "Mastered: no (accuracy below 90 %)" in text
