"""The retry table, row by row, the error classification and the backoff arithmetic."""

from __future__ import annotations

import random

import pytest

from companion.sync.retry import (
    BACKOFF_CAP_S,
    TABLE,
    Action,
    Outcome,
    Rule,
    backoff_delay,
    classify,
    decide,
    retry_after_of,
)
from companion.timeback import (
    AmbiguousFailure,
    CredentialsMissingError,
    ForbiddenError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    NotSentTimeoutError,
    OfflineError,
    ProxyFailure,
    RateLimitedError,
    RejectedError,
    ServerError,
    TimebackError,
    TLSFailure,
    UnauthorisedError,
)

ROWS: list[tuple[Outcome, Action, bool, str]] = [
    (Outcome.SENT, Action.ACK, False, "sending"),
    (Outcome.OFFLINE, Action.RETRY, True, "offline"),
    (Outcome.TIMEOUT_BEFORE_SEND, Action.RETRY, True, "offline"),
    (Outcome.AMBIGUOUS, Action.SETTLE, True, "settling"),
    (Outcome.MALFORMED, Action.SETTLE, True, "settling"),
    (Outcome.SERVER_ERROR, Action.SETTLE, True, "error"),
    (Outcome.RATE_LIMITED, Action.RETRY, True, "rate-limited"),
    (Outcome.UNAUTHORISED, Action.REFRESH_TOKEN, True, "error"),
    (Outcome.FORBIDDEN, Action.STOP, False, "error"),
    (Outcome.REJECTED, Action.VALIDATE_EACH, False, "sending"),
    (Outcome.NETWORK_CONFIG, Action.RETRY, True, "error"),
    (Outcome.CONFIGURATION, Action.STOP, False, "error"),
]


@pytest.mark.parametrize(("outcome", "action", "backoff", "state"), ROWS,
                         ids=[r[0].value for r in ROWS])
def test_each_row_of_the_table(outcome: Outcome, action: Action, backoff: bool,
                               state: str) -> None:
    assert decide(outcome) == Rule(action, backoff=backoff, state=state)


def test_every_outcome_has_exactly_one_row() -> None:
    assert set(TABLE) == set(Outcome)
    assert sorted(r[0].value for r in ROWS) == sorted(o.value for o in Outcome)


CASES: list[tuple[TimebackError, Outcome]] = [
    (OfflineError("refused"), Outcome.OFFLINE),
    (NotSentTimeoutError("connect timeout"), Outcome.TIMEOUT_BEFORE_SEND),
    (AmbiguousFailure("reset after sending"), Outcome.AMBIGUOUS),
    (TLSFailure("bad cert"), Outcome.NETWORK_CONFIG),
    (ProxyFailure("proxy said no"), Outcome.NETWORK_CONFIG),
    (RateLimitedError("slow down", retry_after=7), Outcome.RATE_LIMITED),
    (ServerError("boom", status_code=502), Outcome.SERVER_ERROR),
    (UnauthorisedError("no", status_code=401), Outcome.UNAUTHORISED),
    (ForbiddenError("no", status_code=403), Outcome.FORBIDDEN),
    (RejectedError("bad", status_code=400), Outcome.REJECTED),
    (RejectedError("bad", status_code=422), Outcome.REJECTED),
    (NotFoundError("no such endpoint", status_code=404), Outcome.CONFIGURATION),
    (MalformedResponseError("captive portal"), Outcome.MALFORMED),
    (CredentialsMissingError("run setup"), Outcome.CONFIGURATION),
    (InvalidRequestError("bad url"), Outcome.CONFIGURATION),
]


@pytest.mark.parametrize(("error", "outcome"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_errors_map_to_outcomes(error: TimebackError, outcome: Outcome) -> None:
    assert classify(error) is outcome


def test_unknown_errors_are_treated_as_ambiguous() -> None:
    assert classify(TimebackError("something new")) is Outcome.AMBIGUOUS
    assert decide(classify(RuntimeError("?"))).action is Action.SETTLE


def test_every_ambiguous_error_of_the_client_is_settled_not_resent() -> None:
    for error, _ in CASES:
        if error.ambiguous:
            assert decide(classify(error)).action is Action.SETTLE, type(error).__name__


def test_retry_after_comes_only_from_rate_limits() -> None:
    assert retry_after_of(RateLimitedError("x", retry_after=7)) == 7
    assert retry_after_of(RateLimitedError("x")) is None
    assert retry_after_of(ServerError("x", status_code=503)) is None


def test_backoff_is_full_jitter_below_a_doubling_ceiling() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (6, 64.0)]:
        delays = [backoff_delay(attempt, rng) for _ in range(400)]
        assert all(0.0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling * 0.9  # the whole range is used
        assert min(delays) < ceiling * 0.1


def test_backoff_is_capped_at_five_minutes() -> None:
    rng = random.Random(2)
    delays = [backoff_delay(50, rng) for _ in range(400)]
    assert BACKOFF_CAP_S == 300.0
    assert max(delays) <= 300.0 and max(delays) > 250.0
    assert backoff_delay(10**6, rng) <= 300.0  # no overflow for absurd attempt counts


def test_retry_after_is_a_minimum_and_may_exceed_the_cap() -> None:
    rng = random.Random(3)
    assert all(backoff_delay(1, rng, retry_after_s=30) == 30 for _ in range(50))
    assert backoff_delay(1, rng, retry_after_s=900) == 900
    high = [backoff_delay(10, rng, retry_after_s=1.0) for _ in range(200)]
    assert min(high) >= 1.0 and max(high) > 100  # jitter above the minimum is kept


def test_backoff_respects_custom_base_and_cap() -> None:
    rng = random.Random(4)
    delays = [backoff_delay(4, rng, base_s=0.01, cap_s=0.05) for _ in range(200)]
    assert max(delays) <= 0.05
