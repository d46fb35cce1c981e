"""Where the app's own content lives: the demo lessons and the page-side bridge script."""

from __future__ import annotations

from pathlib import Path

# The repository's resources/ folder, next to the companion package (editable installs and
# source checkouts). A packaged build must ship resources/ at the same relative place.
_RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def resources_path() -> Path:
    """The app's resources folder."""
    return _RESOURCES


def demo_lessons_path() -> Path:
    """The folder holding the demo course folders (``resources/lessons``)."""
    return _RESOURCES / "lessons"


def bridge_script_path() -> Path:
    """The page-side bridge injected into every lesson page (``companion-bridge.js``)."""
    return _RESOURCES / "web" / "companion-bridge.js"


def player_files_path() -> Path:
    """The app's own page files served to lessons at ``/__companion__/`` (the SCORM player
    and its pinned scorm-again build): ``resources/web``."""
    return _RESOURCES / "web"


def relay_script_path() -> Path:
    """The app-side relay of the bridge, run in the page's isolated world
    (``companion-relay.js``)."""
    return _RESOURCES / "web" / "companion-relay.js"
