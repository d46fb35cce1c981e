"""The one transport seam: building the httpx client and sending through it.

Without an injected transport, httpx builds its own HTTPTransport with the OS certificate
store (truststore) and the system proxy settings (trust_env). Tests inject
``httpx.MockTransport`` (or any ``httpx.BaseTransport``) instead.
"""

from __future__ import annotations

import json
import ssl
import urllib.request
from typing import Any, Self

import httpx
import truststore

from ._errors import InvalidRequestError, MalformedResponseError
from ._mapping import map_exception, map_response

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0, pool=10.0)
USER_AGENT = "timeback-companion/0.1"


def os_trust_context() -> ssl.SSLContext:
    """A TLS context that trusts the OS certificate store."""
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def system_proxy_for(url: str) -> str | None:
    """The proxy that httpx's ``trust_env`` will use for ``url`` (from HTTP(S)_PROXY,
    ALL_PROXY and NO_PROXY), or None; used to say "proxy" in error messages."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return None
    proxies = urllib.request.getproxies_environment()
    if urllib.request.proxy_bypass_environment(parsed.host, proxies):  # type: ignore[attr-defined]
        return None
    return proxies.get(parsed.scheme) or proxies.get("all")


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this computer (the sandbox): never through a proxy."""
    try:
        return httpx.URL(url).host in LOOPBACK_HOSTS
    except httpx.InvalidURL:
        return False


class HttpSession:
    """An ``httpx.Client`` for one base URL with our error mapping around every send."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        direct = transport is not None or is_loopback(self.base_url)
        self.proxy = None if direct else system_proxy_for(self.base_url)
        options: dict[str, Any] = {
            "base_url": self.base_url,
            "auth": auth,
            "timeout": timeout or DEFAULT_TIMEOUT,
            "headers": {"User-Agent": USER_AGENT, "Accept": "application/json"},
            "trust_env": not is_loopback(self.base_url),
        }
        if transport is not None:
            options["transport"] = transport
        else:
            options["verify"] = os_trust_context()
        self.client = httpx.Client(**options)

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send and return the response; statuses >= 400 not in ``ok`` raise mapped errors."""
        try:
            response = self.client.request(method, url, params=params, json=json_body)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError) as exc:
            raise map_exception(exc, proxy=self.proxy) from exc
        if response.status_code >= 400 and response.status_code not in ok:
            raise map_response(response)
        if 300 <= response.status_code < 400:
            raise InvalidRequestError(
                f"unexpected redirect {response.status_code} from {response.request.url}",
                url=str(response.request.url),
            )
        return response


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The response body as a JSON object, or MalformedResponseError."""
    url = str(response.request.url)
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MalformedResponseError(f"the answer from {url} is not JSON", url=url) from exc
    if not isinstance(body, dict):
        raise MalformedResponseError(f"the answer from {url} is not a JSON object", url=url)
    return body


class ServiceClient:
    """What every Timeback client shares: one ``HttpSession`` for its base URL, closed by
    ``close()`` or by leaving a ``with`` block."""

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self._http = HttpSession(base_url, auth=auth, transport=transport, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
