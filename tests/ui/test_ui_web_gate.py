"""The web engine's gate on real loopback sockets: only the hosts a web lesson opened get
through, one checked request per plain connection."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from companion.ui.web_gate import MAX_HEAD_BYTES, WebGate, target_of
from tests.ui.hostile import Listener


@pytest.fixture
def gate() -> Iterator[WebGate]:
    running = WebGate()
    yield running
    running.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def ask(gate: WebGate, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", gate.port), timeout=5) as sock:
        sock.sendall(request)
        got = b""
        while chunk := sock.recv(65536):
            got += chunk
        return got


def test_a_plain_request_goes_through_only_to_an_opened_host(
    gate: WebGate, listener: Listener
) -> None:
    request = (
        f"GET http://127.0.0.1:{listener.port}/c/plain?x=1 HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{listener.port}\r\nProxy-Connection: keep-alive\r\n"
        "Proxy-Authorization: Basic eDp5\r\n\r\n"
    ).encode()
    assert ask(gate, request).startswith(b"HTTP/1.1 403")
    assert listener.hits.channels() == set()
    assert gate.refused == [f"127.0.0.1:{listener.port}"]

    ticket = gate.allow(("127.0.0.1",))
    reply = ask(gate, request)
    assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"listener-was-reached")
    head = listener.hits.tcp[0]
    assert head.startswith(b"GET /c/plain?x=1 HTTP/1.1\r\n")
    assert b"Connection: close" in head
    assert b"Proxy-" not in head

    gate.release(ticket)
    assert ask(gate, request).startswith(b"HTTP/1.1 403")
    assert len(listener.hits.tcp) == 1


def test_a_tunnel_goes_through_only_to_an_opened_host(gate: WebGate, listener: Listener) -> None:
    connect = f"CONNECT 127.0.0.1:{listener.port} HTTP/1.1\r\n\r\n".encode()
    assert ask(gate, connect + b"GET /c/tunnel HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.1 403")
    gate.allow(("localhost", "*.example.org"))
    assert ask(gate, connect).startswith(b"HTTP/1.1 403")  # another name is another host
    assert listener.hits.channels() == set()

    gate.allow(("127.0.0.1",))
    reply = ask(gate, connect + b"GET /c/tunnel HTTP/1.0\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 200 Connection Established\r\n\r\nHTTP/1.1 200 OK")
    assert listener.hits.channels() == {"tunnel"}


def test_what_is_not_a_proxy_request_is_refused(gate: WebGate, listener: Listener) -> None:
    gate.allow(("127.0.0.1",))
    for request in (
        b"GET /c/origin-form HTTP/1.1\r\n\r\n",
        f"GET ftp://127.0.0.1:{listener.port}/c/ftp HTTP/1.1\r\n\r\n".encode(),
        b"CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n",
        b"\x16\x03\x01 not http at all\r\n\r\n",
        b"GET http://127.0.0.1/" + b"a" * MAX_HEAD_BYTES,
    ):
        assert ask(gate, request).startswith(b"HTTP/1.1 403"), request[:40]
    assert listener.hits.channels() == set()


def test_the_upstream_head_keeps_the_request_and_drops_hop_headers() -> None:
    target = target_of(
        b"POST http://Example.org:8080/a/b?c=d HTTP/1.1\r\nHost: example.org"
        b"\r\nConnection: keep-alive\r\nContent-Length: 3"
    )
    assert target == (
        "example.org",
        8080,
        b"POST /a/b?c=d HTTP/1.1\r\nHost: example.org\r\n"
        b"Content-Length: 3\r\nConnection: close\r\n\r\n",
    )
    assert target_of(b"CONNECT [::1]:443 HTTP/1.1") == ("::1", 443, b"")
    assert target_of(b"CONNECT host:99999 HTTP/1.1") is None


def test_the_engine_goes_through_this_process_gate_whatever_it_inherits() -> None:
    from companion.ui import web_gate
    from companion.ui.web import engine_flags

    running = web_gate.current()
    assert running is not None  # prepare_qt started it
    inherited = (
        "--disable-gpu --proxy-server=http://127.0.0.1:1 --proxy-bypass-list=* "
        "--no-proxy-server --proxy-pac-url=data:x"
    )
    flags = engine_flags(inherited).split()
    assert [f for f in flags if f.startswith("--proxy")] == [
        f"--proxy-server=http://127.0.0.1:{running.port}",
        "--proxy-bypass-list=<-loopback>",
    ]
    assert "--no-proxy-server" not in flags and "--disable-gpu" in flags
    assert "--force-webrtc-ip-handling-policy=disable_non_proxied_udp" in flags
    assert engine_flags(" ".join(flags)).split() == flags
