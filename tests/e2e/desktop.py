"""The real ``companion`` program on a real (virtual) desktop, driven and read from outside.

A ``Desktop`` is Xvfb with openbox and a private D-Bus session (for the accessibility bus,
and the screen-lock stand-in when a test asks for one). ``RunningApp`` starts the installed
``companion`` console script as its own process on that display, sends it real X input with
xdotool (XTEST key presses, clicks and window-manager key bindings), and checks it only
from outside: what its windows say (AT-SPI, see ``atspi.py``), window titles, its database
file (read-only) and what its embedded sandbox stored (over HTTP). A crash of the app is a
test failure that carries its stderr, where ``faulthandler`` prints every Python stack.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests import xdisplay
from tests.e2e.atspi import AtSpi, AtSpiError, Node

WAIT_S = 30.0
SCREEN = "1366x768x24"
DEMO_CLIENT = ("sandbox-client", "sandbox-secret")


def missing_tools() -> list[str]:
    """The programs these tests need that this machine lacks."""
    tools = ("Xvfb", "openbox", "xdotool", "dbus-daemon")
    return [tool for tool in tools if shutil.which(tool) is None]


@dataclass
class Desktop:
    """A display with a window manager and a session bus, shared by a module's tests."""

    display: str
    bus_address: str
    runtime_dir: Path

    def xdotool(self, *args: str) -> str:
        """Run xdotool on this display; its output."""
        done = subprocess.run(["xdotool", *args], env=dict(os.environ, DISPLAY=self.display),
                              capture_output=True, text=True, timeout=20, check=False)
        if done.returncode != 0 and "search" not in args[:1]:
            raise AssertionError(f"xdotool {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout


@contextmanager
def desktop(tmp: Path) -> Iterator[Desktop]:
    """Start Xvfb, openbox and a private D-Bus session; stop them all afterwards."""
    server = xdisplay.start_xvfb(SCREEN)
    assert server is not None
    wm = None
    bus = None
    children: list[subprocess.Popen[bytes]] = []
    try:
        wm = xdisplay.start_window_manager(server.display)
        runtime = tmp / "runtime"
        runtime.mkdir(mode=0o700)
        env = dict(os.environ, DISPLAY=server.display, XDG_RUNTIME_DIR=str(runtime))
        bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True,
            start_new_session=True,
        )
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        if not address:
            raise RuntimeError("dbus-daemon did not print its address")
        # the accessibility bus, started here (not by D-Bus activation, whose processes
        # would outlive the test) in a process group of its own
        launcher = shutil.which("at-spi-bus-launcher") or "/usr/libexec/at-spi-bus-launcher"
        if Path(launcher).exists():
            spi = subprocess.Popen([launcher, "--launch-immediately"],
                                   env=dict(env, DBUS_SESSION_BUS_ADDRESS=address),
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
            children.append(spi)
            _wait_for_registry(address)
        yield Desktop(server.display, address, runtime)
    finally:
        for child in children:  # each with what it started (the bus, the registry)
            with _suppress_lookup():
                os.killpg(child.pid, signal.SIGTERM)
            child.wait(timeout=10)
        if bus is not None:
            with _suppress_lookup():
                os.killpg(bus.pid, signal.SIGTERM)  # the bus and what it started (AT-SPI)
            bus.wait(timeout=10)
            if bus.stdout is not None:
                bus.stdout.close()
        if wm is not None:
            wm.terminate()
            wm.wait(timeout=10)
        server.stop()


def _wait_for_registry(bus_address: str) -> None:
    """Start the accessibility registry now and wait until it answers: until then Qt's
    key events, which it shows the registry first, can be lost."""
    deadline = time.monotonic() + WAIT_S
    pause = threading.Event()
    while True:
        try:
            spi = AtSpi(bus_address)
            try:
                spi.registry_ready()
                return
            finally:
                spi.close()
        except (AtSpiError, OSError, ConnectionError) as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"the accessibility registry did not start: {exc}") from exc
            pause.wait(0.1)


@contextmanager
def _suppress_lookup() -> Iterator[None]:
    with suppress(ProcessLookupError):
        yield


def companion_program() -> str:
    """The ``companion`` console script installed beside this Python."""
    program = Path(sys.executable).with_name("companion")
    assert program.exists(), f"{program} is missing: install the package (scripts/setup)"
    return str(program)


class RunningApp:
    """One ``companion`` process on ``desktop`` with its own data and config folders."""

    def __init__(self, desktop: Desktop, home: Path, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> None:
        self.desktop = desktop
        self.home = home
        self.data_dir = home / "data"
        self.config_dir = home / "config"
        self.stderr_path = home / "stderr.txt"
        self.stdout_path = home / "stdout.txt"
        base = {k: v for k, v in os.environ.items()
                if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "COMPANION_DATA_DIR",
                             "COMPANION_CONFIG_DIR")}
        base.update(
            DISPLAY=desktop.display,
            DBUS_SESSION_BUS_ADDRESS=desktop.bus_address,
            XDG_RUNTIME_DIR=str(desktop.runtime_dir),
            QT_LINUX_ACCESSIBILITY_ALWAYS_ON="1",
            QTWEBENGINE_DISABLE_SANDBOX="1",
            COMPANION_DATA_DIR=str(self.data_dir),
            COMPANION_CONFIG_DIR=str(self.config_dir),
            XDG_SESSION_TYPE="x11",
            # the lesson page's own tree too (a screen reader turns this on by itself)
            QTWEBENGINE_CHROMIUM_FLAGS="--force-renderer-accessibility",
        )
        base.update(env or {})
        self.env = base
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None
        self._atspi: AtSpi | None = None
        self._bus: str | None = None

    # -- the process -----------------------------------------------------------------

    def start(self) -> RunningApp:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.process = subprocess.Popen(
                [companion_program(), *self.args], env=self.env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def check_alive(self) -> None:
        """Fail with the app's stderr (its Python stacks after a crash) if it has died."""
        assert self.process is not None
        code = self.process.poll()
        if code is not None:
            raise AssertionError(
                f"the app exited with status {code}"
                + (f" (killed by {signal.Signals(-code).name})" if code < 0 else "")
                + f"; its stderr:\n{self.stderr()[-6000:]}")

    def wait_exit(self, timeout: float = WAIT_S) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=WAIT_S)

    def stop(self) -> int | None:
        """End the app (it may have ended already); its exit status."""
        if self._atspi is not None:
            self._atspi.close()
            self._atspi = None
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        with _suppress_lookup():
            os.killpg(self.process.pid, signal.SIGKILL)  # WebEngine helpers left behind
        return self.process.returncode

    # -- reading the screen ----------------------------------------------------------

    def screen(self) -> Node:
        """What the app's windows show now (AT-SPI)."""
        self.check_alive()
        if self._atspi is None:
            self._atspi = AtSpi(self.desktop.bus_address)
        if self._bus is None:
            self._bus = self._atspi.application_bus(self.pid)
            if self._bus is None:
                raise AtSpiError("the app is not on the accessibility bus yet")
        return self._atspi.tree(self._bus)

    def wait_for(self, condition: Callable[[Node], Any], what: str,
                 timeout: float = WAIT_S) -> Any:
        """Poll the screen until ``condition(screen)`` is truthy; its value.

        On timeout the failure shows what the screen said and the app's stderr.
        """
        deadline = time.monotonic() + timeout
        pause = threading.Event()
        last: Node | None = None
        error: Exception | None = None
        while True:
            try:
                last = self.screen()
                got = condition(last)
                if got:
                    return got
            except AtSpiError as exc:
                error = exc
            if time.monotonic() > deadline:
                said = last.words() if last is not None else f"(nothing: {error})"
                if self._atspi is not None and self._atspi.errors:
                    said += "\nnot read: " + "; ".join(self._atspi.errors[:5])
                shot = self.screenshot(self.home / "timed-out.png")
                raise AssertionError(
                    f"timed out waiting for {what}; the screen said:\n{said}\n"
                    f"(a screenshot is in {shot})\nstderr:\n{self.stderr()[-3000:]}")
            pause.wait(0.1)

    def wait_until(self, condition: Callable[[], Any], what: str,
                   timeout: float = WAIT_S) -> None:
        """Poll a condition outside the screen (the database, the sandbox); a crash of the
        app fails at once, with its stderr."""

        def holds() -> bool:
            self.check_alive()
            return bool(condition())

        xdisplay.wait_for(holds, what, timeout)

    def wait_text(self, text: str, timeout: float = WAIT_S) -> Node:
        """Wait until a showing node's name or text contains ``text``; that node."""
        return self.wait_for(lambda s: find(s, text), f"{text!r} on the screen", timeout)

    # -- real input ------------------------------------------------------------------

    def window_id(self, title: str = "Timeback Companion") -> str:
        """The X window of this process with ``title`` (waits for it)."""
        found: list[str] = []

        def seen() -> bool:
            self.check_alive()
            out = self.desktop.xdotool("search", "--onlyvisible", "--pid", str(self.pid),
                                       "--name", f"^{title}")
            found[:] = out.split()
            return bool(found)

        xdisplay.wait_for(seen, f"a window titled {title!r}", WAIT_S)
        return found[-1]

    def activate(self, title: str = "Timeback Companion") -> None:
        self.desktop.xdotool("windowactivate", "--sync", self.window_id(title))

    def key(self, *keys: str) -> None:
        """Press and release keys (xdotool names: Return, Tab, alt+F4, ...)."""
        self.check_alive()
        self.desktop.xdotool("key", "--delay", "40", *keys)

    def type(self, text: str) -> None:
        self.check_alive()
        self.desktop.xdotool("type", "--delay", "40", text)

    def click(self, node: Node) -> None:
        """A real left click in the middle of ``node``."""
        x, y = node.center
        assert node.extents[2] > 0 and node.extents[3] > 0, f"{node.name!r} has no size"
        self.desktop.xdotool("mousemove", "--sync", str(x), str(y), "click", "1")

    def click_text(self, text: str, role: str | None = None) -> None:
        node = self.wait_for(lambda s: find(s, text, role), f"{text!r} to click")
        self.click(node)

    def screenshot(self, path: Path) -> Path:
        """The whole display as a PNG (for a person to look at; never a check)."""
        subprocess.run(["import", "-display", self.desktop.display, "-window", "root",
                        str(path)], check=False, capture_output=True, timeout=30)
        return path

    # -- stored data -----------------------------------------------------------------

    @property
    def db_path(self) -> Path:
        return self.data_dir / "companion-sandbox.sqlite3"

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows from the app's database, read-only (the app keeps writing meanwhile)."""
        uri = f"file:{self.db_path}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as con:
            return con.execute(sql, params).fetchall()

    def sandbox_url(self) -> str:
        rows = self.query("SELECT value FROM store_meta WHERE key = 'app.embedded_sandbox_url'")
        assert rows, "the app has not said where its sandbox listens"
        return str(rows[0][0])

    def sandbox_events(self, email: str) -> list[dict[str, Any]]:
        """The Caliper events the embedded sandbox stored for the actor with ``email``."""
        base = self.sandbox_url().rstrip("/")
        with httpx.Client(timeout=10) as client:
            token = client.post(f"{base}/oauth2/token", data={"grant_type": "client_credentials"},
                                auth=DEMO_CLIENT).json()["access_token"]
            got = client.get(f"{base}/caliper/events", params={"actorEmail": email,
                                                                "limit": "1000"},
                             headers={"Authorization": f"Bearer {token}"})
            got.raise_for_status()
            return list(got.json()["events"])


def find(screen: Node, text: str, role: str | None = None) -> Node | None:
    """The first showing node whose name or text contains ``text`` (and has ``role``)."""
    for node in screen.walk():
        if role is not None and node.role != role:
            continue
        if text in node.name or text in node.text:
            return node
    return None


def find_all(screen: Node, role: str) -> list[Node]:
    return [node for node in screen.walk() if node.role == role]
