"""A restart right after the app was killed takes over at once; a running app still refuses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from companion.app import StartError, open_runtime
from companion.core.clock import SystemClock

REPO = Path(__file__).resolve().parents[2]
APP = (
    "import sys\n"
    "from companion.app import open_runtime\n"
    "from companion.core.clock import SystemClock\n"
    "rt = open_runtime('sandbox', SystemClock())\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_a_restart_after_a_kill_starts_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dirs = {"COMPANION_DATA_DIR": str(tmp_path / "data"),
            "COMPANION_CONFIG_DIR": str(tmp_path / "config")}
    for name, value in dirs.items():
        monkeypatch.setenv(name, value)
    child = subprocess.Popen([sys.executable, "-c", APP], cwd=REPO, env=dict(os.environ),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        with pytest.raises(StartError, match="Another Timeback Companion"):
            open_runtime("sandbox", SystemClock())  # the running app is respected
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
    rt = open_runtime("sandbox", SystemClock())  # not 30 s later: at once
    try:
        assert rt.lease.held
        holder = rt.lease.holder()
        assert holder is not None and holder.pid == os.getpid()
    finally:
        rt.close()
