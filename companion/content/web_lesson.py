"""Web lessons and media lessons: lesson.json's ``web`` and ``media`` fields.

``web`` is ``{"url": "https://...", "hosts": ["school-site.org", "*.cdn.example"]}``: the
lesson is that page, shown in the session window with network access limited to ``hosts``
(a ``*.`` entry allows every sub-domain of the name after it); the url's own host must be
one of them. ``media`` is the path of an audio or video file in the bundle, played by the
app's own media page. Both take a ``checkQuiz`` (``companion.content.external``): XP needs
one, as it does for a lesson in another application.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from companion.content.errors import BundleError
from companion.content.zipsafe import member_problem

WEB_FIELDS = frozenset({"url", "hosts"})
MEDIA_TYPES = frozenset({".mp4", ".webm", ".ogv", ".ogg", ".oga", ".mp3", ".m4a", ".wav",
                         ".opus", ".mov"})
MAX_HOSTS = 50
_HOST = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}"
                   r"[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class WebLessonSpec:
    """A web lesson: where it starts and the hosts it may reach."""

    url: str
    hosts: tuple[str, ...]

    def allows(self, host: str) -> bool:
        """True when ``host`` is one of the lesson's hosts (or under a ``*.`` entry)."""
        return host_allowed(host, self.hosts)


def host_allowed(host: str, hosts: tuple[str, ...]) -> bool:
    name = host.lower().rstrip(".")
    if not name:
        return False
    for entry in hosts:
        if entry.startswith("*.") and (name == entry[2:] or name.endswith(entry[1:])):
            return True
        if name == entry:
            return True
    return False


def parse_web(obj: Any, where: str) -> WebLessonSpec:
    if not isinstance(obj, dict):
        raise BundleError(where, "'web' must be an object with 'url' and 'hosts'")
    unknown = sorted(set(obj) - WEB_FIELDS)
    if unknown:
        raise BundleError(where, f"'web': unknown field(s) {', '.join(map(repr, unknown))}")
    hosts = obj.get("hosts")
    if (not isinstance(hosts, list) or not 1 <= len(hosts) <= MAX_HOSTS
            or not all(isinstance(h, str) for h in hosts)):
        raise BundleError(where, f"'hosts' in 'web' must list 1 to {MAX_HOSTS} host names")
    clean = tuple(h.strip().lower().rstrip(".") for h in hosts)
    for host in clean:
        if not _HOST.match(host):
            raise BundleError(where, f"'hosts' in 'web': {host!r} is not a host name")
    url = obj.get("url")
    if not isinstance(url, str):
        raise BundleError(where, "'url' in 'web' must be an https or http address")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise BundleError(where, f"'url' in 'web' must be an https or http address, "
                                 f"not {url!r}")
    if not host_allowed(parts.hostname, clean):
        raise BundleError(where, f"the web lesson's url is on {parts.hostname!r}, which is "
                                 "not one of its 'hosts'")
    return WebLessonSpec(url, clean)


def parse_media(value: Any, root: Path, where: str) -> Path:
    """The media file a media lesson plays (inside the bundle)."""
    if not isinstance(value, str) or not value.strip():
        raise BundleError(where, "'media' must be the path of an audio or video file")
    if member_problem(value):
        raise BundleError(where, f"media {value!r} is not a path inside the bundle")
    if PurePosixPath(value).suffix.lower() not in MEDIA_TYPES:
        raise BundleError(where, f"media {value!r} is not an audio or video file "
                                 f"({', '.join(sorted(MEDIA_TYPES))})")
    file = root.joinpath(*PurePosixPath(value).parts)
    if not file.is_file():
        raise BundleError(where, f"missing media file {value!r}")
    resolved = file.resolve()
    if not resolved.is_relative_to(root):
        raise BundleError(where, f"media {value!r} is outside the bundle")
    return resolved
