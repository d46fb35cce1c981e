"""The retry table: what the sync worker does after each kind of outcome.

Written once, as data, and unit-tested row by row. Delays use capped exponential backoff
with full jitter; a server's Retry-After is a minimum, never shortened by the jitter.

5xx answers are treated as ambiguous (settled by reading back before any resend), like
``ServerError.ambiguous`` in the client's error tree: a gateway may have forwarded the
envelope and answered 502/504 after Timeback stored it, and Timeback does not deduplicate.
The cost is latency (a batch that really failed waits for the settling time before it is
sent again); the alternative would be duplicate learning events, which is worse.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from companion.sync.status import SyncState
from companion.timeback import (
    AmbiguousFailure,
    CredentialsError,
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

BACKOFF_BASE_S = 2.0
BACKOFF_CAP_S = 300.0


class Outcome(enum.Enum):
    """What happened to one delivery attempt."""

    SENT = "sent"  # 2xx: accepted
    OFFLINE = "offline"  # connection refused, DNS failure: nothing reached the server
    TIMEOUT_BEFORE_SEND = "timeout-before-send"  # connect or pool timeout
    AMBIGUOUS = "ambiguous"  # the request may have reached the server
    SERVER_ERROR = "server-error"  # 5xx (a gateway may have forwarded it: ambiguous)
    RATE_LIMITED = "rate-limited"  # 429
    UNAUTHORISED = "unauthorised"  # 401 after the client's own token retry
    FORBIDDEN = "forbidden"  # 403
    REJECTED = "rejected"  # 400 / 422
    MALFORMED = "malformed"  # 2xx with a body we cannot read: treat like ambiguous
    NETWORK_CONFIG = "network-config"  # TLS or proxy failure
    CONFIGURATION = "configuration"  # no credentials, bad URL: nothing will work as is


class Action(enum.Enum):
    """What the worker does next with the batch."""

    ACK = "ack"  # mark delivered
    RETRY = "retry"  # back to pending, try again after the delay
    SETTLE = "settle"  # keep in flight; find out whether it arrived before resending
    REFRESH_TOKEN = "refresh-token"  # drop the token, retry once, then wait
    STOP = "stop"  # a configuration problem: stop sending and report it
    VALIDATE_EACH = "validate-each"  # find the bad events one by one; dead-letter only them


@dataclass(frozen=True)
class Rule:
    """One row: the action, whether a backoff delay applies, and the state to report."""

    action: Action
    backoff: bool  # whether a delay applies before the next attempt
    state: SyncState  # what the worker reports: sending, offline, rate-limited, error


TABLE: dict[Outcome, Rule] = {
    Outcome.SENT: Rule(Action.ACK, backoff=False, state=SyncState.SENDING),
    Outcome.OFFLINE: Rule(Action.RETRY, backoff=True, state=SyncState.OFFLINE),
    Outcome.TIMEOUT_BEFORE_SEND: Rule(Action.RETRY, backoff=True, state=SyncState.OFFLINE),
    Outcome.AMBIGUOUS: Rule(Action.SETTLE, backoff=True, state=SyncState.SETTLING),
    Outcome.MALFORMED: Rule(Action.SETTLE, backoff=True, state=SyncState.SETTLING),
    Outcome.SERVER_ERROR: Rule(Action.SETTLE, backoff=True, state=SyncState.ERROR),
    Outcome.RATE_LIMITED: Rule(Action.RETRY, backoff=True, state=SyncState.RATE_LIMITED),
    Outcome.UNAUTHORISED: Rule(Action.REFRESH_TOKEN, backoff=True, state=SyncState.ERROR),
    Outcome.FORBIDDEN: Rule(Action.STOP, backoff=False, state=SyncState.ERROR),
    Outcome.REJECTED: Rule(Action.VALIDATE_EACH, backoff=False, state=SyncState.SENDING),
    Outcome.NETWORK_CONFIG: Rule(Action.RETRY, backoff=True, state=SyncState.ERROR),
    Outcome.CONFIGURATION: Rule(Action.STOP, backoff=False, state=SyncState.ERROR),
}

# Most specific first: the first class that matches decides.
_CLASSES: tuple[tuple[type[TimebackError], Outcome], ...] = (
    (OfflineError, Outcome.OFFLINE),
    (NotSentTimeoutError, Outcome.TIMEOUT_BEFORE_SEND),
    (AmbiguousFailure, Outcome.AMBIGUOUS),
    (TLSFailure, Outcome.NETWORK_CONFIG),
    (ProxyFailure, Outcome.NETWORK_CONFIG),
    (RateLimitedError, Outcome.RATE_LIMITED),
    (ServerError, Outcome.SERVER_ERROR),
    (UnauthorisedError, Outcome.UNAUTHORISED),
    (ForbiddenError, Outcome.FORBIDDEN),
    (RejectedError, Outcome.REJECTED),
    (NotFoundError, Outcome.CONFIGURATION),  # 404 on POST: a wrong Caliper URL
    (MalformedResponseError, Outcome.MALFORMED),
    (CredentialsError, Outcome.CONFIGURATION),
    (InvalidRequestError, Outcome.CONFIGURATION),
)


def classify(error: BaseException) -> Outcome:
    """The outcome of a failed send. Unknown errors count as ambiguous (the safe side)."""
    for cls, outcome in _CLASSES:
        if isinstance(error, cls):
            return outcome
    return Outcome.AMBIGUOUS


def retry_after_of(error: BaseException) -> float | None:
    """The server's Retry-After in seconds, if the error carries one."""
    if isinstance(error, RateLimitedError):
        return error.retry_after
    return None


def backoff_delay(
    attempt: int,
    rng: random.Random,
    retry_after_s: float | None = None,
    base_s: float = BACKOFF_BASE_S,
    cap_s: float = BACKOFF_CAP_S,
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1).

    Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]. Retry-After, when the
    server sent one, is a minimum (and may exceed the cap: the server knows best).
    """
    ceiling = min(cap_s, base_s * (2 ** max(0, min(attempt - 1, 30))))
    delay = rng.uniform(0.0, ceiling)
    if retry_after_s is not None:
        delay = max(delay, retry_after_s)
    return delay


def decide(outcome: Outcome) -> Rule:
    """The table's row for an outcome."""
    return TABLE[outcome]
