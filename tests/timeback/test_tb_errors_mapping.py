"""Every httpx failure and error status maps into the companion.timeback error tree."""

from __future__ import annotations

import inspect
import ssl
from datetime import UTC, datetime

import httpx
import pytest

from companion.timeback import (
    AmbiguousFailure,
    ForbiddenError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    NotSentTimeoutError,
    OfflineError,
    OneRosterClient,
    ProxyFailure,
    RateLimitedError,
    RejectedError,
    ServerError,
    TimebackError,
    TLSFailure,
    UnauthorisedError,
    map_exception,
    parse_retry_after,
)

REQUEST = httpx.Request("GET", "https://api.example.test/x")


def _public_httpx_exceptions() -> list[type[Exception]]:
    return [
        obj for name, obj in vars(httpx).items()
        if not name.startswith("_") and inspect.isclass(obj) and issubclass(obj, Exception)
    ]


def _instance(cls: type[Exception]) -> Exception:
    if cls is httpx.HTTPStatusError:
        return cls("boom", request=REQUEST, response=httpx.Response(503, request=REQUEST))
    if issubclass(cls, httpx.RequestError):
        return cls("boom", request=REQUEST)
    if issubclass(cls, httpx.StreamError) and cls is not httpx.StreamError:
        return cls()  # type: ignore[call-arg]  # StreamConsumed() etc. take no message
    return cls("boom")


def test_every_public_httpx_exception_maps_into_our_tree() -> None:
    classes = _public_httpx_exceptions()
    assert len(classes) >= 25  # the whole tree, not an empty list
    for cls in classes:
        mapped = map_exception(_instance(cls))
        assert isinstance(mapped, TimebackError), cls
        assert type(mapped) is not TimebackError, cls  # always a specific class


@pytest.mark.parametrize(
    ("exc", "expected", "ambiguous", "retryable"),
    [
        (httpx.ConnectError("refused", request=REQUEST), OfflineError, False, True),
        (httpx.ConnectTimeout("t", request=REQUEST), NotSentTimeoutError, False, True),
        (httpx.PoolTimeout("t", request=REQUEST), NotSentTimeoutError, False, True),
        (httpx.ReadTimeout("t", request=REQUEST), AmbiguousFailure, True, True),
        (httpx.WriteTimeout("t", request=REQUEST), AmbiguousFailure, True, True),
        (httpx.ReadError("reset", request=REQUEST), AmbiguousFailure, True, True),
        (httpx.WriteError("reset", request=REQUEST), AmbiguousFailure, True, True),
        (httpx.RemoteProtocolError("eof", request=REQUEST), AmbiguousFailure, True, True),
        (httpx.ProxyError("407", request=REQUEST), ProxyFailure, False, True),
        (httpx.UnsupportedProtocol("ftp", request=REQUEST), InvalidRequestError, False, False),
        (httpx.DecodingError("gzip", request=REQUEST), MalformedResponseError, True, True),
        (httpx.InvalidURL("bad"), InvalidRequestError, False, False),
    ],
)
def test_transport_exception_mapping(
    exc: Exception, expected: type[TimebackError], ambiguous: bool, retryable: bool
) -> None:
    mapped = map_exception(exc)
    assert type(mapped) is expected
    assert (mapped.ambiguous, mapped.retryable) == (ambiguous, retryable)


def test_tls_failure_is_named_as_tls() -> None:
    try:
        try:
            raise ssl.SSLCertVerificationError(1, "certificate verify failed")
        except ssl.SSLError as inner:
            raise httpx.ConnectError("handshake", request=REQUEST) from inner
    except httpx.ConnectError as exc:
        mapped = map_exception(exc)
    assert isinstance(mapped, TLSFailure)
    assert "TLS" in str(mapped) and not mapped.retryable


def test_connect_error_through_a_proxy_names_the_proxy() -> None:
    mapped = map_exception(httpx.ConnectError("refused", request=REQUEST),
                           proxy="http://proxy.school:3128")
    assert isinstance(mapped, ProxyFailure)
    assert "proxy.school:3128" in str(mapped)


def _client_answering(response: httpx.Response) -> OneRosterClient:
    return OneRosterClient("https://api.example.test",
                           transport=httpx.MockTransport(lambda request: response))


@pytest.mark.parametrize(
    ("status", "expected"),
    [(500, ServerError), (502, ServerError), (503, ServerError), (401, UnauthorisedError),
     (403, ForbiddenError), (404, NotFoundError), (400, RejectedError), (422, RejectedError),
     (409, RejectedError), (407, ProxyFailure)],
)
def test_status_mapping(status: int, expected: type[TimebackError]) -> None:
    with _client_answering(httpx.Response(status, json={"message": "nope"})) as client, \
            pytest.raises(expected) as info:
        client.get_user("u1")
    assert getattr(info.value, "status_code", status) == status


def test_rejected_keeps_the_imsx_payload_and_message() -> None:
    imsx = {"imsx_codeMajor": "failure", "imsx_severity": "error",
            "imsx_description": "invalid filter field: shoeSize",
            "imsx_CodeMinor": {"imsx_codeMinorField": [
                {"imsx_codeMinorFieldName": "TargetEndSystem",
                 "imsx_codeMinorFieldValue": "invalid_filter_field"}]}}
    with _client_answering(httpx.Response(400, json=imsx)) as client, \
            pytest.raises(RejectedError) as info:
        client.list_users()
    assert info.value.imsx == imsx
    assert "invalid filter field: shoeSize" in str(info.value)
    assert not info.value.retryable and not info.value.ambiguous


def test_rate_limit_parses_retry_after_seconds() -> None:
    response = httpx.Response(429, headers={"Retry-After": "7"}, json={})
    with _client_answering(response) as client, pytest.raises(RateLimitedError) as info:
        client.list_users()
    assert info.value.retry_after == 7.0 and info.value.retryable


def test_retry_after_http_date_is_relative_to_now() -> None:
    now = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 05 Jan 2026 09:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 05 Jan 2026 08:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None) is None


def test_not_json_is_malformed() -> None:
    response = httpx.Response(200, text="<html>captive portal login</html>")
    with _client_answering(response) as client, pytest.raises(MalformedResponseError) as info:
        client.get_user("u1")
    assert info.value.ambiguous


def test_wrong_shape_is_malformed() -> None:
    with _client_answering(httpx.Response(200, json={"user": {"givenName": "no id"}})) as c, \
            pytest.raises(MalformedResponseError):
        c.get_user("u1")
    with _client_answering(httpx.Response(200, json=[1, 2])) as c, \
            pytest.raises(MalformedResponseError):
        c.get_user("u1")


@pytest.mark.parametrize(
    ("exc", "expected"),
    [(httpx.ConnectError("refused"), OfflineError),
     (httpx.ReadTimeout("slow"), AmbiguousFailure),
     (httpx.ConnectTimeout("slow"), NotSentTimeoutError),
     (httpx.RemoteProtocolError("Server disconnected"), AmbiguousFailure)],
)
def test_transport_raising_reaches_the_caller_mapped(
    exc: httpx.TransportError, expected: type[TimebackError]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    client = OneRosterClient("https://api.example.test", transport=httpx.MockTransport(handler))
    with client, pytest.raises(expected) as info:
        client.get_user("u1")
    assert info.value.url == "https://api.example.test/ims/oneroster/rostering/v1p2/users/u1"
