"""Test-wide set-up: offscreen Qt before any QApplication exists, and the shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("COMPANION_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The project's shared folder (spec, reference files, conformance data)."""
    if not (SHARED / "spec").is_dir():
        pytest.fail(f"shared folder not found at {SHARED}; set COMPANION_SHARED")
    return SHARED


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the real per-user data and config folders."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("COMPANION_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("COMPANION_CONFIG_DIR", str(home / "config"))
