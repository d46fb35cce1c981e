"""The service's operations and its rules of trust, independent of any transport.

``Service.handle(connection, message)`` answers one request. A ``Connection`` is one
client's link, with the OS account the endpoint found for it (``SO_PEERCRED``) and the
students signed in through it. The rules the service keeps, whatever a client says:

- a student is signed in only through a PIN checked here (lockouts counted here) or a
  token this service issued to the same OS account; everything about a student who is not
  signed in through this connection is refused;
- a student has at most one open run on the computer;
- a journal line's time is judged against the service's own clock: a line stamped later
  than the time that has passed since the run opened (plus ``slack_ms``) is refused, so
  nothing can make time pass faster than it does;
- lines are stored at their sequence numbers: a repeated one is acknowledged, not stored
  twice; an answer to an item the service holds a key for is scored by the service;
- the outbox and whether credentials are present are told only to an administrator (root
  or the service's own account); anyone may learn that the service runs and its version.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from companion.core.clock import Clock
from companion.core.journal import APP, JournalError, Line, parse_line
from companion.service import protocol as p
from companion.service.authority import Authority, PinCheck, RunRefused
from companion.service.tokens import TokenSigner
from companion.store.open_runs import OpenRun, SequenceGap
from companion.store.runs import RunClosed, UnknownRun

log = logging.getLogger(__name__)

DEFAULT_SLACK_MS = 1000
MAX_LINES_PER_MESSAGE = 500


@dataclass
class Connection:
    """One client's link: who is at the other end, by the OS, and who signed in through it."""

    uid: int
    pid: int | None = None
    greeted: bool = False
    students: dict[str, str] = field(default_factory=dict)  # student id -> token


@dataclass
class _Run:
    run: OpenRun
    base_elapsed_ms: int  # elapsed time when base_mono was read
    base_mono: int
    last_seq: int


class Refused(Exception):
    """A request the service refuses, with the protocol's error code."""

    def __init__(self, code: str, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields


class Service:
    """Answers requests; one instance serves every connection (thread-safe)."""

    def __init__(
        self,
        authority: Authority,
        clock: Clock,
        signer: TokenSigner,
        *,
        slack_ms: int = DEFAULT_SLACK_MS,
        version: str = "",
        admin_uids: frozenset[int] | None = None,
    ) -> None:
        """``admin_uids``: the OS accounts that see the service's status in full (default:
        root and the account the service runs as)."""
        self._authority = authority
        self._admin_uids = admin_uids if admin_uids is not None else _own_accounts()
        self._clock = clock
        self._signer = signer
        self._slack_ms = slack_ms
        self._version = version
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}
        now_mono = clock.monotonic_ms()
        wall = clock.utc_now()
        for run in authority.open_runs():  # runs still open after a restart go on
            elapsed = max(0, int((wall - run.anchor).total_seconds() * 1000))
            self._runs[run.run_id] = _Run(run, elapsed, now_mono, run.last_seq)
        self._ops: dict[str, Callable[[Connection, dict[str, Any]], dict[str, Any]]] = {
            "hello": self._hello,
            "status": self._status,
            "classes": self._classes,
            "students": self._students,
            "guides": self._guides,
            "sign_in": self._sign_in,
            "guide_sign_in": self._guide_sign_in,
            "resume": self._resume,
            "sign_out": self._sign_out,
            "open_run": self._open_run,
            "journal": self._journal,
            "answer": self._answer,
            "close_run": self._close_run,
            "library": self._library,
            "take_notices": self._take_notices,
            "report": self._report,
            "set_pin": self._set_pin,
            "clear_lockout": self._clear_lockout,
            "sync_now": self._sync,
        }

    # ------------------------------------------------------------ entry

    def handle(self, conn: Connection, message: dict[str, Any]) -> dict[str, Any]:
        """The response to one request."""
        request_id = message.get("id")
        op = message.get("op")
        if not isinstance(op, str) or op not in self._ops:
            return p.error(request_id, p.BAD_REQUEST, f"unknown operation {op!r}")
        if not conn.greeted and op != "hello":
            return p.error(request_id, p.HELLO_FIRST, "say hello (with the protocol version) first")
        try:
            return p.ok(request_id, **self._ops[op](conn, message))
        except Refused as exc:
            return p.error(request_id, exc.code, exc.message, **exc.fields)
        except (ValueError, TypeError, KeyError) as exc:
            return p.error(request_id, p.BAD_REQUEST, str(exc))
        except Exception:
            log.exception("operation %s failed", op)
            return p.error(request_id, p.INTERNAL, "the service failed to do this; see its log")

    def housekeeping(self) -> list[str]:
        """Close runs the rules find abandoned and report settled time of the others;
        returns the runs closed. Called every few seconds by the hosting."""
        closed: list[str] = []
        with self._lock:
            states = list(self._runs.values())
        for state in states:
            now = self._elapsed(state)
            try:
                if self._authority.check_abandoned(state.run.run_id, now):
                    closed.append(state.run.run_id)
                else:
                    self._authority.report_time(state.run.run_id, now)
            except (RunClosed, UnknownRun):
                closed.append(state.run.run_id)
        with self._lock:
            for run_id in closed:
                self._runs.pop(run_id, None)
        return closed

    # ------------------------------------------------------------ hello and status

    def _hello(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        theirs = msg.get("protocol")
        if theirs != p.PROTOCOL_VERSION:
            raise Refused(
                p.VERSION_MISMATCH, p.version_message(theirs), protocol=p.PROTOCOL_VERSION
            )
        conn.greeted = True
        return {"protocol": p.PROTOCOL_VERSION, "service": self._version, "uid": conn.uid}

    def _status(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        seen = {"protocol": p.PROTOCOL_VERSION, "service": self._version, "uid": conn.uid}
        if conn.uid not in self._admin_uids:
            return {**seen, "administrator": False}
        return {**seen, "administrator": True, **self._authority.status()}

    # ------------------------------------------------------------ roster and sign-in

    def _classes(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        return {"classes": self._authority.classes()}

    def _students(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        return {"students": self._authority.students(_text(msg, "class"))}

    def _guides(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        return {"guides": self._authority.guides()}

    def _sign_in(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        student = _text(msg, "student")
        check = self._authority.sign_in(student, _text(msg, "pin"))
        if not check.ok:
            raise _pin_refused(check)
        token = self._signer.issue(student, conn.uid)
        conn.students[student] = token
        log.info("uid %d signed in %s", conn.uid, student)
        return {"user": _user(check), "token": token, "run": self._run_of(student)}

    def _guide_sign_in(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        check = self._authority.check_guide(_text(msg, "guide"), _text(msg, "guidePin"))
        if not check.ok:
            raise _pin_refused(check)
        return {"user": _user(check)}

    def _resume(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        token = _text(msg, "token")
        holder = self._signer.check(token, conn.uid)
        if holder is None:
            raise Refused(p.NOT_SIGNED_IN, "That sign-in has ended: sign in again.")
        conn.students[holder.student_id] = token
        return {"student": holder.student_id, "run": self._run_of(holder.student_id)}

    def _sign_out(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        student = _text(msg, "student")
        token = conn.students.pop(student, None)
        if token is None:
            raise _not_signed_in()
        self._signer.revoke(token)
        return {}

    # ------------------------------------------------------------ runs

    def _open_run(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        student = _text(msg, "student")
        self._need_student(conn, student)
        try:
            run = self._authority.open_run(student, _text(msg, "lesson"))
        except RunRefused as exc:
            raise Refused(exc.code, exc.message) from exc
        with self._lock:
            self._runs[run.run_id] = _Run(run, 0, self._clock.monotonic_ms(), 0)
        start = self._authority.start_line(run.run_id).to_json()
        return {"run": run.run_id, "attempt": run.attempt, "lastSeq": 0, "start": start}

    def _journal(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        state = self._need_run(conn, msg)
        entries = msg.get("lines")
        if not isinstance(entries, list) or not 0 < len(entries) <= MAX_LINES_PER_MESSAGE:
            raise Refused(
                p.BAD_REQUEST, f"'lines' is a list of 1 to {MAX_LINES_PER_MESSAGE} journal lines"
            )
        first = entries[0].get("seq") if isinstance(entries[0], dict) else None
        if not isinstance(first, int) or isinstance(first, bool) or first < 1:
            raise Refused(p.BAD_REQUEST, "each line has a 'seq', counting from 1")
        lines: list[Line] = []
        problem: Refused | None = None
        for offset, entry in enumerate(entries):
            try:
                lines.append(self._line(state, entry, first + offset))
            except Refused as exc:
                problem = exc
                break
        acked = self._store(state, first, lines) if lines else state.last_seq
        if problem is not None:
            raise Refused(problem.code, problem.message, acked=acked)
        return {"acked": acked}

    def _answer(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        state = self._need_run(conn, msg)
        seq = msg.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise Refused(p.BAD_REQUEST, "an answer has a 'seq', counting from 1")
        item = _text(msg, "item")
        key = self._authority.answer_key(state.run.lesson_id)
        fields: dict[str, Any] = {"t": msg.get("t"), "kind": "answer", "item": item}
        if key is not None and key.lists(item):
            response = msg.get("response")
            if not isinstance(response, str):
                raise Refused(
                    p.SCORED_BY_SERVICE, "this item is scored by the service: send the response"
                )
            fields["correct"] = key.is_correct(item, response)
            line = self._checked(state, parse_line(fields), allow_app=True)
        else:
            fields["correct"] = msg.get("correct")
            line = self._line(state, fields, seq)
        acked = self._store(state, seq, [line])
        return {"acked": acked, "correct": line.correct, "scoredBy": line.scored_by or "content"}

    def _close_run(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        state = self._need_run(conn, msg)
        completed = msg.get("completed")
        if not isinstance(completed, bool):
            raise Refused(p.BAD_REQUEST, "'completed' is true or false")
        at = max(state.run.last_t, self._elapsed(state))
        try:
            closed = self._authority.close_run(state.run.run_id, completed, at)
        except RunClosed:
            self._forget(state)
            raise Refused(p.RUN_CLOSED, "this lesson was already closed") from None
        self._forget(state)
        return {
            "xp": closed.xp,
            "completed": closed.completed,
            "abandoned": closed.abandoned,
            "mastered": closed.mastered,
            "activeMs": closed.active_ms,
            "questions": closed.questions,
            "endMs": closed.end_ms,
            "correct": closed.correct,
            "accuracy": closed.accuracy,
            "gatePassed": closed.gate_passed,
            "multiplier": closed.multiplier,
            "capped": closed.capped,
            "explain": list(closed.explain),
            "notCountedMs": [[kind, ms] for kind, ms in closed.not_counted_ms],
        }

    # ------------------------------------------------------------ the library

    def _library(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        student = _text(msg, "student")
        self._need_student(conn, student)
        return self._authority.library(student)

    def _take_notices(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        student = _text(msg, "student")
        self._need_student(conn, student)
        return {"notices": self._authority.take_notices(student)}

    # ------------------------------------------------------------ the guide's operations

    def _guide(self, msg: dict[str, Any]) -> tuple[str, str]:
        guide, pin = _text(msg, "guide"), _text(msg, "guidePin")
        check = self._authority.check_guide(guide, pin)
        if not check.ok:
            raise _pin_refused(check)
        return guide, pin

    def _report(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        self._guide(msg)
        first = date.fromisoformat(_text(msg, "from"))
        last = date.fromisoformat(_text(msg, "to"))
        class_id = msg.get("class")
        if class_id is not None and not isinstance(class_id, str):
            raise Refused(p.BAD_REQUEST, "'class' is a class id")
        return {"report": self._authority.report(first, last, class_id)}

    def _set_pin(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        guide, pin = _text(msg, "guide"), _text(msg, "guidePin")
        check = self._authority.set_pin(_text(msg, "student"), _text(msg, "pin"), guide, pin)
        if not check.ok:
            raise _pin_refused(check)
        return {}

    def _clear_lockout(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        guide, pin = _text(msg, "guide"), _text(msg, "guidePin")
        check = self._authority.clear_lockout(_text(msg, "student"), guide, pin)
        if not check.ok:
            raise _pin_refused(check)
        return {}

    def _sync(self, conn: Connection, msg: dict[str, Any]) -> dict[str, Any]:
        self._guide(msg)
        return {"said": self._authority.sync_now()}

    # ------------------------------------------------------------ helpers

    def _need_student(self, conn: Connection, student: str) -> None:
        if student not in conn.students:
            raise _not_signed_in()

    def _need_run(self, conn: Connection, msg: dict[str, Any]) -> _Run:
        run_id = _text(msg, "run")
        with self._lock:
            state = self._runs.get(run_id)
        if state is None:
            raise Refused(p.UNKNOWN_RUN, "no such open lesson on this computer")
        self._need_student(conn, state.run.student_id)
        return state

    def _run_of(self, student: str) -> dict[str, Any] | None:
        with self._lock:
            for state in self._runs.values():
                if state.run.student_id == student:
                    return {
                        "run": state.run.run_id,
                        "lesson": state.run.lesson_id,
                        "lastSeq": state.last_seq,
                    }
        return None

    def _elapsed(self, state: _Run) -> int:
        return state.base_elapsed_ms + self._clock.monotonic_ms() - state.base_mono

    def _line(self, state: _Run, entry: object, seq: int) -> Line:
        if not isinstance(entry, dict):
            raise Refused(p.BAD_LINE, "a journal line is a JSON object")
        if entry.get("seq", seq) != seq:
            raise Refused(p.BAD_LINE, "the lines of a message have consecutive seqs")
        fields = {k: v for k, v in entry.items() if k != "seq"}
        try:
            line = parse_line(fields)
        except JournalError as exc:
            raise Refused(p.BAD_LINE, f"journal line {seq}: {exc.reason}") from None
        return self._checked(state, line, allow_app=False)

    def _checked(self, state: _Run, line: Line, allow_app: bool) -> Line:
        if line.kind in ("start", "end"):
            raise Refused(p.BAD_LINE, f"{line.kind!r} lines are written by the service")
        if line.kind == "answer":
            key = self._authority.answer_key(state.run.lesson_id)
            keyed = key is not None and line.item is not None and key.lists(line.item)
            if not allow_app and (line.scored_by == APP or keyed):
                raise Refused(
                    p.SCORED_BY_SERVICE,
                    "answers to this item are scored by the "
                    "service: send them with 'answer' and the response",
                )
            line = Line(
                line.t,
                "answer",
                item=line.item,
                correct=line.correct,
                scored_by=APP if allow_app else None,
            )
        elapsed = self._elapsed(state)
        if line.t > elapsed + self._slack_ms:
            log.warning(
                "run %s: a line at %d ms refused, %d ms have passed",
                state.run.run_id,
                line.t,
                elapsed,
            )
            raise Refused(
                p.TIME_AHEAD,
                f"a line at {line.t} ms, but only {elapsed} ms have passed since the lesson opened",
            )
        return line

    def _store(self, state: _Run, first: int, lines: list[Line]) -> int:
        try:
            last = self._authority.record(state.run.run_id, first, lines)
        except SequenceGap as exc:
            raise Refused(p.SEQ_GAP, str(exc), acked=exc.expected - 1) from None
        except RunClosed:
            self._forget(state)
            raise Refused(
                p.RUN_CLOSED, "this lesson was closed (left too long, or by a guide)"
            ) from None
        except ValueError as exc:
            raise Refused(p.BAD_LINE, str(exc), acked=state.last_seq) from None
        with self._lock:
            state.last_seq = max(state.last_seq, last)
        return last

    def _forget(self, state: _Run) -> None:
        with self._lock:
            self._runs.pop(state.run.run_id, None)


def _own_accounts() -> frozenset[int]:
    geteuid = getattr(os, "geteuid", None)
    return frozenset({0} if geteuid is None else {0, geteuid()})


def _text(msg: dict[str, Any], key: str) -> str:
    value = msg.get(key)
    if not isinstance(value, str) or not value or len(value) > 1000:
        raise Refused(p.BAD_REQUEST, f"{key!r} is a non-empty string")
    return value


def _user(check: PinCheck) -> dict[str, Any]:
    return {"id": check.user_id, "name": check.name, "role": check.role}


def _not_signed_in() -> Refused:
    return Refused(p.NOT_SIGNED_IN, "This student is not signed in on this app.")


def _pin_refused(check: PinCheck) -> Refused:
    code = p.NOT_A_GUIDE if check.status == "unknown" else check.status
    return Refused(
        code,
        check.message,
        remainingAttempts=check.remaining_attempts,
        retryAfterS=check.retry_after_s,
    )
