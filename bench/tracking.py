"""What tracking costs: process CPU of a session-like loop while 200 input events a second
arrive, with tracking on and off.

Starts its own Xvfb (``-displayfd``) and a separate generator process that sends real input
through XTEST (key presses and pointer moves alternating, 200 events/s), so the generator's
CPU is not counted. Each phase runs the same loop for ``--seconds``: a 1 s timer; with
tracking it reads the sources and runs the sampler tick. Phases:

- baseline: tracking off (the loop alone);
- tracking: the default X11 chain (``pick_input``: the X server's idle time) + sampler;
- pynput: the pynput listeners (which handle every event) + sampler, the fallback.

    .venv/bin/python bench/tracking.py [--seconds 60] [--rate 200]

The last line is JSON: {"tracking_cpu_pct": ..., "baseline_cpu_pct": ..., ...}; CPU % is
of one core (process CPU time / wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from companion.core.clock import SystemClock
from companion.core.sampler import Sampler
from companion.system.fakes import FakeFocus
from companion.system.input_pynput import PynputInput
from companion.system.select import SessionSensing, pick_input

GENERATOR = """
import sys, time
import Xlib.display, Xlib.X, Xlib.XK
from Xlib.ext import xtest
d = Xlib.display.Display(sys.argv[1])
rate, seconds = float(sys.argv[2]), float(sys.argv[3])
key = d.keysym_to_keycode(Xlib.XK.string_to_keysym("a"))
start = time.monotonic()
n = 0
while True:
    due = start + n / rate
    now = time.monotonic()
    if now - start > seconds:
        break
    if due > now:
        time.sleep(due - now)
    if n % 4 == 0:
        xtest.fake_input(d, Xlib.X.KeyPress, key)
    elif n % 4 == 1:
        xtest.fake_input(d, Xlib.X.KeyRelease, key)
    else:
        xtest.fake_input(d, Xlib.X.MotionNotify, x=10 + n % 300, y=10 + n % 200)
    d.flush()
    n += 1
d.sync()
print(n)
"""


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb on a free display; returns the process and ``:N``."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        sys.exit("bench/tracking.py needs Xvfb (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-noreset", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([read_fd], [], [], 10)
        if not ready:
            sys.exit("Xvfb did not start")
        data += os.read(read_fd, 64)
    os.close(read_fd)
    return process, ":" + data.decode().strip()


def phase(
    display: str, seconds: float, rate: float, tick: Callable[[], None] | None
) -> tuple[float, int]:
    """Run the 1 s loop for ``seconds`` while the generator sends input; CPU % and events."""
    generator = subprocess.Popen(
        [sys.executable, "-c", GENERATOR, display, str(rate), str(seconds)],
        stdout=subprocess.PIPE,
    )
    wake = threading.Event()
    cpu0, wall0 = time.process_time(), time.monotonic()
    next_tick = wall0 + 1.0
    while time.monotonic() - wall0 < seconds:
        wake.wait(max(0.0, next_tick - time.monotonic()))
        next_tick += 1.0
        if tick is not None:
            tick()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    out, _ = generator.communicate(timeout=30)
    return 100.0 * cpu / wall, int(out.decode().strip() or 0)


def session_tick(sensing: SessionSensing, clock: SystemClock) -> Callable[[], None]:
    """One sampler tick on the real sources, as the session window's 1 s timer does."""
    sampler = Sampler(clock.monotonic_ms())
    lines: list[object] = []

    def tick() -> None:
        lines.extend(sampler.tick(clock.monotonic_ms(), sensing.observe()))

    return tick


def main() -> None:
    """Run the three phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=200.0, help="input events per second")
    args = parser.parse_args()
    xvfb, display = start_xvfb()
    os.environ["DISPLAY"] = display
    os.environ.pop("WAYLAND_DISPLAY", None)
    os.environ["XDG_SESSION_TYPE"] = "x11"
    clock = SystemClock()
    try:
        baseline, events = phase(display, args.seconds, args.rate, None)
        print(f"baseline (tracking off): {baseline:.3f} % CPU, {events} events")

        chain = pick_input(clock, use_pynput=False)
        sensing = SessionSensing(chain, FakeFocus())
        tracking, events = phase(display, args.seconds, args.rate, session_tick(sensing, clock))
        if chain.last_input_ms() is None:
            sys.exit("the input source saw no input: the figure would mean nothing")
        print(f"tracking ({chain.in_use} + sampler): {tracking:.3f} % CPU, {events} events")

        listener = PynputInput(clock)
        if not listener.start():
            sys.exit(f"pynput failed: {listener.error}")
        sensing = SessionSensing(listener, FakeFocus())
        pynput_pct, events = phase(display, args.seconds, args.rate, session_tick(sensing, clock))
        listener.stop()
        if listener.last_input_ms() is None:
            sys.exit("the pynput listeners saw no input: the figure would mean nothing")
        print(f"tracking (pynput listeners + sampler): {pynput_pct:.3f} % CPU, {events} events")
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    print(
        json.dumps(
            {
                "tracking_cpu_pct": round(tracking, 3),
                "baseline_cpu_pct": round(baseline, 3),
                "pynput_tracking_cpu_pct": round(pynput_pct, 3),
                "source": chain.in_use,
                "events_per_s": args.rate,
                "seconds": args.seconds,
            }
        )
    )


if __name__ == "__main__":
    main()
