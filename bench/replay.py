"""Benchmark: classify and score long journals (learning-rules.md sections 2-4).

Run from the repository root: ``.venv/bin/python bench/replay.py``. The last line printed
is JSON with the median seconds of 5 runs: {"replay_6h_s": ..., "replay_10h_media_s": ...}.
Goal: replay_6h_s < 0.2 on the project's reference machine.
"""

from __future__ import annotations

import json
import statistics
import time

from companion.core.journal import LessonSettings, Line
from companion.core.rules import classify, score

HOUR_MS = 3_600_000


def journal_6h() -> list[Line]:
    """Six hours with one input a second, a heartbeat every 15 s and a few answers."""
    lines = [Line(0, "start", lesson="bench", settings=LessonSettings(), attempt=1)]
    for t in range(1_000, 6 * HOUR_MS, 1_000):
        lines.append(Line(t, "input"))
        if t % 15_000 == 0:
            lines.append(Line(t, "heartbeat"))
        if t % 600_000 == 0:
            lines.append(Line(t, "answer", item=f"q{t}", correct=t != 600_000))
    lines.append(Line(6 * HOUR_MS, "end", completed=True))
    return lines


def journal_10h_media() -> list[Line]:
    """Ten hours: video half of each 20 minutes, inputs every second otherwise, plus
    heartbeats, a focus switch and a screen lock each hour."""
    lines = [Line(0, "start", lesson="bench", settings=LessonSettings(), attempt=2)]
    lines.append(Line(1_000, "media", playing=True))
    for t in range(1_000, 10 * HOUR_MS, 1_000):
        phase = t % 1_200_000
        if phase == 0:
            lines.append(Line(t, "media", playing=True))
        elif phase == 600_000:
            lines.append(Line(t, "media", playing=False))
        elif phase > 600_000:
            lines.append(Line(t, "input"))
        if t % 15_000 == 0:
            lines.append(Line(t, "heartbeat"))
        hour = t % HOUR_MS
        if hour == 1_800_000:
            lines.append(Line(t, "focus", focused=False, app="browser"))
        elif hour == 1_860_000:
            lines.append(Line(t, "focus", focused=True))
        elif hour == 3_000_000:
            lines.append(Line(t, "lock"))
        elif hour == 3_090_000:
            lines.append(Line(t, "unlock"))
        if t % 300_000 == 0:
            lines.append(Line(t, "answer", item=f"q{t}", correct=True))
    lines.append(Line(10 * HOUR_MS, "end", completed=True))
    return lines


def median_seconds(lines: list[Line], runs: int = 5) -> float:
    """Median wall time of classify + score over ``runs`` runs."""
    times: list[float] = []
    for _ in range(runs):
        began = time.perf_counter()
        score(lines, classify(lines))
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    j6 = journal_6h()
    j10 = journal_10h_media()
    c6 = classify(j6)
    s6 = score(j6, c6)
    c10 = classify(j10)
    s10 = score(j10, c10)
    print(f"6 h: {len(j6)} lines, active {c6.total('active') / 1000:g} s, xp {s6.xp}")
    print(f"10 h media: {len(j10)} lines, active {c10.total('active') / 1000:g} s, "
          f"xp {s10.xp}, {len(c10.segments)} segments")
    result = {
        "replay_6h_s": round(median_seconds(j6), 4),
        "replay_10h_media_s": round(median_seconds(j10), 4),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
