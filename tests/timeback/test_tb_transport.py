"""The default transport: OS trust store (a self-signed server fails as TLS) and the
system proxy settings (a dead proxy fails as a proxy failure)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion.timeback import OfflineError, OneRosterClient, ProxyFailure, TLSFailure

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
              "http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def self_signed_server(tmp_path: Path) -> Iterator[int]:
    """A TLS server on loopback with a certificate no trust store knows; one connection."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            with context.wrap_socket(conn, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass  # the client refuses our certificate: expected

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    thread.join(timeout=10)
    listener.close()


def test_untrusted_certificate_is_a_tls_failure(self_signed_server: int, no_proxy_env: None
                                                ) -> None:
    with OneRosterClient(f"https://127.0.0.1:{self_signed_server}") as client, \
            pytest.raises(TLSFailure) as info:
        client.list_users()
    assert "TLS" in str(info.value) and "certificate" in str(info.value)


def test_dead_proxy_is_a_proxy_failure(monkeypatch: pytest.MonkeyPatch, no_proxy_env: None
                                       ) -> None:
    proxy = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    with OneRosterClient("https://oneroster.example.test") as client, \
            pytest.raises(ProxyFailure) as info:
        client.list_users()
    assert proxy in str(info.value)


def test_refused_connection_without_proxy_is_offline(no_proxy_env: None) -> None:
    with OneRosterClient(f"http://127.0.0.1:{_closed_port()}") as client, \
            pytest.raises(OfflineError):
        client.list_users()


def test_loopback_never_goes_through_the_proxy(monkeypatch: pytest.MonkeyPatch,
                                               no_proxy_env: None) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    with OneRosterClient(f"http://127.0.0.1:{_closed_port()}") as client, \
            pytest.raises(OfflineError):  # not ProxyFailure: the proxy was not used
        client.list_users()
