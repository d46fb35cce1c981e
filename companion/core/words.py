"""The one word list for the kinds of time, used by every window and command's text.

JSON keys and Caliper fields keep the rules' names (``active``, ``inactive``, ``waste``,
``unknown``); only what a person reads uses these words. ``inactive`` time is split in two
for people: ``idle`` (no input) and ``away`` (screen locked or computer asleep).
"""

from __future__ import annotations

from typing import Final, Literal

from companion.core.rules import Segment

TimeKind = Literal["focused", "idle", "away", "off-task", "not seen"]

TIME_KINDS: Final[tuple[TimeKind, ...]] = ("focused", "idle", "away", "off-task", "not seen")

EXPLAINED: Final[dict[TimeKind, str]] = {
    "focused": "working in the lesson",
    "idle": "with nothing happening",
    "away": "with the screen locked or asleep",
    "off-task": "with another window in front",
    "not seen": "when the app could not see the computer",
}
"""What each kind means, for a sentence: "3 min with nothing happening"."""


def kind_of(segment: Segment) -> TimeKind:
    """The word for a classified segment's time."""
    if segment.category == "active":
        return "focused"
    if segment.category == "waste":
        return "off-task"
    if segment.category == "unknown":
        return "not seen"
    return "idle" if segment.sub_type == "idle" else "away"
