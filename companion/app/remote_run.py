"""``ui.ports.LessonRun`` over the machine service: the session window's run, kept there.

The sensing is sampled here with the same pure ``Sampler`` and the figures come from the
same ``core.rules`` as in ``session.run``, so the window's status line is the same; every
journal line goes to the service as it happens (``ServiceClient`` numbers it and holds it in
memory until the service acknowledges it, re-sending after a reconnect). Answers to items
the service holds a key for go with the student's response, for the service to score. At
the end the service closes the run and its answer is the summary: the service is the
authority for the numbers.

If the service is away when the run ends, the summary is this app's reckoning by the same
rules, saying that the service has stopped; the lines and the close wait in memory and are
handed over when it is back (``retry_closes``, called by the link's probe).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from companion.app.remote import SERVICE_STOPPED, ServiceDown, ServiceLink
from companion.content.scorm_runtime import Place
from companion.core import rules
from companion.core.catalogue import Catalogue, required_for, unlocks_after
from companion.core.clock import Clock
from companion.core.journal import APP, CONTENT, SCORERS, Line, ms_to_seconds, parse_line
from companion.core.live import live_stats
from companion.core.sampler import Observation, Sampler
from companion.core.sensing import FocusSource, InputSource, LockSource, observe
from companion.core.session_types import (
    LessonLocked,
    LiveStats,
    NoOpenRun,
    RunAlreadyOpen,
    RunHandle,
    SessionSummary,
    TickResult,
    not_counted,
)
from companion.service.client import ServiceRefused, ServiceUnavailable

log = logging.getLogger("companion.app")

MAX_ITEM_LENGTH = 200
NOT_STARTED = (
    "The companion service on this computer is not running, so no lesson can start now. "
    "Ask the computer's administrator if this lasts."
)


@dataclass
class _Open:
    handle: RunHandle
    sampler: Sampler
    lines: list[Line]
    answered: dict[str, bool] = field(default_factory=dict)
    last_obs: Observation = field(default_factory=Observation)


@dataclass
class _WaitingClose:
    run_id: str
    student_id: str
    completed: bool


class RemoteRun:
    """One lesson at a time for a signed-in student, kept by the service."""

    def __init__(
        self,
        link: ServiceLink,
        clock: Clock,
        catalogue: Catalogue,
        input_source: InputSource,
        focus_source: FocusSource,
        lock_source: LockSource,
        *,
        tick_ms: int = 1000,
        heartbeat_ms: int = 15_000,
        observe: Callable[[], Observation] | None = None,
    ) -> None:
        self._link = link
        self._client = link.client
        self._clock = clock
        self._catalogue = catalogue
        self._input = input_source
        self._focus = focus_source
        self._lock = lock_source
        self._tick_ms = tick_ms
        self._heartbeat_ms = heartbeat_ms
        self._observer = observe
        self._run: _Open | None = None
        self._responses: dict[str, str] = {}
        self._waiting: list[_WaitingClose] = []
        self._sign_out_after: set[str] = set()
        link.on_back(self.retry_closes)

    # ------------------------------------------------------------ state

    @property
    def run(self) -> RunHandle | None:
        return None if self._run is None else self._run.handle

    def replace_catalogue(self, catalogue: Catalogue) -> None:
        if self._run is not None:
            raise RunAlreadyOpen(self._run.handle.run_id)
        self._catalogue = catalogue

    @property
    def waiting(self) -> int:
        """Runs whose close waits for the service."""
        return len(self._waiting)

    # ------------------------------------------------------------ start and ticks

    def start(self, student_id: str, lesson_id: str) -> RunHandle:
        """Open a run in the service (``LessonLocked``, ``RunAlreadyOpen``, ``ServiceDown``)."""
        if self._run is not None:
            raise RunAlreadyOpen(self._run.handle.run_id)
        lesson = self._catalogue.get(lesson_id)
        started_mono = self._clock.monotonic_ms()
        anchor = self._clock.utc_now()
        try:
            answer = self._client.open(student_id, lesson_id)
        except ServiceUnavailable as exc:
            self._link.down()
            raise ServiceDown(NOT_STARTED) from exc
        except ServiceRefused as exc:
            if exc.code == "lesson_locked":
                raise LessonLocked(
                    lesson, required_for(self._catalogue, lesson_id) or lesson
                ) from exc
            if exc.code == "run_open":
                raise RunAlreadyOpen("") from exc
            raise ServiceDown(exc.message) from exc
        self._link.observe()
        start = parse_line(answer["start"])
        run_id = str(answer["run"])
        handle = RunHandle(run_id, student_id, lesson, int(answer["attempt"]), anchor)
        sampler = Sampler(started_mono, tick_ms=self._tick_ms, heartbeat_ms=self._heartbeat_ms)
        self._run = _Open(handle, sampler, [start])
        self._responses.clear()
        log.info("run %s: %s started %s in the service", run_id, student_id, lesson_id)
        return handle

    def tick(self) -> TickResult:
        """Sample, stream the new lines, and check abandonment by the rules."""
        run = self._need_run()
        now_mono = self._clock.monotonic_ms()
        run.last_obs = self._observe()
        lines = run.sampler.tick(now_mono, run.last_obs)
        self._stream(run, lines)
        now = run.sampler.run_time(now_mono)
        classification = rules.classify(run.lines, now)
        live = live_stats(run.lines, classification, now, run.last_obs, run.answered)
        if classification.abandoned_at is not None:
            summary = self._close(run, False, _abandoned_reason(run.lines), now)
            return TickResult(
                tuple(lines), live, abandoned=True, reason=summary.reason, summary=summary
            )
        return TickResult(tuple(lines), live)

    def live(self) -> LiveStats:
        run = self._need_run()
        now = run.sampler.run_time(self._clock.monotonic_ms())
        return live_stats(
            run.lines, rules.classify(run.lines, now), now, run.last_obs, run.answered
        )

    def monotonic_ms(self) -> int:
        return self._clock.monotonic_ms()

    # ------------------------------------------------------------ the lesson page

    def note_response(self, item: str, response: str) -> None:
        """The student's response to a keyed item, sent with its answer for the service to
        score (the page bridge says it just before the answer)."""
        self._responses[item] = response

    def answer(self, item: str, correct: bool, scored_by: str = CONTENT) -> None:
        """Journal an answer (ValueError for malformed input, as the local run)."""
        if scored_by not in SCORERS:
            raise ValueError("scored_by must be 'app' or 'content'")
        if not isinstance(item, str) or not 0 < len(item) <= MAX_ITEM_LENGTH:
            raise ValueError(f"item must be a string of 1 to {MAX_ITEM_LENGTH} characters")
        if not item.isprintable() or not item.strip():
            raise ValueError("item must be printable text")
        if type(correct) is not bool:
            raise ValueError("correct must be true or false")
        run = self._need_run()
        t = self._now(run)
        line = Line(
            t, "answer", item=item, correct=correct, scored_by=APP if scored_by == APP else None
        )
        run.lines.append(line)
        run.sampler.note_line(t)
        run.answered.setdefault(item, correct)
        response = self._responses.pop(item, None) if scored_by == APP else None
        try:
            if response is not None:
                self._client.answer(run.handle.run_id, ms_to_seconds(t), item, response=response)
            else:
                self._client.answer(run.handle.run_id, ms_to_seconds(t), item, correct=correct)
        except ServiceRefused as exc:
            log.error("run %s: the service refused an answer: %s", run.handle.run_id, exc)
        self._link.observe()

    def media(self, playing: bool) -> None:
        if type(playing) is not bool:
            raise ValueError("playing must be true or false")
        run = self._need_run()
        self._write(run, Line(self._now(run), "media", playing=playing))

    def score(self, scaled: Decimal) -> None:
        if not isinstance(scaled, Decimal) or not scaled.is_finite() or not -1 <= scaled <= 1:
            raise ValueError("a score must be a number from -1 to 1")
        run = self._need_run()
        self._write(run, Line(self._now(run), "score", scaled=scaled))

    def content_resume(self) -> Place | None:
        """No place is kept through the service yet: a package starts from its beginning."""
        self._need_run()
        return None

    def keep_content_state(self, place: Place | None, session_time: str | None) -> None:
        """Not kept through the service yet (the protocol has no operation for it)."""
        self._need_run()

    # ------------------------------------------------------------ ending

    def complete(self) -> SessionSummary:
        return self._end(completed=True)

    def quit(self) -> SessionSummary:
        return self._end(completed=False)

    def sign_out(self, student_id: str) -> None:
        """End the student's sign-in in the service, once nothing of theirs waits."""
        if any(w.student_id == student_id for w in self._waiting):
            self._sign_out_after.add(student_id)
            return
        try:
            self._client.sign_out(student_id)
        except (ServiceUnavailable, ServiceRefused) as exc:
            log.info("sign-out of %s not told to the service: %s", student_id, exc)

    def retry_closes(self) -> None:
        """Hand over the closes that waited for the service (the link calls this)."""
        for waiting in list(self._waiting):
            try:
                answer = self._client.close_run(waiting.run_id, waiting.completed)
            except ServiceUnavailable:
                self._link.down()
                return
            except ServiceRefused as exc:
                log.error("run %s: the service refused its close: %s", waiting.run_id, exc)
                self._client.discard_run(waiting.run_id)
                answer = None
            self._waiting.remove(waiting)
            if answer is not None:
                log.info("run %s handed over and closed: %s XP", waiting.run_id, answer["xp"])
            if waiting.student_id in self._sign_out_after:
                self._sign_out_after.discard(waiting.student_id)
                self.sign_out(waiting.student_id)

    # ------------------------------------------------------------ internals

    def _need_run(self) -> _Open:
        if self._run is None:
            raise NoOpenRun("no lesson is open")
        return self._run

    def _now(self, run: _Open) -> int:
        return run.sampler.run_time(self._clock.monotonic_ms())

    def _observe(self) -> Observation:
        if self._observer is not None:
            return self._observer()
        return observe(self._input, self._focus, self._lock)

    def _write(self, run: _Open, line: Line) -> None:
        run.sampler.note_line(line.t)
        self._stream(run, [line])

    def _stream(self, run: _Open, lines: list[Line]) -> None:
        """Keep the lines and hand them to the client (queued there until acknowledged)."""
        run.lines.extend(lines)
        for line in lines:
            try:
                self._client.line(run.handle.run_id, line.to_json())
            except ServiceRefused as exc:  # it stays queued; the close says what happened
                log.error("run %s: the service refused a line: %s", run.handle.run_id, exc)
        self._link.observe()

    def _end(self, completed: bool) -> SessionSummary:
        run = self._need_run()
        now_mono = self._clock.monotonic_ms()
        run.last_obs = self._observe()
        self._stream(run, run.sampler.tick(now_mono, run.last_obs))
        end_t = run.sampler.run_time(now_mono)
        end = Line(end_t, "end", completed=completed)
        abandoned = rules.classify([*run.lines, end]).abandoned_at is not None
        reason = _abandoned_reason(run.lines) if abandoned else None
        return self._close(run, completed, reason, end_t)

    def _close(self, run: _Open, completed: bool, reason: str | None, end_t: int) -> SessionSummary:
        """Ask the service to close the run; its answer is the summary."""
        self._run = None
        end = Line(max(end_t, run.lines[-1].t), "end", completed=completed)
        handle = run.handle
        try:
            answer = self._client.close_run(handle.run_id, completed)
        except ServiceUnavailable:
            self._link.down()
            self._waiting.append(_WaitingClose(handle.run_id, handle.student_id, completed))
            log.warning("run %s: the service is away; its close waits", handle.run_id)
            return self._summary(handle, _reckoned([*run.lines, end]), reason or SERVICE_STOPPED)
        except ServiceRefused as exc:
            log.error("run %s: the service refused its close: %s", handle.run_id, exc)
            self._client.discard_run(handle.run_id)
            said = f"This computer's service did not take this lesson: {exc.message}"
            return self._summary(handle, _reckoned([*run.lines, end]), said)
        self._link.observe()
        return self._summary(handle, answer, reason)

    def _summary(
        self, handle: RunHandle, closed: dict[str, Any], reason: str | None
    ) -> SessionSummary:
        mastered = bool(closed["mastered"])
        abandoned = bool(closed["abandoned"])
        nxt = unlocks_after(self._catalogue, handle.lesson.id) if mastered else None
        explain = [str(text) for text in closed.get("explain") or ()]
        if nxt is not None:
            explain.append(f"Unlocked next: '{nxt.title}'")
        elif mastered:
            explain.append("That was the last lesson of this course")
        if reason is None and abandoned:
            reason = "The lesson had been left for too long."
        accuracy = closed.get("accuracy")
        active_ms = int(closed["activeMs"])
        return SessionSummary(
            run_id=handle.run_id,
            lesson=handle.lesson,
            completed=bool(closed["completed"]),
            abandoned=abandoned,
            active_ms=active_ms,
            focused_minutes=active_ms / 60_000,
            questions=int(closed["questions"]),
            correct=int(closed.get("correct") or 0),
            accuracy=None if accuracy is None else float(accuracy),
            gate_passed=bool(closed.get("gatePassed")),
            multiplier=float(closed.get("multiplier") or 0),
            capped=bool(closed.get("capped")),
            xp=Decimal(str(closed["xp"])),
            mastered=mastered,
            next_unlocked=nxt,
            explain=tuple(explain),
            reason=reason,
            not_counted_ms=tuple((str(k), int(ms)) for k, ms in closed.get("notCountedMs") or ()),
        )


def _reckoned(lines: list[Line]) -> dict[str, Any]:
    """This app's reckoning of a closed journal, in the shape of the service's close answer."""
    classification = rules.classify(lines)
    score = rules.score(lines, classification)
    return {
        "xp": str(score.xp),
        "completed": score.completed,
        "abandoned": score.abandoned,
        "mastered": score.mastered,
        "activeMs": score.active_ms,
        "questions": score.questions,
        "correct": score.correct,
        "accuracy": None if score.accuracy is None else float(score.accuracy),
        "gatePassed": score.gate_passed,
        "multiplier": float(score.multiplier),
        "capped": score.capped,
        "explain": rules.explain(score),
        "notCountedMs": [list(kv) for kv in not_counted(classification)],
    }


def _abandoned_reason(lines: list[Line]) -> str:
    settings = lines[0].settings
    minutes = settings.abandon_after_ms // 60_000 if settings else 10
    return (
        f"No focused learning for {minutes} minutes, so this lesson was closed. "
        "Please sign in again to go on."
    )
