"""The installed package against the development venv: size and start-up.

Builds the .deb (``packaging/linux/build-deb``, or ``--deb FILE``), installs it with
``dpkg -i`` (root only), and measures on a virtual X display (Xvfb) the time from spawning
the program to its sign-in window mapped on screen:

- ``first_start_s``: the installed program's first start after the install (empty data
  and config folders: it makes them and pulls the demo roster);
- ``installed_startup_s`` and ``venv_startup_s``: the median of 5 warm starts (each data
  folder filled by an earlier start) of ``/usr/bin/companion`` and of the venv's
  ``.venv/bin/companion``, taken in turn.

Both are the real program with nothing configured (the embedded sandbox), as
``bench/startup.py`` measures the app offscreen. The package is purged at the end (unless
``--keep``). Run: ``.venv/bin/python bench/package.py`` (as root; ``--runs N``). The last
line is JSON: {"installed_mb", "installed_startup_s", "venv_startup_s", "first_start_s"}.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.xdisplay import start_xvfb  # noqa: E402

PACKAGE = "timeback-companion"
INSTALLED = Path("/usr/bin/companion")
VENV = REPO / ".venv" / "bin" / "companion"
HOME = Path("/opt/timeback-companion")
TITLE = "Timeback Companion"
LIMIT_S = 120.0


def installed() -> bool:
    answer = subprocess.run(["dpkg-query", "-W", "-f=${Status}", PACKAGE],
                            capture_output=True, text=True, check=False)
    return answer.returncode == 0 and "installed" in answer.stdout.split()


def build() -> Path:
    out = REPO / "bench" / "out"
    built = subprocess.run([str(REPO / "packaging/linux/build-deb"), "--out", str(out)],
                           capture_output=True, text=True, check=True, cwd=REPO)
    return Path(built.stdout.strip().splitlines()[-1])


def size_mb(folder: Path) -> float:
    total = sum(p.lstat().st_size for p in folder.rglob("*") if not p.is_dir())
    return round(total / 1_000_000, 1)


def window_shown(display_name: str) -> bool:
    """True once a top-level window titled like the app's main window is mapped."""
    from Xlib import X, display, error

    screen = display.Display(display_name)
    try:
        for window in screen.screen().root.query_tree().children:
            try:
                if window.get_wm_name() == TITLE and \
                        window.get_attributes().map_state == X.IsViewable:
                    return True
            except error.XError:
                continue
        return False
    finally:
        screen.close()


def timed_start(program: Path, env: dict[str, str], display_name: str) -> float:
    """Seconds from spawning ``program`` to its main window on screen; then it is stopped."""
    start = time.perf_counter()
    process = subprocess.Popen([str(program)], env=env, cwd=env["HOME"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pause = threading.Event()
    try:
        while not window_shown(display_name):
            if process.poll() is not None:
                raise RuntimeError(f"{program} ended with status {process.returncode}")
            if time.perf_counter() - start > LIMIT_S:
                raise RuntimeError(f"{program} showed no window in {LIMIT_S:.0f} s")
            pause.wait(0.01)
        return time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(timeout=60)


def environment(root: Path, name: str, display_name: str) -> dict[str, str]:
    home = root / name
    home.mkdir()
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ")}
    return {**keep, "HOME": str(home), "DISPLAY": display_name,
            "COMPANION_DATA_DIR": str(home / "data"), "COMPANION_CONFIG_DIR": str(home / "config"),
            # root here: the web engine runs only with its sandbox turned off on purpose
            "QTWEBENGINE_DISABLE_SANDBOX": "1"}


def measure(runs: int) -> dict[str, float]:
    xserver = start_xvfb("1280x800x24")
    if xserver is None:
        raise SystemExit("bench/package.py needs Xvfb (scripts/setup test installs it)")
    try:
        with tempfile.TemporaryDirectory(prefix="companion-package-bench-") as tmp:
            root = Path(tmp)
            packaged = environment(root, "installed", xserver.display)
            venv = environment(root, "venv", xserver.display)
            first = timed_start(INSTALLED, packaged, xserver.display)
            timed_start(VENV, venv, xserver.display)  # fill the venv's data folder too
            installed_s, venv_s = [], []
            for _ in range(runs):
                installed_s.append(timed_start(INSTALLED, packaged, xserver.display))
                venv_s.append(timed_start(VENV, venv, xserver.display))
    finally:
        xserver.stop()
    return {
        "installed_startup_s": round(statistics.median(installed_s), 3),
        "venv_startup_s": round(statistics.median(venv_s), 3),
        "first_start_s": round(first, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--deb", type=Path, default=None, help="a built package to use")
    parser.add_argument("--keep", action="store_true", help="leave the package installed")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("bench/package.py installs the package: run it as root")
    if installed():
        raise SystemExit(f"{PACKAGE} is installed already; purge it first (dpkg -P {PACKAGE})")
    deb = args.deb or build()
    subprocess.run(["dpkg", "-i", str(deb)], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL)
    try:
        result = {"installed_mb": size_mb(HOME), **measure(args.runs)}
    finally:
        if not args.keep:
            subprocess.run(["dpkg", "-P", PACKAGE], check=True, stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL)
    print(f"installed: {result['installed_mb']} MB; sign-in window: installed "
          f"{result['installed_startup_s']} s, venv {result['venv_startup_s']} s (median of "
          f"{args.runs} warm starts); first start after install {result['first_start_s']} s")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
