"""A virtual X display for tests: Xvfb on a free display number, with openbox managing it.

Xvfb picks its own display number (``-displayfd``) and keeps its state across client
disconnects (``-noreset``). ``start_window_manager`` returns once openbox has set
``_NET_SUPPORTING_WM_CHECK`` on the root window, so ``_NET_ACTIVE_WINDOW`` works.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

WAIT_S = 10.0


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT_S) -> None:
    """Poll a real condition (an X server or process state) until it holds."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        pause.wait(0.02)


@dataclass
class XServer:
    """A running Xvfb."""

    display: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _read_display_number(fd: int, process: subprocess.Popen[bytes]) -> str:
    data = b""
    deadline = time.monotonic() + WAIT_S
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0 or process.poll() is not None:
            raise RuntimeError("Xvfb did not report its display number")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            chunk = os.read(fd, 64)
            if not chunk:
                raise RuntimeError("Xvfb closed -displayfd without a display number")
            data += chunk
    return ":" + data.decode().strip()


def start_xvfb(screen: str = "800x600x24") -> XServer | None:
    """A fresh Xvfb, or None when it is not installed."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        return None
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-noreset", "-nolisten", "tcp",
         "-screen", "0", screen],
        pass_fds=(write_fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        return XServer(_read_display_number(read_fd, process), process)
    except BaseException:
        process.terminate()
        process.wait(timeout=10)
        raise
    finally:
        os.close(read_fd)


def start_window_manager(display: str) -> subprocess.Popen[bytes] | None:
    """openbox on ``display``, once it manages the screen; None when not installed."""
    import Xlib.display
    import Xlib.X

    openbox = shutil.which("openbox")
    if openbox is None:
        return None
    process = subprocess.Popen(
        [openbox, "--sm-disable"], env=dict(os.environ, DISPLAY=display),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    x = Xlib.display.Display(display)
    check = x.intern_atom("_NET_SUPPORTING_WM_CHECK")
    root = x.screen().root
    try:
        wait_for(lambda: root.get_full_property(check, Xlib.X.AnyPropertyType) is not None,
                 "openbox to manage the display")
    except BaseException:
        process.terminate()
        process.wait(timeout=10)
        raise
    finally:
        x.close()
    return process
