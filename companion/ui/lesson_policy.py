"""What a lesson page may reach: the rules every layer of the sealed profile applies.

A lesson page is content, not code with rights: it reaches only its own bundle,
``lesson://<its lesson id>/...``. Each defence applies these rules on its own, so that one
missing layer leaves the others holding (``docs/security.md`` lists them and their tests):

- the request interceptor (``web.NetworkBlocker``) blocks every scheme but the few below and
  any ``lesson:`` request from another bundle's page;
- the scheme handler (``lesson_scheme``) serves a bundle only to its own pages, with
  ``CONTENT_SECURITY_POLICY`` on every response;
- the page (``lesson_page``) refuses navigation out of its bundle and new windows.

Plain functions of strings: no Qt here, so the rules are tested without a browser.
"""

from __future__ import annotations

SCHEME = "lesson"

# Schemes a request may use at all. ``data:`` and ``blob:`` hold only what the page already
# has; ``about:`` is ``about:blank``. Not ``qrc:`` (the app's own resources), not ``file:``.
REQUEST_SCHEMES = frozenset({SCHEME, "data", "blob", "about"})

# The bundle's own scripts and styles run, inline or in files; everything loads and connects
# only to the bundle's own origin ('self'); nothing may be framed from elsewhere, posted
# elsewhere or run as a worker from elsewhere.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "media-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-src 'self'",
    "child-src 'self'",
    "worker-src 'self'",
    "manifest-src 'none'",
    "object-src 'none'",
    "form-action 'self'",
    "base-uri 'self'",
    "frame-ancestors 'self'",
))

# Chromium switches for every run: WebRTC sends no UDP except through a proxy (an HTTP
# proxy carries none), so all it has left is TCP, which goes through the proxy below.
CHROMIUM_FLAGS = "--force-webrtc-ip-handling-policy=disable_non_proxied_udp"


def proxy_flags(port: int) -> str:
    """Chromium switches that send every connection of the web engine through the app's
    gate on ``127.0.0.1:port`` (``web_gate``), loopback addresses included (Chromium would
    otherwise reach them directly)."""
    return f"--proxy-server=http://127.0.0.1:{port} --proxy-bypass-list=<-loopback>"

# A bundle file larger than this is refused rather than served (a lesson's recordings fit).
MAX_FILE_BYTES = 512 * 1024 * 1024


# Files of a bundle's root that are the app's, not the page's (the answer key is in there).
PRIVATE_FILES = frozenset({"lesson.json"})


def origin_host(initiator: str) -> str | None:
    """The lesson id of an initiator origin such as ``lesson://demo-1``; None when the
    origin is not a lesson bundle (another scheme, or the opaque origin ``null``)."""
    prefix = SCHEME + "://"
    if not initiator.lower().startswith(prefix):
        return None
    host = initiator[len(prefix):].split("/", 1)[0]
    return host.lower() or None


def may_serve(lesson_id: str, initiator: str, opened: frozenset[str]) -> bool:
    """True when a request for ``lesson_id``'s files may be answered.

    ``initiator`` is the origin that asked (empty when the app itself navigated); ``opened``
    the lesson ids the app opened in this profile. A page gets only its own bundle; a
    request nobody's page made gets only a bundle the app opened.
    """
    wanted = lesson_id.lower()
    if not initiator:
        return wanted in opened
    return origin_host(initiator) == wanted


def may_request(scheme: str, host: str, initiator: str) -> bool:
    """The interceptor's rule: True when a request for ``scheme://host/...`` that
    ``initiator`` made may go ahead."""
    scheme = scheme.lower()
    if scheme not in REQUEST_SCHEMES:
        return False
    if scheme != SCHEME or not initiator:
        return True
    return origin_host(initiator) == host.lower()


def may_navigate(scheme: str, host: str, bundle: str | None) -> bool:
    """The page's rule: True when a frame may navigate to ``scheme://host/...`` while the
    page shows ``bundle`` (None: nothing opened yet, so only the app's own load)."""
    scheme = scheme.lower()
    if scheme == "about" or scheme in {"data", "blob"}:
        return scheme == "about"  # about:blank only; no top-level data: or blob: pages
    return scheme == SCHEME and bundle is not None and host.lower() == bundle.lower()
