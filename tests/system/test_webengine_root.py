"""As root with WebEngine's sandbox on, the app says it cannot show lessons, never crashes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from companion.commands import doctor
from companion.core.clock import FakeClock
from companion.system.webengine import FLAGS_VAR, ROOT_MESSAGE, SANDBOX_VAR, root_refusal

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("euid", "environ", "refused"),
    [
        (0, {}, True),
        (0, {SANDBOX_VAR: "1"}, False),
        (0, {FLAGS_VAR: "--disable-gpu --no-sandbox"}, False),
        (0, {FLAGS_VAR: "--disable-gpu"}, True),
        (1000, {}, False),
    ],
)
def test_root_without_the_variable_is_refused(
    euid: int, environ: dict[str, str], refused: bool
) -> None:
    assert (root_refusal(euid, environ) == ROOT_MESSAGE) is refused


def test_the_doctor_line(tmp_path: Path) -> None:
    def line(euid: int, environ: dict[str, str]) -> str:
        ctx = doctor.DoctorContext(env_name="sandbox", clock=FakeClock(), euid=euid,
                                   environ=environ)
        report = doctor.format_results(doctor.run_checks(ctx, [doctor.check_lesson_pages]))
        return report.splitlines()[0] + "\n" + report.splitlines()[1]

    refused = line(0, {})
    assert refused.startswith("FAIL  lesson pages (web engine)  running as root")
    assert f"set {SANDBOX_VAR}=1" in refused
    assert line(0, {SANDBOX_VAR: "1"}).startswith(
        f"PASS  lesson pages (web engine)  running as root with {SANDBOX_VAR} set")
    assert line(1000, {}).startswith("PASS  lesson pages (web engine)  can start")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
@pytest.mark.parametrize("args", [[], ["--self-test"]])
def test_as_root_the_app_says_why_and_exits_1(tmp_path: Path, args: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in (SANDBOX_VAR, FLAGS_VAR)}
    env.update(QT_QPA_PLATFORM="offscreen", COMPANION_DATA_DIR=str(tmp_path / "data"),
               COMPANION_CONFIG_DIR=str(tmp_path / "config"))
    done = subprocess.run([sys.executable, "-m", "companion.cli", *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == f"error: {ROOT_MESSAGE}"
    assert SANDBOX_VAR not in done.stdout
