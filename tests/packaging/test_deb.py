"""The Debian package, built, installed on this machine and run as installed.

``packaging/linux/build-deb`` builds it once for this module (fast compression); the test
installs it with ``dpkg -i``, runs the installed ``/usr/bin/companion`` (never the
checkout), installs it again over itself (the upgrade path keeps the data), removes it
(data kept) and purges it (data gone: what is left is only what Debian policy allows, the
system account). It needs root and dpkg (CI has both) and changes this machine while it
runs; select it with ``-m packaging``, leave it out with ``-m "not packaging"``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.sandbox.test_sandbox_server_http import envelope, time_spent_event

pytestmark = [pytest.mark.packaging, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PACKAGE = "timeback-companion"
ACCOUNT = "timeback-companion"
PROGRAM = Path("/usr/bin/companion")
HOME = Path("/opt/timeback-companion")
STATE = Path("/var/lib/timeback-companion")
MACHINE_DIR = Path("/etc/timeback-companion")
DESKTOP = Path("/usr/share/applications/timeback-companion.desktop")
MIME_CACHE = Path("/usr/share/applications/mimeinfo.cache")
# where a Debian package's files and its leftovers can be
SEARCHED = ("/etc", "/opt", "/usr", "/var", "/lib", "/srv")


def _installed() -> bool:
    answer = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", PACKAGE], capture_output=True, text=True, check=False
    )
    return answer.returncode == 0 and "installed" in answer.stdout.split()


def _why_not() -> str | None:
    if not sys.platform.startswith("linux") or shutil.which("dpkg") is None:
        return "needs Debian's dpkg"
    if os.geteuid() != 0:
        return "installs a package on this machine: needs root (CI runs as root)"
    if _installed():
        return f"{PACKAGE} is installed on this machine already; purge it to run this test"
    return None


def _dpkg(*args: str) -> str:
    answer = subprocess.run(
        ["dpkg", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
    )
    assert answer.returncode == 0, f"dpkg {' '.join(args)}:\n{answer.stdout}{answer.stderr}"
    return answer.stdout + answer.stderr


def _ours() -> set[str]:
    """Paths on this machine named after the package (and the program's link)."""
    found = subprocess.run(
        [
            "find",
            *SEARCHED,
            "-xdev",
            "(",
            "-name",
            f"*{PACKAGE}*",
            "-o",
            "-path",
            str(PROGRAM),
            ")",
            "-print",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return set(found.stdout.split())


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package, built once for the module."""
    why = _why_not()
    if why:
        pytest.skip(why)
    out = tmp_path_factory.mktemp("deb")
    built = subprocess.run(
        [str(REPO / "packaging/linux/build-deb"), "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    path = Path(built.stdout.strip().splitlines()[-1])
    assert path.is_file() and path.parent == out
    return path


@pytest.fixture
def run_env(tmp_path: Path) -> dict[str, str]:
    """The installed program's environment: a throw-away home, offscreen, no checkout."""
    home = tmp_path / "home"
    home.mkdir()
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
    return {
        **keep,
        "HOME": str(home),
        "QT_QPA_PLATFORM": "offscreen",
        # root in CI: the web engine runs only with its sandbox turned off on purpose
        "QTWEBENGINE_DISABLE_SANDBOX": "1",
    }


@pytest.fixture
def lifecycle(deb: Path) -> Iterator[Path]:
    """The package file; whatever happens, the machine is left without the package."""
    try:
        yield deb
    finally:
        if (
            _installed()
            or subprocess.run(
                ["dpkg-query", "-W", PACKAGE], capture_output=True, check=False
            ).returncode
            == 0
        ):
            subprocess.run(
                ["dpkg", "-P", PACKAGE], capture_output=True, check=False, stdin=subprocess.DEVNULL
            )


def _run(
    args: list[str], env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PROGRAM), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def _check_sandbox_schemas(env: dict[str, str], cwd: Path) -> None:
    """The installed sandbox validates Caliper with its bundled schemas."""
    server = subprocess.Popen(
        [str(PROGRAM), "sandbox", "--port", "0"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        found = re.search(r"listening on (http://\S+)", first)
        assert found, first
        with httpx.Client(base_url=found.group(1), timeout=30) as client:
            token = client.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=("sandbox-client", "sandbox-secret"),
            ).json()
            client.headers["Authorization"] = f"Bearer {token['access_token']}"
            good = client.post("/caliper/event/validate", json=envelope(time_spent_event()))
            bad = client.post(
                "/caliper/event/validate", json=envelope(time_spent_event(profile="GeneralProfile"))
            )
        assert good.status_code == 200, good.text
        assert bad.status_code == 400
        assert [e["field"] for e in bad.json()["errors"]] == ["profile"]
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stdout is not None:
            server.stdout.close()


@pytest.mark.timeout(900)
def test_install_run_upgrade_remove_purge(
    lifecycle: Path, run_env: dict[str, str], tmp_path: Path
) -> None:
    before = _ours()
    build = (
        subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=False,
        ).stdout.strip()
        or "dev"
    )
    version = re.search(r'^version = "([^"]+)"', (REPO / "pyproject.toml").read_text(), re.M)
    assert version

    # install: the account, its data folder, the program and the URL handler
    _dpkg("-i", str(lifecycle))
    assert _installed()
    owner = subprocess.run(
        ["stat", "-c", "%U %a", str(STATE)], capture_output=True, text=True, check=True
    ).stdout.split()
    assert owner == [ACCOUNT, "750"]
    assert PROGRAM.resolve() == HOME / "companion"
    assert "MimeType=x-scheme-handler/timeback-companion;" in DESKTOP.read_text().splitlines()
    if shutil.which("update-desktop-database"):
        assert "x-scheme-handler/timeback-companion=timeback-companion.desktop;" in (
            MIME_CACHE.read_text()
        )
    assert not Path("/etc/xdg/autostart/timeback-companion.desktop").exists()  # opt-in
    assert (HOME / "_internal/resources/web/scorm/player.js").is_file()  # SCORM player
    assert (HOME / "_internal/resources/web/companion-relay.js").is_file()  # web relay

    # the installed program, run from outside the checkout
    shown = _run(["--version"], run_env, tmp_path)
    assert (shown.returncode, shown.stdout) == (
        0,
        f"companion {version.group(1)} (build {build})\n",
    ), shown.stderr
    tested = _run(["--self-test"], run_env, tmp_path, timeout=300)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "self-test passed" in tested.stdout
    _check_sandbox_schemas(run_env, tmp_path)

    # data an administrator or the service put there
    kept = STATE / "kept-across-upgrades"
    kept.write_text("data\n")
    machine_file = MACHINE_DIR / "config.toml"
    machine_file.write_text('environment = "sandbox"\n')

    # the same version again over itself: the upgrade path keeps the data
    _dpkg("-i", str(lifecycle))
    assert kept.read_text() == "data\n" and machine_file.is_file()
    assert _run(["--version"], run_env, tmp_path).returncode == 0

    # remove: the program goes, the data and the machine configuration stay
    _dpkg("-r", PACKAGE)
    assert not PROGRAM.exists() and not (HOME / "companion").exists()
    assert kept.read_text() == "data\n" and machine_file.is_file()

    # purge: nothing named after the package is left; the account may stay (policy)
    _dpkg("-P", PACKAGE)
    left = _ours() - before
    assert left == set(), f"left after purge: {sorted(left)}"
    assert not STATE.exists() and not MACHINE_DIR.exists()
    if MIME_CACHE.exists():
        assert "timeback-companion" not in MIME_CACHE.read_text()
    listed = subprocess.run(["dpkg-query", "-W", PACKAGE], capture_output=True, check=False)
    assert listed.returncode != 0  # dpkg has forgotten it, configuration files too
    account = subprocess.run(
        ["getent", "passwd", ACCOUNT], capture_output=True, text=True, check=False
    )
    assert account.returncode == 0  # the system account stays, as Debian policy allows
    assert account.stdout.split(":")[6].strip() in ("/usr/sbin/nologin", "/bin/false")
