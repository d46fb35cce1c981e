"""Without a display the app says so and runs its offscreen self-test instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from companion.app import has_display

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("environ", "platform", "expected"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":3"}, "linux", True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
        ({}, "win32", True),
        ({}, "darwin", True),
    ],
)
def test_has_display(environ: dict[str, str], platform: str, expected: bool) -> None:
    assert has_display(environ, platform) is expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="display rules are Linux's")
def test_no_display_runs_the_self_test(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(COMPANION_DATA_DIR=str(tmp_path / "data"),
               COMPANION_CONFIG_DIR=str(tmp_path / "config"))
    done = subprocess.run([sys.executable, "-m", "companion.cli"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=100)
    assert "No display was found" in done.stderr
    assert "self-test passed" in done.stdout
    assert done.returncode == 0
