"""The whole app as an installer would run it: ``--self-test`` offscreen, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_self_test_passes_in_a_fresh_process() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c",
         "import sys; from companion.app import run_app; sys.exit(run_app(None, self_test=True))"],
        capture_output=True, text=True, timeout=110, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("ok: ")]
    assert len(lines) == 6, proc.stdout
    assert proc.stdout.strip().endswith("self-test passed")
