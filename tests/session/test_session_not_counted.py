"""The end-of-lesson summary says which time did not count, in the student's words."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from companion.core import rules
from companion.core.journal import parse_jsonl
from companion.core.session_types import not_counted
from companion.ui.summary import not_counted_text


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ("01-steady-practice", ()),
        ("02-long-pause-is-idle", (("idle", 220_000),)),
        ("03-switched-to-game", (("off-task", 180_000),)),
        ("06-screen-locked", (("away", 150_000),)),
        ("09-sensing-lost", (("not seen", 60_000),)),
        ("10-sleep", (("away", 600_000),)),
    ],
)
def test_time_that_earned_nothing_by_kind(
    shared: Path, example: str, expected: tuple[tuple[str, int], ...]
) -> None:
    text = (shared / "spec" / "examples" / f"{example}.jsonl").read_text(encoding="utf-8")
    lines = list(parse_jsonl(text.splitlines()))
    assert not_counted(rules.classify(lines)) == expected


def test_largest_first_and_in_words() -> None:
    summary = SimpleNamespace(not_counted_ms=(("off-task", 180_000), ("idle", 90_000)))
    assert not_counted_text(summary) == (
        " Not counted: 3 minutes off-task (with another window in front), 1.5 minutes idle "
        "(with nothing happening)."
    )
    assert not_counted_text(SimpleNamespace(not_counted_ms=())) == ""
    assert not_counted_text(SimpleNamespace(not_counted_ms=(("away", 60_000),))) == (
        " Not counted: 1 minute away (with the screen locked or asleep)."
    )
