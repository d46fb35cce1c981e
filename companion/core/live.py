"""The figures of an open run for the session window's status line, from its journal.

The same rules whether the run is kept in this process or in the machine service: focused
seconds that cannot be taken back, the state now, answers and accuracy, and how long a
quiet gap has before it turns idle.
"""

from __future__ import annotations

from collections.abc import Mapping

from companion.core import rules
from companion.core.journal import DEFAULT_IDLE_TIMEOUT_MS, Line
from companion.core.sampler import Observation
from companion.core.session_types import LiveState, LiveStats


def live_stats(
    lines: list[Line],
    classification: rules.Classification,
    now: int,
    last_obs: Observation,
    answered: Mapping[str, bool],
) -> LiveStats:
    """The run's figures at run time ``now`` (``answered``: each item's first answer)."""
    count = len(answered)
    correct = sum(1 for ok in answered.values() if ok)
    active_ms = classification.total("active")
    segments = classification.segments
    # only a run whose time is active right now can have quiet seconds to take back
    open_active = bool(segments) and segments[-1].end == now and segments[-1].category == "active"
    certain_ms = certain_active_ms(lines, now) if open_active else active_ms
    pending_ms = max(0, active_ms - certain_ms)
    idle_ms = _idle_timeout(lines)
    return LiveStats(
        focused_s=certain_ms // 1000,
        state=state_now(last_obs, classification, now),
        answered=count,
        correct=correct,
        accuracy=correct / count if count else None,
        elapsed_s=now // 1000,
        pending_s=pending_ms // 1000,
        idle_in_s=(max(0, idle_ms - pending_ms) + 999) // 1000 if pending_ms else None,
    )


def certain_active_ms(lines: list[Line], now: int) -> int:
    """Active time up to ``now`` that no later line can take back: the run classified as
    if nothing at all happened after ``now`` until the quiet gap had turned idle."""
    worst = rules.classify(lines, now + _idle_timeout(lines) + 1)
    return worst.total("active", 0, now)


def state_now(obs: Observation, classification: rules.Classification, now: int) -> LiveState:
    """The state now: from the latest observation, and the rules for active versus idle."""
    if obs.locked:
        return "away"
    if not obs.focused:
        return "off-task"
    if not obs.sensing_available:
        return "unknown"
    segments = classification.segments
    if segments and segments[-1].end == now and segments[-1].sub_type == "idle":
        return "idle"
    return "active"


def _idle_timeout(lines: list[Line]) -> int:
    settings = lines[0].settings if lines and lines[0].settings else None
    return settings.idle_timeout_ms if settings is not None else DEFAULT_IDLE_TIMEOUT_MS
