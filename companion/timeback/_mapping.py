"""Turn httpx exceptions and error responses into the ``companion.timeback`` error tree."""

from __future__ import annotations

import json
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from companion.core.clock import utc_now

from ._errors import (
    AmbiguousFailure,
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


def _caused_by_ssl(exc: BaseException) -> bool:
    """Whether an ``ssl.SSLError`` is anywhere in the exception's cause/context chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    text = str(exc)
    return "CERTIFICATE_VERIFY_FAILED" in text or "SSL:" in text


def _url_of(exc: Exception) -> str | None:
    if not isinstance(exc, httpx.HTTPError):
        return None
    try:
        return str(exc.request.url)
    except RuntimeError:  # no request attached
        return None


def map_exception(exc: Exception, *, proxy: str | None = None) -> TimebackError:
    """Map any exception of httpx's public tree to ours; ``proxy`` names the proxy in use.

    That tree has ``HTTPError`` (requests, transports, statuses) and, beside it,
    ``InvalidURL``, ``CookieConflict`` and ``StreamError``: all map to some error here.
    """
    url = _url_of(exc)
    where = f" ({url})" if url else ""
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ProxyError):
        return ProxyFailure(f"the proxy failed the request{where}: {detail}", url=url)
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout) and _caused_by_ssl(exc):
        return TLSFailure(
            f"TLS failure{where}: the server's certificate is not trusted by this computer "
            f"or the TLS handshake failed ({detail})",
            url=url,
        )
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        if proxy is not None:
            return ProxyFailure(f"timed out connecting through proxy {proxy}{where}", url=url)
        return NotSentTimeoutError(f"timed out before the request was sent{where}", url=url)
    if isinstance(exc, httpx.ConnectError):
        if proxy is not None:
            return ProxyFailure(
                f"could not connect through proxy {proxy}{where}: {detail}", url=url
            )
        return OfflineError(f"cannot reach the server{where}: {detail}", url=url)
    if isinstance(exc, httpx.ReadTimeout | httpx.WriteTimeout):
        return AmbiguousFailure(
            f"timed out waiting for the server{where}; the request may have arrived", url=url
        )
    if isinstance(exc, httpx.TimeoutException):
        return AmbiguousFailure(f"timed out{where}; the request may have arrived", url=url)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return InvalidRequestError(f"cannot send this request{where}: {detail}", url=url)
    if isinstance(exc, httpx.DecodingError):
        return MalformedResponseError(f"could not decode the response{where}: {detail}", url=url)
    if isinstance(exc, httpx.TransportError):
        # ReadError, WriteError, CloseError, RemoteProtocolError, other network errors:
        # the connection broke after we started sending.
        return AmbiguousFailure(
            f"the connection broke{where}; the request may have arrived: {detail}", url=url
        )
    if isinstance(exc, httpx.TooManyRedirects):
        return MalformedResponseError(f"too many redirects{where}", url=url)
    if isinstance(exc, httpx.HTTPStatusError):
        return map_response(exc.response)
    if isinstance(exc, httpx.RequestError):
        return InvalidRequestError(f"request failed{where}: {detail}", url=url)
    # InvalidURL, CookieConflict, StreamError and anything else from httpx's tree.
    return InvalidRequestError(f"cannot send this request{where}: {detail}", url=url)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if absent
    or unreadable. Dates in the past give 0."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    reference = now or utc_now()
    return max(0.0, (when - reference).total_seconds())


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return response.text[:500] if response.text else None


def _server_message(body: Any) -> str | None:
    if isinstance(body, dict):
        for key in ("imsx_description", "message", "error_description", "error", "detail"):
            value = body.get(key)
            if isinstance(value, str) and value:
                return value
    if isinstance(body, str) and body.strip():
        return body.strip()
    return None


def map_response(response: httpx.Response, *, now: datetime | None = None) -> TimebackError:
    """Map an error response (status >= 400) to the error tree."""
    status = response.status_code
    url = str(response.request.url) if response._request is not None else None
    body = _body(response)
    said = _server_message(body)
    suffix = f": {said}" if said else ""
    where = f" ({url})" if url else ""
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
        return RateLimitedError(
            f"rate limited{where}{suffix}", url=url, body=body, retry_after=retry_after
        )
    if status >= 500:
        return ServerError(f"server error {status}{where}{suffix}", status_code=status, url=url,
                           body=body)
    if status == 401:
        return UnauthorisedError(f"not authorised{where}{suffix}", status_code=status, url=url,
                                 body=body)
    if status == 403:
        return ForbiddenError(f"forbidden{where}{suffix}", status_code=status, url=url, body=body)
    if status == 404:
        return NotFoundError(f"not found{where}{suffix}", status_code=status, url=url, body=body)
    if status == 407:
        return ProxyFailure(f"the proxy requires authentication{where}", url=url)
    imsx = body if isinstance(body, dict) and "imsx_codeMajor" in body else None
    errors = body.get("errors") if isinstance(body, dict) else None
    if not (isinstance(errors, list) and all(isinstance(e, dict) for e in errors)):
        errors = None
    return RejectedError(
        f"rejected with {status}{where}{suffix}",
        status_code=status,
        url=url,
        body=body,
        imsx=imsx,
        errors=errors,
    )
