"""The app's version and build, for ``companion --version`` and the About box.

The version is the installed distribution's (``pyproject.toml``). The build is the git
commit a frozen build was made from: the build script writes ``companion/_build.json``
inside the frozen program (never into the checkout), so the frozen program knows
both without package metadata. A checkout or a venv says build ``dev``.
"""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "timeback-companion"
DEV_BUILD = "dev"
UNKNOWN_VERSION = "0+unknown"
BUILD_FILE = Path(__file__).parent.parent / "_build.json"  # companion/_build.json


def _baked(where: Path = BUILD_FILE) -> dict[str, str]:
    """What the build script baked in (empty outside a frozen build)."""
    try:
        data = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {key: str(value) for key, value in data.items() if key in ("version", "build")}


def version(where: Path = BUILD_FILE) -> str:
    """The app's version, e.g. ``0.1.0``."""
    baked = _baked(where).get("version")
    if baked:
        return baked
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN_VERSION


def build(where: Path = BUILD_FILE) -> str:
    """The git short hash of a frozen build, else ``dev``."""
    return _baked(where).get("build") or DEV_BUILD


def version_line(where: Path = BUILD_FILE) -> str:
    """What ``companion --version`` prints: ``companion 0.1.0 (build 1a2b3c4)``."""
    return f"companion {version(where)} (build {build(where)})"
