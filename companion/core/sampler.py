"""The 1 s sampler: turns observations of the sensing sources into journal lines.

Pure and clock-free: the caller passes the monotonic time of each tick and what the sources
saw. The sampler follows learning-rules.md section 1: `focus`, `lock`/`unlock` and
`sensing` lines only on change; at most one `input` line a second, and only when the last
input time moved; a `heartbeat` every ``heartbeat_ms`` of run time; and a gap of more than
``sleep_gap_ticks`` ticks between two calls becomes `suspend` at the last tick before the
gap and `resume` now. Input is recorded whatever the focus (the rules ignore input that
arrives while unfocused); which key or where is never known here.
"""

from __future__ import annotations

from dataclasses import dataclass

from companion.core.journal import Line


@dataclass(frozen=True, slots=True)
class Observation:
    """What the sensing sources report at one tick.

    ``app`` names what is in front when the window is not focused (None when unknown).
    ``last_input_ms`` is the monotonic time (same clock as the ticks) of the latest input
    seen in the session window, or None when there has been none.
    """

    focused: bool = True
    app: str | None = None
    locked: bool = False
    sensing_available: bool = True
    last_input_ms: int | None = None


class Sampler:
    """Turns ticks into journal lines with ``t`` relative to the run's start.

    The run starts focused, unlocked, awake and with sensing available (spec section 2),
    so the first tick writes lines only for what differs from that.
    """

    def __init__(
        self,
        run_start_mono_ms: int,
        tick_ms: int = 1000,
        heartbeat_ms: int = 15_000,
        sleep_gap_ticks: int = 10,
    ) -> None:
        """Start sampling a run that began at monotonic time ``run_start_mono_ms``."""
        if tick_ms <= 0 or heartbeat_ms <= 0 or sleep_gap_ticks <= 0:
            raise ValueError("tick_ms, heartbeat_ms and sleep_gap_ticks must be positive")
        self.run_start_mono_ms = run_start_mono_ms
        self.tick_ms = tick_ms
        self.heartbeat_ms = heartbeat_ms
        self.sleep_gap_ticks = sleep_gap_ticks
        self._focused = True
        self._locked = False
        self._sensing = True
        self._last_tick_t = 0  # run time of the previous tick (the start counts as one)
        self._last_t = 0  # the largest t written so far
        self._last_heartbeat_t = 0
        self._last_input_line_t: int | None = None
        self._seen_input_ms: int | None = None

    @property
    def last_t(self) -> int:
        """The largest ``t`` the sampler has produced (0 before any line)."""
        return self._last_t

    def note_line(self, t: int) -> None:
        """Tell the sampler that someone else wrote a line at run time ``t`` (an answer)."""
        self._last_t = max(self._last_t, t)

    def run_time(self, now_mono_ms: int) -> int:
        """Run time (ms since the start) of a monotonic instant; never before the last line."""
        return max(now_mono_ms - self.run_start_mono_ms, self._last_t)

    def tick(self, now_mono_ms: int, obs: Observation) -> list[Line]:
        """The journal lines for one tick at monotonic time ``now_mono_ms``."""
        now = self.run_time(now_mono_ms)
        out: list[Line] = []
        gap_limit = self.sleep_gap_ticks * self.tick_ms
        if now - self._last_tick_t > gap_limit:
            out.append(Line(max(self._last_tick_t, self._last_t), "suspend"))
            out.append(Line(now, "resume"))
            self._last_heartbeat_t = now
        if obs.locked != self._locked:
            out.append(Line(now, "lock" if obs.locked else "unlock"))
            self._locked = obs.locked
        if obs.sensing_available != self._sensing:
            out.append(Line(now, "sensing", available=obs.sensing_available))
            self._sensing = obs.sensing_available
        if obs.focused != self._focused:
            app = None if obs.focused else obs.app
            out.append(Line(now, "focus", focused=obs.focused, app=app))
            self._focused = obs.focused
        out.extend(self._input(now, obs.last_input_ms))
        if not out and now - self._last_heartbeat_t >= self.heartbeat_ms:
            out.append(Line(now, "heartbeat"))
        if out:
            self._last_heartbeat_t = max(self._last_heartbeat_t, now)
            self._last_t = max(self._last_t, out[-1].t)
        self._last_tick_t = now
        return out

    def _input(self, now: int, last_input_ms: int | None) -> list[Line]:
        if last_input_ms is None:
            return []
        if self._seen_input_ms is not None and last_input_ms <= self._seen_input_ms:
            return []
        if last_input_ms < self.run_start_mono_ms:
            # input from before the run began is not the run's
            self._seen_input_ms = last_input_ms
            return []
        last = self._last_input_line_t
        if last is not None and now - last < 1000:
            return []  # keep it pending: the next tick a second later records it
        self._seen_input_ms = last_input_ms
        self._last_input_line_t = now
        return [Line(now, "input")]
