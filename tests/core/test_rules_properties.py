"""Invariants of learning-rules.md section 2 over generated journals."""

from __future__ import annotations

import itertools
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from companion.core.journal import Kind, LessonSettings, Line
from companion.core.rules import CATEGORIES, Classification, classify, score

FAST = settings(max_examples=200, deadline=None)

# gaps mostly short, some around typical timeouts, some long; ms with 3-decimal precision
_gap = st.one_of(
    st.just(0),
    st.integers(0, 5_000),
    st.integers(0, 200_000),
    st.integers(0, 900_000),
)


_KINDS: list[Kind] = [
    "input", "focus", "sensing", "lock", "unlock", "suspend", "resume", "media", "answer",
    "heartbeat",
]


@st.composite
def _line(draw: st.DrawFn, t: int, pool: list[Kind]) -> Line:
    kind = draw(st.sampled_from(pool))
    if kind == "focus":
        return Line(t, "focus", focused=draw(st.booleans()),
                    app=draw(st.sampled_from([None, "game", "chat"])))
    if kind == "sensing":
        return Line(t, "sensing", available=draw(st.booleans()))
    if kind == "media":
        return Line(t, "media", playing=draw(st.booleans()))
    if kind == "answer":
        return Line(t, "answer", item=draw(st.sampled_from("abcdef")),
                    correct=draw(st.booleans()))
    return Line(t, kind)


@st.composite
def journals(draw: st.DrawFn, closed: bool = True) -> list[Line]:
    """A valid journal: `start`, up to 40 observations in time order, then `end`."""
    lesson_settings = LessonSettings(
        idle_timeout_ms=draw(st.integers(1, 300_000)),
        abandon_after_ms=draw(st.integers(1, 1_200_000) | st.integers(1, 40_000_000)),
        min_questions=draw(st.integers(0, 3)),
        expected_xp=draw(st.none() | st.integers(0, 300).map(lambda x: Decimal(x) / 10)),
        mastery_threshold=Fraction(draw(st.integers(0, 100)), 100),
    )
    t = draw(st.integers(0, 10_000))
    lines = [Line(t, "start", lesson="L", settings=lesson_settings,
                  attempt=draw(st.integers(1, 3)))]
    # each journal draws from its own mix of kinds, so that rare combinations come up
    pool = draw(st.lists(st.sampled_from(_KINDS), min_size=1, max_size=8))
    for _ in range(draw(st.integers(0, 40))):
        t += draw(_gap)
        lines.append(draw(_line(t, pool)))
    if closed:
        t += draw(_gap)
        lines.append(Line(t, "end", completed=draw(st.booleans())))
    return lines


def _check_shape(c: Classification) -> None:
    assert c.start <= c.settled_until <= c.end
    pos = c.start
    prev: tuple[str, str | None] | None = None
    for seg in c.segments:
        assert seg.start == pos
        assert seg.end > seg.start
        assert (seg.category, seg.sub_type) != prev
        prev = (seg.category, seg.sub_type)
        pos = seg.end
    assert pos == c.end


def _present_ms(lines: list[Line], until: int) -> int:
    """Time the window was focused, unlocked and awake, up to ``until``."""
    focused, locked, suspended = True, False, False
    total = 0
    since = lines[0].t
    for line in lines[1:]:
        t = min(line.t, until)
        if focused and not locked and not suspended:
            total += max(0, t - since)
        since = t
        if line.kind == "focus":
            focused = bool(line.focused)
        elif line.kind in ("lock", "unlock"):
            locked = line.kind == "lock"
        elif line.kind in ("suspend", "resume"):
            suspended = line.kind == "suspend"
    if focused and not locked and not suspended:
        total += max(0, until - since)
    return total


@FAST
@given(journals())
def test_totals_and_cut_off_time_add_up_to_the_run(lines: list[Line]) -> None:
    c = classify(lines)
    _check_shape(c)
    totals = c.totals()
    assert all(v >= 0 for v in totals.values())
    assert sum(totals.values()) + c.cut_ms == lines[-1].t - lines[0].t
    assert c.cut_ms >= 0
    assert (c.cut_ms > 0) <= (c.abandoned_at is not None)
    assert c.settled_until == c.end


@FAST
@given(journals())
def test_active_never_exceeds_present_time(lines: list[Line]) -> None:
    c = classify(lines)
    assert c.total("active") <= _present_ms(lines, c.end)


@FAST
@given(journals(), st.integers(1, 10**9))
def test_shifting_the_journal_changes_no_total(lines: list[Line], offset: int) -> None:
    shifted = [replace(line, t=line.t + offset) for line in lines]
    a, b = classify(lines), classify(shifted)
    assert a.totals() == b.totals()
    assert [(s.category, s.sub_type, s.end - s.start) for s in a.segments] == [
        (s.category, s.sub_type, s.end - s.start) for s in b.segments]
    if a.abandoned_at is None:
        assert b.abandoned_at is None
    else:
        assert b.abandoned_at == a.abandoned_at + offset
    assert score(lines, a) == score(shifted, b)


@FAST
@given(journals(), st.lists(st.integers(0, 3_000_000), max_size=6))
def test_splitting_into_windows_changes_no_total(lines: list[Line], cuts: list[int]) -> None:
    c = classify(lines)
    bounds = sorted({c.start, c.end, *(c.start + x for x in cuts if c.start + x < c.end)})
    summed = dict.fromkeys(CATEGORIES, 0)
    for lo, hi in itertools.pairwise(bounds):
        for cat, ms in c.totals(lo, hi).items():
            summed[cat] += ms
        clipped = c.clip(lo, hi)
        assert sum(s.end - s.start for s in clipped) == hi - lo
    assert summed == c.totals()


@FAST
@given(journals(), st.data())
def test_settled_time_never_changes_when_lines_are_appended(
    lines: list[Line], data: Any
) -> None:
    k = data.draw(st.integers(1, len(lines) - 1), label="prefix length")
    prefix = lines[:k]
    upper = lines[k].t
    now = data.draw(st.integers(prefix[-1].t, upper), label="now")
    open_c = classify(prefix, now)
    full = classify(lines)
    _check_shape(open_c)
    assert open_c.end == (now if open_c.abandoned_at is None else open_c.abandoned_at)
    assert full.end >= open_c.settled_until
    settled = (open_c.start, open_c.settled_until)
    assert open_c.clip(*settled) == full.clip(*settled)
    if open_c.abandoned_at is not None:
        assert full.abandoned_at == open_c.abandoned_at
    elif full.abandoned_at is not None:
        assert full.abandoned_at >= open_c.settled_until


@FAST
@given(journals())
def test_score_is_consistent(lines: list[Line]) -> None:
    c = classify(lines)
    s = score(lines, c)
    assert 0 <= s.correct <= s.questions <= len({x.item for x in lines if x.kind == "answer"})
    assert s.xp >= 0 and s.xp == s.xp.quantize(Decimal("0.1"))
    assert Fraction(s.xp) <= Fraction(s.active_ms, 60_000) * Fraction(5, 4)
    if s.expected_xp is not None:
        assert Fraction(s.xp) <= Fraction(s.expected_xp) * Fraction(5, 4)
    if not s.completed or not s.gate_passed:
        assert s.xp == 0
    if s.mastered:
        assert s.completed and s.questions >= max(1, s.min_questions)
    assert s.abandoned == (c.abandoned_at is not None)
    assert s.active_ms == c.total("active")


def _unattended(
    focused: bool, app: str | None, sensing: bool, locked: bool, suspended: bool
) -> tuple[str, str | None] | None:
    if suspended or locked:
        return ("inactive", "suspended" if suspended else "locked")
    if not focused:
        return ("waste", f"focus-lost:{app}" if app else "focus-lost")
    return None if sensing else ("unknown", None)


def _category_at(lines: list[Line], x: int) -> tuple[str, str | None]:
    """The category of instant ``x`` straight from the words of section 2 (no abandonment)."""
    idle = (lines[0].settings or LessonSettings()).idle_timeout_ms
    st_: dict[str, Any] = {
        "focused": True, "app": None, "sensing": True, "locked": False, "suspended": False,
    }
    playing = False
    last_signal = lines[0].t

    def apply(line: Line) -> None:
        if line.kind == "focus":
            st_["focused"] = bool(line.focused)
            if not line.focused:
                st_["app"] = line.app
        elif line.kind == "sensing":
            st_["sensing"] = bool(line.available)
        elif line.kind in ("lock", "unlock"):
            st_["locked"] = line.kind == "lock"
        elif line.kind in ("suspend", "resume"):
            st_["suspended"] = line.kind == "suspend"

    def mode() -> tuple[str, str | None] | None:
        return _unattended(**st_)

    later = len(lines)
    for i, line in enumerate(lines[1:], start=1):
        if line.t > x:
            later = i
            break
        before = mode()
        apply(line)
        after = mode()
        if after is None and (before is not None or line.kind in ("input", "media")):
            last_signal = line.t
        if line.kind == "media":
            playing = bool(line.playing)
    here = mode()
    if here is not None:
        return here
    if playing:
        return ("active", None)
    stretch_end = lines[-1].t
    for line in lines[later:]:
        if line.kind in ("input", "media"):
            stretch_end = line.t
            break
        apply(line)
        if mode() is not None:
            stretch_end = line.t
            break
    return ("active", None) if stretch_end - last_signal <= idle else ("inactive", "idle")


@settings(max_examples=100, deadline=None)
@given(journals(), st.lists(st.integers(0, 3_000_000), max_size=5))
def test_classification_matches_the_definition_instant_by_instant(
    lines: list[Line], extra: list[int]
) -> None:
    c = classify(lines)
    instants = {line.t for line in lines} | {line.t + 1 for line in lines}
    instants |= {c.start + x for x in extra}
    for x in sorted(i for i in instants if c.start <= i < c.end):
        seg = next(s for s in c.segments if s.start <= x < s.end)
        assert (seg.category, seg.sub_type) == _category_at(lines, x), x
