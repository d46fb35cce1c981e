"""Fixtures for whole-app tests: one desktop per module, one app process per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.desktop import Desktop, RunningApp, desktop, missing_tools

CRASH_MARKERS = ("Fatal Python error", "Segmentation fault", "Traceback (most recent call last)")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desktop]:
    """Xvfb + openbox + a private D-Bus session with the accessibility bus."""
    missing = missing_tools()
    if missing:
        message = f"whole-app tests need {', '.join(missing)} (scripts/setup test)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with desktop(tmp_path_factory.mktemp("desktop")) as d:
        yield d


@pytest.fixture
def launch(desk: Desktop, tmp_path: Path) -> Iterator[Callable[..., RunningApp]]:
    """Start ``companion`` processes; each is stopped afterwards and must not have crashed."""
    started: list[RunningApp] = []

    def start(home: Path | None = None, **env: str) -> RunningApp:
        app = RunningApp(desk, home or tmp_path / f"app{len(started)}", env=env)
        started.append(app)
        return app.start()

    yield start
    problems = []
    for app in started:
        died = app.process is not None and app.process.poll() is not None
        code = app.stop()
        text = app.stderr()
        if died and code is not None and code < 0 and not getattr(app, "killed_on_purpose", False):
            problems.append(f"the app died by signal {-code}:\n{text[-4000:]}")
        for marker in CRASH_MARKERS:
            if marker in text:
                problems.append(f"the app's stderr has {marker!r}:\n{text[-4000:]}")
                break
    if problems:
        pytest.fail("\n\n".join(problems))
