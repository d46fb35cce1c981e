"""The service as its own OS account, and a student's account beside it (Linux, as root).

Creates a system account for the service and an account for a student, starts
``companion service`` as the first with the unit's own ``ExecStart`` (the systemd folders
given as ``STATE_DIRECTORY`` / ``RUNTIME_DIRECTORY``, as systemd does), and checks what
the student's account can and cannot do. Delivery goes to a sandbox on loopback started
here (``COMPANION_SANDBOX_URL``), whose stored events are read back over its HTTP API.
Skipped when not root.
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
from typing import Any

import httpx
import pytest

from companion import cli
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.service.client import ServiceClient, unix_socket
from companion.timeback import auth_for, sandbox_environment
from tests.xdisplay import wait_for

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "packaging" / "linux" / "timeback-companion.service"
PROBE = Path(__file__).with_name("student_probe.py")
LESSON_SCRIPT = Path(__file__).with_name("student_lesson.py")
DELIVERY_WAIT_S = 60.0

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


def unit_command(env: str = "sandbox", demo_school: bool = True) -> list[str]:
    """The unit's ExecStart, with this checkout's program and the environment ``env``."""
    text = UNIT.read_text(encoding="utf-8")
    found = re.search(r"^ExecStart=(.+)$", text, re.MULTILINE)
    assert found is not None
    words = found.group(1).replace("${TIMEBACK_ENV}", env).split()
    assert words[0] == "/usr/bin/companion"
    demo = ["--demo-school"] if demo_school else []
    return [public_python(), "-m", "companion.cli", *words[1:], *demo]


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
    def __init__(self, accounts: Accounts, command: list[str] | None = None, **env: str) -> None:
        self.proc = subprocess.Popen(
            as_account(
                accounts.service,
                command or unit_command(),
                STATE_DIRECTORY=str(accounts.state),
                RUNTIME_DIRECTORY=str(accounts.socket.parent),
                **env,
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


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread(port=0, seed="demo") as handle:
        yield handle


def to_sandbox(sandbox: SandboxHandle) -> dict[str, str]:
    """The service's environment for delivering to ``sandbox``."""
    return {"COMPANION_SANDBOX_URL": sandbox.base_url}


def service_db(accounts: Accounts) -> sqlite3.Connection:
    """The service's database, read-only (root may read it; the student may not)."""
    path = accounts.state / "companion-sandbox.sqlite3"
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def outbox_of(accounts: Accounts, run: str) -> dict[str, str]:
    """The run's Caliper events in the outbox: event id -> state. (Its gradebook result
    waits, held, for the lesson's line item, which `companion content push` makes.)"""
    conn = service_db(accounts)
    try:
        rows = conn.execute(
            "SELECT event_id, state FROM outbox WHERE run_id = ? AND kind = 'caliper'", (run,)
        )
        return dict(rows.fetchall())
    finally:
        conn.close()


def stored_copies(sandbox: SandboxHandle, email: str) -> dict[str, int]:
    """How many copies of each event the sandbox stored for ``email`` (its HTTP API)."""
    answer = httpx.get(
        f"{sandbox.base_url}/caliper/events",
        params={"actorEmail": email, "limit": 3000},
        auth=auth_for(sandbox_environment(sandbox.base_url)),
        timeout=10,
    )
    answer.raise_for_status()
    copies: dict[str, int] = {}
    for event in answer.json()["events"]:
        copies[event["id"]] = copies.get(event["id"], 0) + 1
    return copies


def wait_delivered(accounts: Accounts, sandbox: SandboxHandle, run: str, email: str) -> set[str]:
    """Wait until every outbox row of ``run`` is delivered and the sandbox holds each of its
    events; the run's Caliper event ids."""

    def done() -> bool:
        rows = outbox_of(accounts, run)
        return bool(rows) and set(rows.values()) == {"delivered"}

    wait_for(done, f"the events of run {run} delivered", DELIVERY_WAIT_S)
    return set(outbox_of(accounts, run))


def run_as_student(accounts: Accounts, script: Path, *args: str) -> dict[str, Any]:
    """Run ``script`` as the student's account; the JSON object it prints last."""
    done = subprocess.run(
        as_account(accounts.student, [public_python(), str(script), *args]),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


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
    seen = run_as_student(accounts, PROBE, str(accounts.socket), str(accounts.state))
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


def test_a_lesson_studied_as_the_student_is_delivered_after_the_client_has_gone(
    accounts: Accounts, sandbox: SandboxHandle
) -> None:
    service = Running(accounts, **to_sandbox(sandbox))
    try:
        lesson = run_as_student(
            accounts, LESSON_SCRIPT, str(accounts.socket), "demo-student-03", "2.5"
        )
        assert lesson["closed"]["completed"] is True and lesson["closed"]["questions"] > 0
        # the student's client has disconnected and exited: delivery is the service's own
        ids = wait_delivered(accounts, sandbox, lesson["run"], "zoe.muller@demo.school")
        copies = stored_copies(sandbox, "zoe.muller@demo.school")
        assert {event_id: copies.get(event_id) for event_id in ids} == dict.fromkeys(ids, 1)
    finally:
        service.stop()


def test_after_sigkill_and_restart_a_closed_run_is_delivered_exactly_once(
    accounts: Accounts, sandbox: SandboxHandle
) -> None:
    service = Running(accounts, **to_sandbox(sandbox))
    client = ServiceClient(unix_socket(accounts.socket))
    try:
        client.sign_in("demo-student-02", "1234")
        run = client.open_run("demo-student-02", "demo-math-drill")
        for n in range(1, 11):
            client.line(run, {"t": n / 1000, "kind": "input"})
        service.kill()  # mid-lesson
        for n in range(11, 21):
            client.line(run, {"t": n / 1000, "kind": "input"})
        service = Running(accounts, **to_sandbox(sandbox))
        assert client.flush() is True and client.acked(run) == 20
        client.close_run(run, completed=False)
        client.close()
        service.kill()  # right after the close: its events may or may not have gone out
        service = Running(accounts, **to_sandbox(sandbox))
        email = "liam.obrien@demo.school"
        ids = wait_delivered(accounts, sandbox, run, email)
        copies = stored_copies(sandbox, email)
        assert {event_id: copies.get(event_id) for event_id in ids} == dict.fromkeys(ids, 1)
    finally:
        client.close()
        service.stop()


def test_setup_as_administrator_stores_the_credentials_for_the_service_only(
    accounts: Accounts, tmp_path: Path
) -> None:
    secret = f"s3cret-{secrets.token_hex(8)}"
    given = tmp_path / "staging.toml"
    given.write_text(f'client_id = "school-client"\nclient_secret = "{secret}"\n')
    given.chmod(0o600)
    assert (
        cli.main(
            [
                "--env",
                "staging",
                "setup",
                "--machine",
                "--state-dir",
                str(accounts.state),
                "--from",
                str(given),
                "--no-check",
            ]
        )
        == 0
    )
    service_uid = pwd.getpwnam(accounts.service).pw_uid
    for name in ("staging.client_id", "staging.client_secret"):
        path = accounts.state / "credentials" / name
        assert path.stat().st_uid == service_uid and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert (accounts.state / "credentials" / "staging.client_secret").read_text() == secret
    staging = Running(accounts, unit_command("staging", demo_school=False))
    try:
        admin = doctor_line(accounts, as_student=False)
        student = doctor_line(accounts, as_student=True)
    finally:
        staging.stop()
    assert "credentials: present in the machine store" in admin and "outbox:" in admin
    assert "staging environment" in admin and "delivery: running" in admin
    assert secret not in admin and secret not in student
    assert "reachable" in student and "outbox:" not in student
    assert "present in the machine store" not in student
    reading = subprocess.run(
        as_account(
            accounts.student, ["cat", str(accounts.state / "credentials" / "staging.client_secret")]
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert reading.returncode != 0 and secret not in reading.stdout


def doctor_line(accounts: Accounts, as_student: bool) -> str:
    """``companion doctor``'s machine service line, run as root or as the student."""
    doctor = ["-m", "companion.cli", "doctor", "--socket", str(accounts.socket)]
    if as_student:
        command = as_account(accounts.student, [public_python(), *doctor])
    else:
        command = [sys.executable, *doctor]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    lines = [line for line in done.stdout.splitlines() if "machine service" in line]
    assert len(lines) == 1, done.stdout + done.stderr
    return lines[0]


def test_doctor_shows_an_administrator_the_outbox_and_a_student_only_the_version(
    accounts: Accounts, running: Running
) -> None:
    admin = doctor_line(accounts, as_student=False)
    student = doctor_line(accounts, as_student=True)
    assert admin.startswith("PASS") and student.startswith("PASS")
    for line in (admin, student):
        assert "timeback-companion" in line and f"reachable at {accounts.socket}" in line
    conn = service_db(accounts)
    try:
        counts = dict(conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"))
    finally:
        conn.close()
    states = ("pending", "in_flight", "settling", "held", "refused", "delivered")
    said = ", ".join(f"{counts.get(s, 0)} {s.replace('_', ' ')}" for s in states)
    assert f"outbox: {said};" in admin  # the service's own counts, by state
    assert "credentials: built in (sandbox)" in admin and "sandbox environment" in admin
    assert "outbox" not in student.replace("its outbox and credentials are shown", "")
    assert "credentials: " not in student and "environment" not in student
    assert "shown to an administrator only" in student
