"""One error tree for everything that can go wrong talking to Timeback.

The sync worker decides on two flags rather than on classes:

* ``retryable`` — trying the same request again later may succeed;
* ``ambiguous`` — the request may have reached the server and taken effect, so before
  sending a non-idempotent request again (a Caliper envelope) read back what happened.

Tree::

    TimebackError
    ├── ConnectionFailure            request never got an answer from the network
    │   ├── OfflineError             connect refused, DNS failure, network unreachable
    │   ├── NotSentTimeoutError      connect or pool timeout: nothing was sent
    │   ├── AmbiguousFailure         read/write timeout, reset or protocol error after sending
    │   ├── TLSFailure               certificate or TLS handshake failure
    │   └── ProxyFailure             the proxy refused or failed the request
    ├── StatusError                  the server answered with an error status
    │   ├── RateLimitedError         429 (``retry_after`` in seconds, or None)
    │   ├── ServerError              5xx
    │   ├── RejectedError            400/422 and other 4xx (message, imsx payload, errors)
    │   ├── UnauthorisedError        401 after one retry with a fresh token, or bad credentials
    │   ├── ForbiddenError           403
    │   └── NotFoundError            404
    ├── MalformedResponseError       not JSON, or JSON of the wrong shape
    ├── InvalidRequestError          a bug or bad configuration on our side (bad URL, ...)
    ├── CredentialsError             no credentials stored, or no usable keyring
    │   ├── CredentialsMissingError
    │   └── KeyringUnavailableError
    └── UserLookupError              lookup of a user by email
        ├── UserNotFoundError
        └── AmbiguousUserError
"""

from __future__ import annotations

from typing import Any


class TimebackError(Exception):
    """Base of every error raised by ``companion.timeback``."""

    ambiguous: bool = False
    retryable: bool = False

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url


# --- the network --------------------------------------------------------------------------


class ConnectionFailure(TimebackError):
    """The request got no HTTP answer."""

    retryable = True


class OfflineError(ConnectionFailure):
    """The server could not be reached (connection refused, DNS failure, no network)."""


class NotSentTimeoutError(ConnectionFailure):
    """Timed out before the request was sent (connect or connection-pool timeout)."""


class AmbiguousFailure(ConnectionFailure):
    """The request may have reached the server; its outcome is unknown."""

    ambiguous = True


class TLSFailure(ConnectionFailure):
    """TLS failed: an untrusted or invalid certificate, or a failed handshake.

    Not retryable: on school networks this is usually an intercepting proxy whose
    certificate is not in the OS store, which needs IT, not a retry.
    """

    retryable = False


class ProxyFailure(ConnectionFailure):
    """The proxy could not be reached, refused the request or needs authentication."""


# --- the server answered ------------------------------------------------------------------


class StatusError(TimebackError):
    """The server answered with an error status."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        url: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message, url=url)
        self.status_code = status_code
        self.body = body


class RateLimitedError(StatusError):
    """429 Too Many Requests; ``retry_after`` is the server's minimum wait in seconds."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 429,
        url: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, url=url, body=body)
        self.retry_after = retry_after


class ServerError(StatusError):
    """A 5xx answer. The server (or a gateway in front of it) may have done part of the work."""

    retryable = True
    ambiguous = True


class RejectedError(StatusError):
    """The server refused the request as invalid (400, 422 and other 4xx).

    ``imsx`` is the OneRoster imsx status payload when there was one; ``errors`` the
    Caliper per-event errors (dicts with eventIndex, eventId, field, message).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        url: str | None = None,
        body: Any = None,
        imsx: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, url=url, body=body)
        self.imsx = imsx
        self.errors = errors or []


class UnauthorisedError(StatusError):
    """401 even with a fresh token, or the token endpoint refused the client credentials."""


class ForbiddenError(StatusError):
    """403: the credentials are valid but not allowed to do this."""


class NotFoundError(StatusError):
    """404: no such record (or no such endpoint)."""


# --- our side or the payload --------------------------------------------------------------


class MalformedResponseError(TimebackError):
    """The answer was not JSON or not of the expected shape.

    Ambiguous and retryable: a captive portal or a broken proxy may have answered instead
    of Timeback, or Timeback may have done the work and answered badly.
    """

    ambiguous = True
    retryable = True
    job_id: str | None = None  # a job id the answer carried all the same (a Caliper send)


class InvalidRequestError(TimebackError):
    """The request could not be built or sent as asked (bad URL, unsupported scheme, ...)."""


class CredentialsError(TimebackError):
    """Credentials for an environment are unavailable."""


class CredentialsMissingError(CredentialsError):
    """No client id / secret stored for the environment (run ``companion setup``)."""


class KeyringUnavailableError(CredentialsError):
    """No usable OS keyring; secrets are never stored anywhere else."""


class UserLookupError(TimebackError):
    """Looking a user up by email did not give exactly one user."""


class UserNotFoundError(UserLookupError):
    """No user has that email."""


class AmbiguousUserError(UserLookupError):
    """More than one user has that email; ``sourced_ids`` lists them."""

    def __init__(self, message: str, *, sourced_ids: list[str]) -> None:
        super().__init__(message)
        self.sourced_ids = sourced_ids
