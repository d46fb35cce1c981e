"""The service as its own OS account, and a student's account beside it (Linux, as root).

Creates a system account for the service and an account for a student, starts
``companion service`` as the first with the unit's own ``ExecStart`` (the systemd folders
given as ``STATE_DIRECTORY`` / ``RUNTIME_DIRECTORY``, as systemd does), and checks what
the student's account can and cannot do. Skipped when not root.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import secrets
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from companion.service.client import ServiceClient, unix_socket

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "packaging" / "linux" / "timeback-companion.service"
PROBE = Path(__file__).with_name("student_probe.py")

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="Unix accounts and SO_PEERCRED: Linux"),
    pytest.mark.skipif(os.geteuid() != 0, reason="creating OS accounts needs root"),
    pytest.mark.skipif(
        shutil.which("useradd") is None or shutil.which("setpriv") is None,
        reason="needs useradd and setpriv",
    ),
]


@dataclass
class Accounts:
    service: str
    student: str
    base: Path

    @property
    def state(self) -> Path:
        return self.base / "state"

    @property
    def socket(self) -> Path:
        return self.base / "run" / "service.sock"


@pytest.fixture(scope="module")
def accounts() -> Iterator[Accounts]:
    suffix = secrets.token_hex(3)
    service, student = f"tbc-svc-{suffix}", f"tbc-stu-{suffix}"
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", service],
        check=True,
    )
    subprocess.run(["useradd", "--no-create-home", student], check=True)
    base = Path(tempfile.mkdtemp(prefix="tbc-service-", dir="/tmp"))
    os.chmod(base, 0o755)
    info = pwd.getpwnam(service)
    for name, mode in (("state", 0o700), ("run", 0o755)):  # as StateDirectory/RuntimeDirectory
        folder = base / name
        folder.mkdir()
        os.chown(folder, info.pw_uid, info.pw_gid)
        os.chmod(folder, mode)
    try:
        yield Accounts(service, student, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        subprocess.run(["userdel", student], check=False)
        subprocess.run(["userdel", service], check=False)


def everyone_can_run(program: Path) -> bool:
    """Whether every account may run ``program`` (each folder on its way searchable)."""
    real = program.resolve()
    if not real.is_file() or not real.stat().st_mode & stat.S_IXOTH:
        return False
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in real.parents)


def public_python() -> str:
    """An interpreter of this Python version that other accounts may run: this one, or the
    system's (this checkout's packages come with PYTHONPATH)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/bin/python{version}"):
        if everyone_can_run(Path(candidate)):
            return candidate
    pytest.skip(
        f"no Python {version} that other accounts may run (this one is in a private folder)"
    )


PYTHON_PATH = os.pathsep.join(
    [str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
)


def unit_command() -> list[str]:
    """The unit's ExecStart, with this checkout's program and the sandbox environment."""
    text = UNIT.read_text(encoding="utf-8")
    found = re.search(r"^ExecStart=(.+)$", text, re.MULTILINE)
    assert found is not None
    words = found.group(1).replace("${TIMEBACK_ENV}", "sandbox").split()
    assert words[0] == "/usr/bin/companion"
    return [public_python(), "-m", "companion.cli", *words[1:], "--demo-school"]


def as_account(user: str, command: list[str], **env: str) -> list[str]:
    """``command`` as ``user`` with a clean environment; setpriv and env exec, so the
    process started is the command itself (a signal to it reaches the service)."""
    clean = {"PATH": "/usr/bin:/bin", "PYTHONPATH": PYTHON_PATH, **env}
    return [
        "setpriv",
        f"--reuid={user}",
        f"--regid={user}",
        "--init-groups",
        "--",
        "env",
        "-i",
        *(f"{k}={v}" for k, v in clean.items()),
        *command,
    ]


class Running:
    def __init__(self, accounts: Accounts) -> None:
        self.proc = subprocess.Popen(
            as_account(
                accounts.service,
                unit_command(),
                STATE_DIRECTORY=str(accounts.state),
                RUNTIME_DIRECTORY=str(accounts.socket.parent),
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()  # blocks until the socket is there
        if not first.startswith("listening on"):
            self.proc.kill()
            _, err = self.proc.communicate()
            pytest.fail(f"the service did not start: {first!r} {err[-2000:]}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.communicate()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.communicate(timeout=30)


@pytest.fixture
def running(accounts: Accounts) -> Iterator[Running]:
    service = Running(accounts)
    yield service
    service.stop()


def test_the_service_runs_as_its_account_with_private_data(
    accounts: Accounts, running: Running
) -> None:
    service_uid = pwd.getpwnam(accounts.service).pw_uid
    db = accounts.state / "companion-sandbox.sqlite3"
    assert db.stat().st_uid == service_uid
    key = accounts.state / "credentials" / "service-token-key"
    assert key.stat().st_uid == service_uid and key.stat().st_mode & 0o077 == 0
    sock = accounts.socket
    assert sock.stat().st_mode & 0o777 == 0o666 and sock.stat().st_uid == service_uid
    assert sock.parent.stat().st_mode & 0o777 == 0o755


def test_the_student_account_reaches_the_socket_and_nothing_else(
    accounts: Accounts, running: Running
) -> None:
    done = subprocess.run(
        as_account(
            accounts.student,
            [public_python(), str(PROBE), str(accounts.socket), str(accounts.state)],
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["uid"] == pwd.getpwnam(accounts.student).pw_uid  # SO_PEERCRED
    assert seen["list_state"] == "denied"
    assert seen["read_db"] == "denied"
    assert seen["read_token_key"] == "denied"
    assert seen["ahead"] == "time_ahead"
    assert seen["in_time"] == 1
    assert seen["other_student_lines"] == "not_signed_in"
    assert seen["other_student_run"] == "not_signed_in"
    assert seen["second_run"] == "run_open"
    assert seen["guesses"] == ["wrong_pin"] * 4 + ["locked_out"] * 2
    assert seen["right_pin_after"] == "locked_out"


def test_sigkill_mid_lesson_loses_no_acknowledged_line(
    accounts: Accounts, running: Running
) -> None:
    client = ServiceClient(unix_socket(accounts.socket))
    client.sign_in("demo-student-01", "1234")
    run = client.open_run("demo-student-01", "demo-math-drill")
    for n in range(1, 21):
        client.line(run, {"t": n / 1000, "kind": "input"})
    assert client.acked(run) == 20
    running.kill()  # mid-lesson: no chance to tidy up
    for n in range(21, 31):
        client.line(run, {"t": n / 1000, "kind": "input"})
    assert client.pending(run) == 10 and not client.connected
    restarted = Running(accounts)
    try:
        assert client.flush() is True
        assert client.acked(run) == 30
        client.close()
        with sqlite3.connect(
            f"file:{accounts.state / 'companion-sandbox.sqlite3'}?mode=ro", uri=True
        ) as conn:
            rows = conn.execute(
                "SELECT seq, t_ms FROM journal_lines WHERE run_id = ? ORDER BY seq", (run,)
            ).fetchall()
            state = conn.execute("SELECT state FROM runs WHERE run_id = ?", (run,)).fetchone()
        conn.close()
        assert rows == [(n, n) for n in range(31)]  # the start line and 30, each once
        assert state == ("open",)  # the lesson goes on after the restart
    finally:
        restarted.stop()
