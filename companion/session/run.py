"""The lesson run use case: one run of one lesson, from start to summary (no Qt).

The UI calls ``tick()`` once a second (a QTimer on the UI thread). Each tick samples the
sensing sources through the pure ``Sampler``, appends the lines to the run's journal,
classifies the journal once (from the copy kept in memory), reports newly settled time as
TimeSpentEvents once a window is due, and checks the rules for abandonment. Answers and
media state come from the lesson page (untrusted script) and are validated here.

Closing a run computes what it produces once (``core.run_outcome.close_outcome``: time
windows, events, gradebook result, progress, summary) and hands it to the store, which
writes it in one transaction. The run's ``reported_until_ms`` lives here while it is open.

Saving without waiting: a tick hands its journal lines (and the TimeSpentEvents due with
them, in the same transaction) to the store's writer thread and returns without waiting
for the commit; the next tick, a second later, makes sure that write is done (it has
been, unless the writer is stuck), so at most one tick's lines are ever in flight. Every
write says how many lines the journal must already have, so a write that failed makes
every later one fail too; the next tick (or answer, or close) sees the failure, forgets
the lines that were not saved and raises it (a full disk is a ``JournalNotSaved``).
Answers, media and scores are saved before their call returns, and a close waits for
everything before it. So a line can be lost only by a kill within the second after its
tick, and an event is in SQLite (the outbox) before anything can send it.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from companion.content.scorm_runtime import Place
from companion.core import rules, timespent
from companion.core.catalogue import Catalogue, Lesson, lesson_state, required_for, unlocks_after
from companion.core.clock import Clock
from companion.core.journal import APP, CONTENT, SCORERS, Line
from companion.core.live import live_stats
from companion.core.run_outcome import (
    CloseOutcome,
    EventContext,
    LessonFacts,
    RunFacts,
    TimeReport,
    actor_of,
    close_outcome,
    run_info,
    time_spent_report,
)
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
from companion.store import content_state, runs
from companion.store.db import Database, PendingWrite

log = logging.getLogger(__name__)

MAX_ITEM_LENGTH = 200


@dataclass
class _Open:
    handle: RunHandle
    facts: RunFacts
    lesson: LessonFacts
    sampler: Sampler
    lines: list[Line]
    reported_until_ms: int = 0  # TimeSpentEvents built up to here
    unbuilt_until_ms: int = 0  # windows due up to here could not be built (no email)
    queued: deque[PendingWrite[int]] = field(default_factory=deque)  # not yet committed
    answered: dict[str, bool] = field(default_factory=dict)
    last_obs: Observation = field(default_factory=Observation)


class SessionController:
    """Runs one lesson at a time for a signed-in student."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        ctx: EventContext,
        catalogue: Catalogue,
        input_source: InputSource,
        focus_source: FocusSource,
        lock_source: LockSource,
        *,
        tick_ms: int = 1000,
        heartbeat_ms: int = 15_000,
        observe: Callable[[], Observation] | None = None,
    ) -> None:
        """Sensing availability comes from ``input_source.available()``.

        ``observe`` (optional) replaces the default reading of the three sources at each
        tick, e.g. ``companion.system.select.SessionSensing.observe`` with its fallbacks.
        """
        self._db = db
        self._clock = clock
        self._ctx = ctx
        self._catalogue = catalogue
        self._input = input_source
        self._focus = focus_source
        self._lock = lock_source
        self._tick_ms = tick_ms
        self._heartbeat_ms = heartbeat_ms
        self._observer = observe
        self._run: _Open | None = None

    # ------------------------------------------------------------ state

    def replace_catalogue(self, catalogue: Catalogue) -> None:
        """Use a new catalogue (lessons were added); RunAlreadyOpen while a run is open."""
        if self._run is not None:
            raise RunAlreadyOpen(self._run.handle.run_id)
        self._catalogue = catalogue

    @property
    def run(self) -> RunHandle | None:
        """The open run, or None."""
        return None if self._run is None else self._run.handle

    # ------------------------------------------------------------ start

    def start(self, student_id: str, lesson_id: str) -> RunHandle:
        """Open a run of ``lesson_id`` for ``student_id``.

        Raises KeyError for a lesson not in the catalogue, ``LessonLocked`` for a locked
        lesson and ``RunAlreadyOpen`` when a run is open on this computer.
        """
        if self._run is not None:
            raise RunAlreadyOpen(self._run.handle.run_id)
        lesson = self._catalogue.get(lesson_id)
        mastered = runs.mastered_lessons(self._db, student_id)
        if lesson_state(self._catalogue, lesson_id, mastered) == "locked":
            required = required_for(self._catalogue, lesson_id)
            assert required is not None  # a locked lesson has one before it
            raise LessonLocked(lesson, required)
        started_mono = self._clock.monotonic_ms()
        anchor = self._clock.utc_now()
        try:
            run_id = runs.open_run(self._db, student_id, lesson_id, anchor=anchor)
        except runs.UnknownLesson:
            runs.save_lessons(self._db, self._catalogue)
            run_id = runs.open_run(self._db, student_id, lesson_id, anchor=anchor)
        row = runs.get_run(self._db, run_id)
        assert row is not None  # just opened
        facts = runs.run_facts(row)
        lines = runs.journal(self._db, run_id)
        handle = RunHandle(run_id, student_id, lesson, facts.attempt, anchor)
        sampler = Sampler(started_mono, tick_ms=self._tick_ms, heartbeat_ms=self._heartbeat_ms)
        self._run = _Open(handle, facts, runs.lesson_facts(self._db, lesson_id), sampler, lines)
        log.info("run %s: %s started %s (attempt %d)", run_id, student_id, lesson_id, facts.attempt)
        return handle

    # ------------------------------------------------------------ ticking

    def tick(self) -> TickResult:
        """Sample the sources, journal what changed, report due time, check abandonment."""
        run = self._need_run()
        now_mono = self._clock.monotonic_ms()
        obs = self._observe()
        run.last_obs = obs
        lines = run.sampler.tick(now_mono, obs)
        # The previous tick's write committed long ago unless the writer is stuck: waiting
        # for it keeps at most one tick's lines in flight. If it failed, this tick's lines
        # go with it (as when a write fails while the tick waits for it).
        self._settle(run)
        first_seq = len(run.lines)
        run.lines.extend(lines)
        now = run.sampler.run_time(now_mono)
        classification = rules.classify(run.lines, now)
        if classification.abandoned_at is not None:
            live = self._live_of(run, classification, now)
            self._queue(run, lines, first_seq, None)
            summary = self._abandon(run, classification.abandoned_at)
            return TickResult(
                tuple(lines), live, abandoned=True, reason=summary.reason, summary=summary
            )
        report = self._due_report(run, classification)
        self._queue(run, lines, first_seq, report)
        reported = 0 if report is None else len(report.events)
        return TickResult(tuple(lines), self._live_of(run, classification, now), reported=reported)

    def live(self) -> LiveStats:
        """The run's figures now (without sampling)."""
        run = self._need_run()
        now = run.sampler.run_time(self._clock.monotonic_ms())
        return self._live_of(run, rules.classify(run.lines, now), now)

    # ------------------------------------------------------------ the lesson page

    def monotonic_ms(self) -> int:
        """The controller's clock, for parts that pace what a page sends (the bridge)."""
        return self._clock.monotonic_ms()

    def answer(self, item: str, correct: bool, scored_by: str = CONTENT) -> None:
        """Journal an answer from the lesson page, saying who scored it (``app`` when the
        app checked the response against the lesson's key, else ``content``). ValueError
        for malformed input."""
        if scored_by not in SCORERS:
            raise ValueError("scored_by must be 'app' or 'content'")
        if not isinstance(item, str) or not 0 < len(item) <= MAX_ITEM_LENGTH:
            raise ValueError(f"item must be a string of 1 to {MAX_ITEM_LENGTH} characters")
        if not item.isprintable() or not item.strip():
            raise ValueError("item must be printable text")
        if type(correct) is not bool:
            raise ValueError("correct must be true or false")
        run = self._need_run()
        self._write(
            run,
            Line(
                self._now(run),
                "answer",
                item=item,
                correct=correct,
                scored_by=APP if scored_by == APP else None,
            ),
        )
        run.answered.setdefault(item, correct)

    def media(self, playing: bool) -> None:
        """Journal that lesson audio or video started or stopped. ValueError if not a bool."""
        if type(playing) is not bool:
            raise ValueError("playing must be true or false")
        run = self._need_run()
        self._write(run, Line(self._now(run), "media", playing=playing))

    def score(self, scaled: Decimal) -> None:
        """Journal an overall score the content reported (shown, never used for XP).

        ValueError unless ``scaled`` is a finite number from -1 to 1."""
        if not isinstance(scaled, Decimal) or not scaled.is_finite() or not -1 <= scaled <= 1:
            raise ValueError("a score must be a number from -1 to 1")
        run = self._need_run()
        self._write(run, Line(self._now(run), "score", scaled=scaled))

    # ------------------------------------------------------------ what content keeps

    def content_resume(self) -> Place | None:
        """The open run's student's saved place in its lesson (SCORM suspend data)."""
        run = self._need_run()
        saved = content_state.load_resume(self._db, run.handle.student_id, run.handle.lesson.id)
        return None if saved is None else Place(saved.suspend_data, saved.location)

    def keep_content_state(self, place: Place | None, session_time: str | None) -> None:
        """Keep the content's place for the next attempt and its own session_time with the
        run. ValueError for text longer than SCORM allows."""
        run = self._need_run()
        if place is not None:
            content_state.save_resume(
                self._db,
                run.handle.student_id,
                run.handle.lesson.id,
                content_state.Resume(place.suspend_data, place.location),
                self._clock.utc_now(),
            )
        if session_time is not None:
            content_state.keep_session_time(self._db, run.handle.run_id, session_time)

    # ------------------------------------------------------------ ending

    def complete(self) -> SessionSummary:
        """The lesson reported completion: close the run as completed and summarise it."""
        return self._end(completed=True)

    def quit(self) -> SessionSummary:
        """The student left mid-lesson: close the run as not completed (time still counts)."""
        return self._end(completed=False)

    # ------------------------------------------------------------ internals

    def _need_run(self) -> _Open:
        if self._run is None:
            raise NoOpenRun("no lesson is open")
        return self._run

    def _now(self, run: _Open) -> int:
        return run.sampler.run_time(self._clock.monotonic_ms())

    def _write(self, run: _Open, line: Line) -> None:
        """Save one line before returning (after every write queued before it)."""
        self._settle(run)
        runs.append(self._db, run.handle.run_id, line, first_seq=len(run.lines))
        run.lines.append(line)
        run.sampler.note_line(line.t)

    def _queue(
        self, run: _Open, lines: list[Line], first_seq: int, report: TimeReport | None
    ) -> None:
        """Hand new lines (and the events due with them) to the writer without waiting."""
        if not lines and report is None:
            return
        pending = runs.record_soon(
            self._db, run.handle.run_id, lines, first_seq, report, run.reported_until_ms
        )
        if report is not None:
            run.reported_until_ms = report.reported_until_ms
        run.queued.append(pending)

    def _settle(self, run: _Open) -> None:
        """Make sure the queued writes have committed (normally they have, long ago); after
        one that failed, go back to what the store has and raise its error."""
        while run.queued:
            try:
                run.queued.popleft().result()
            except Exception:
                for later in run.queued:  # they fail too (out of step); wait for them
                    try:
                        later.result()
                    except Exception as exc:
                        log.debug("a later write of run %s failed too: %s", run.handle.run_id, exc)
                run.queued.clear()
                self._reload(run)
                raise

    def _reload(self, run: _Open) -> None:
        """After a failed write: the journal and reporting as the store has them."""
        saved = runs.count_lines(self._db, run.handle.run_id)
        row = runs.get_run(self._db, run.handle.run_id)
        del run.lines[saved:]
        if row is not None:
            run.reported_until_ms = row.reported_until_ms
        log.error("run %s: journal lines after line %d were not saved", run.handle.run_id, saved)

    def _observe(self) -> Observation:
        if self._observer is not None:
            return self._observer()
        return observe(self._input, self._focus, self._lock)

    def _due_report(self, run: _Open, classification: rules.Classification) -> TimeReport | None:
        """The TimeSpentEvents due now, or None (none due, or none can be built yet)."""
        due = timespent.due_windows(
            classification, run.reported_until_ms, self._ctx.window_ms, final=False
        )
        if not due or due[-1][1] <= run.unbuilt_until_ms:
            return None
        person = runs.roster_person(self._db, run.handle.student_id)
        actor, _ = actor_of(person, self._ctx.oneroster_base)
        if actor is None:
            # nothing can be built (e.g. no email in the roster): the close builds it
            run.unbuilt_until_ms = due[-1][1]
            return None
        info = run_info(run.facts, actor, run.lesson, self._ctx)
        return time_spent_report(
            info, classification, run.reported_until_ms, self._ctx.window_ms, final=False
        )

    def _abandon(self, run: _Open, abandoned_at: int) -> SessionSummary:
        """Close the run at its abandonment instant (or its last line, if later)."""
        end = Line(max(abandoned_at, run.lines[-1].t), "end", completed=False)
        outcome = self._outcome(run, end)
        runs.save_close(self._db, outcome)
        settings = run.lines[0].settings
        minutes = settings.abandon_after_ms // 60_000 if settings else 10
        reason = (
            f"No focused learning for {minutes} minutes, so this lesson was closed. "
            "Please sign in again to go on."
        )
        log.info("run %s abandoned", run.handle.run_id)
        return self._summary(run, outcome, reason)

    def _end(self, completed: bool) -> SessionSummary:
        run = self._need_run()
        now_mono = self._clock.monotonic_ms()
        obs = self._observe()
        run.last_obs = obs
        last = run.sampler.tick(now_mono, obs)  # the last second's observations
        self._settle(run)
        first_seq = len(run.lines)
        run.lines.extend(last)
        self._queue(run, last, first_seq, None)
        outcome = self._outcome(
            run, Line(run.sampler.run_time(now_mono), "end", completed=completed)
        )
        abandoned_at = outcome.classification.abandoned_at
        if abandoned_at is not None:  # abandoned by now: closed as a tick would have
            return self._abandon(run, abandoned_at)
        runs.save_close(self._db, outcome)
        return self._summary(run, outcome, None)

    def _outcome(self, run: _Open, end: Line) -> CloseOutcome:
        """What closing the run with ``end`` produces, once every line is saved."""
        self._settle(run)
        person = runs.roster_person(self._db, run.handle.student_id)
        return close_outcome(
            run.facts, run.lines, end, person, run.lesson, self._ctx, run.reported_until_ms
        )

    def _summary(self, run: _Open, outcome: CloseOutcome, reason: str | None) -> SessionSummary:
        self._run = None
        handle = run.handle
        score = outcome.score
        if reason is None and score.abandoned:
            reason = "The lesson had been left for too long."
        nxt = unlocks_after(self._catalogue, handle.lesson.id) if score.mastered else None
        return SessionSummary(
            run_id=handle.run_id,
            lesson=handle.lesson,
            completed=score.completed,
            abandoned=score.abandoned,
            active_ms=score.active_ms,
            focused_minutes=score.active_ms / 60_000,
            questions=score.questions,
            correct=score.correct,
            accuracy=None if score.accuracy is None else float(score.accuracy),
            gate_passed=score.gate_passed,
            multiplier=float(score.multiplier),
            capped=score.capped,
            xp=score.xp,
            mastered=score.mastered,
            next_unlocked=nxt,
            explain=tuple(_explain(score, nxt)),
            reason=reason,
            not_counted_ms=not_counted(outcome.classification),
        )

    def _live_of(self, run: _Open, classification: rules.Classification, now: int) -> LiveStats:
        return live_stats(run.lines, classification, now, run.last_obs, run.answered)


def _explain(score: rules.Score, nxt: Lesson | None) -> list[str]:
    lines = rules.explain(score)
    if nxt is not None:
        lines.append(f"Unlocked next: '{nxt.title}'")
    elif score.mastered:
        lines.append("That was the last lesson of this course")
    return lines
