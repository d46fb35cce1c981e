"""UI test set-up: Qt WebEngine prepared before the QApplication, and a running app shell
on the embedded sandbox with a fake clock, fake input and fake focus.

Noise: offscreen there is no GPU. ``prepare_qt`` passes ``--disable-gpu --disable-logging``
to Chromium and selects Qt Quick's null RHI backend, which silences the Vulkan/OpenGL
warnings; the remaining messages Chromium writes to stderr itself (dbus) never reach Qt's
message handler, so they cannot fail a test.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from companion.app import prepare_qt

prepare_qt(offscreen=True)

from companion.core.clock import FakeClock  # noqa: E402
from companion.system.fakes import FakeFocus, FakeInput, FakeLock  # noqa: E402


@dataclass
class Harness:
    """A started shell and the fakes that drive it."""

    shell: Any
    window: Any
    clock: FakeClock
    input: FakeInput
    focus: FakeFocus
    lock: FakeLock
    qtbot: Any = None  # to wait on the window's signals


ANSWER_TIMEOUT_MS = 10_000  # the sign-in screen's names and PIN checks come off the UI thread


def choose_class(qtbot: Any, signin: Any, row: int = 0) -> None:
    """Open the class in ``row`` and wait until its names are shown."""
    with qtbot.waitSignal(signin.names_shown, timeout=ANSWER_TIMEOUT_MS):
        signin.on_class_chosen(signin.class_list.item(row))


def show_guides(qtbot: Any, signin: Any) -> None:
    """"Sign in as guide", and wait until the guides are shown."""
    with qtbot.waitSignal(signin.names_shown, timeout=ANSWER_TIMEOUT_MS):
        signin.on_guide_clicked()


def submit_pin(qtbot: Any, signin: Any) -> None:
    """Submit the PIN typed and wait for the check's answer."""
    with qtbot.waitSignal(signin.pin_checked, timeout=ANSWER_TIMEOUT_MS):
        signin.on_pin_submitted()


def set_first_pin(qtbot: Any, signin: Any) -> None:
    """Submit the guide's form for a first PIN and wait for its answer."""
    with qtbot.waitSignal(signin.pin_checked, timeout=ANSWER_TIMEOUT_MS):
        signin.on_set_pin()


@pytest.fixture
def harness(qapp: Any, qtbot: Any) -> Iterator[Harness]:
    """The app on the embedded sandbox, signed out, with lessons loaded."""
    from companion.app.shell import Shell

    clock = FakeClock(monotonic_ms=1_000_000)
    fake_input = FakeInput(clock)
    focus = FakeFocus()
    lock = FakeLock()
    errors: list[str] = []
    shell = Shell(qapp, None, clock=clock, input_source=fake_input, focus_source=focus,
                  lock_source=lock, single_instance=False, tray=False, start_sync=False,
                  launch_port=None, report_error=errors.append)
    with qtbot.waitSignal(shell.ready, timeout=30_000):
        assert shell.start() is None, errors
    window = shell.window
    qtbot.addWidget(window)
    yield Harness(shell, window, clock, fake_input, focus, lock, qtbot)
    shell.close()


@pytest.fixture(autouse=True)
def _collect_garbage_between_tests() -> Iterator[None]:
    """Collect reference cycles only between tests, on the main thread, outside any event
    loop: a collection that happens to run inside a nested Qt loop or on a worker thread
    can free Qt objects there, which crashes PySide."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


# Known-harmless messages of Qt's offscreen platform plugin (it has no window manager).
OFFSCREEN_NOISE = (
    r"^This plugin does not support propagateSizeHints\(\)$",
    r"^This plugin does not support raise\(\)$",
    r"^This plugin does not support createPlatformVulkanInstance$",
    # Chromium with --disable-gpu on Qt Quick's null RHI backend: no GPU to describe.
    r"^Unable to detect GPU vendor for device: Null$",
    r"^GPUInfo not initialized on GpuInfoUpdate$",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Apply the offscreen-noise ignores to this folder's tests."""
    for item in items:
        if "tests/ui/" in item.nodeid or "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.qt_log_ignore(*OFFSCREEN_NOISE))
