"""Time-spent windows: which stretches of a run to report, and what each one holds.

A run's TimeSpentEvents cover its settled time in consecutive windows, with no gap and no
overlap, so that the sum of all reported items equals the run's totals exactly. Times are
integer milliseconds of run time.
"""

from __future__ import annotations

from typing import Any

from companion.core.caliper import RunInfo, time_spent_event
from companion.core.rules import Classification

TotalsKey = tuple[str, str | None]


def window_totals(
    classification: Classification, start_ms: int, end_ms: int
) -> dict[TotalsKey, int]:
    """Milliseconds per (category, sub_type) inside [start_ms, end_ms), by clipping segments.

    Keys with no time are left out. Raises ValueError for a window outside the run or
    with end before start.
    """
    if end_ms < start_ms:
        raise ValueError(f"window ends before it starts: [{start_ms}, {end_ms})")
    if start_ms < classification.start or end_ms > classification.end:
        raise ValueError(
            f"window [{start_ms}, {end_ms}) is outside the run "
            f"[{classification.start}, {classification.end})"
        )
    totals: dict[TotalsKey, int] = {}
    for seg in classification.segments:
        lo = max(seg.start, start_ms)
        hi = min(seg.end, end_ms)
        if hi > lo:
            key = (seg.category, seg.sub_type)
            totals[key] = totals.get(key, 0) + (hi - lo)
    return totals


def due_windows(
    classification: Classification, reported_until_ms: int, window_ms: int, final: bool
) -> list[tuple[int, int]]:
    """The windows to report now, as (start_ms, end_ms) pairs, in order.

    Windows are consecutive, ``window_ms`` long, and begin at ``reported_until_ms`` (or the
    run's start, if later). While the run is open only full windows up to
    ``classification.settled_until`` are due; with ``final`` everything up to
    ``classification.end`` is, the last window possibly shorter. Never a zero-length window;
    nothing due gives [].
    """
    if window_ms <= 0:
        raise ValueError(f"window_ms must be positive, not {window_ms}")
    limit = classification.end if final else min(classification.settled_until, classification.end)
    cursor = max(reported_until_ms, classification.start)
    windows: list[tuple[int, int]] = []
    while cursor + window_ms <= limit:
        windows.append((cursor, cursor + window_ms))
        cursor += window_ms
    if final and cursor < limit:
        windows.append((cursor, limit))
    return windows


def due_time_spent_events(
    run: RunInfo,
    classification: Classification,
    reported_until_ms: int,
    window_ms: int,
    final: bool,
) -> list[tuple[int, int, dict[str, Any]]]:
    """The TimeSpentEvents due now, each with its window, as (start_ms, end_ms, event).

    The windows are those of ``due_windows``; after storing the events, the run has been
    reported up to the last window's end. Raises MissingEmail when the actor has no email.
    """
    return [
        (lo, hi, time_spent_event(run, lo, hi, window_totals(classification, lo, hi)))
        for lo, hi in due_windows(classification, reported_until_ms, window_ms, final)
    ]
