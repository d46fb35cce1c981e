"""End to end in headless Chromium: the sandbox platform launches, the browser posts to the
loopback listener, the recording handler gets the student and the lesson. The platform page
is opened as ``localhost`` and the listener is ``127.0.0.1``: two sites, as in real life, so
the state cookie must survive a cross-site form post."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.store.db import Database
from tests.launch.helpers import demo_db, running_tool

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="chromium is not installed (apt-get install chromium)")


def dump_dom(url: str, profile: Path) -> str:
    """The final page's DOM after Chromium followed redirects and auto-posting forms."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def platform() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    with demo_db(tmp_path) as database:
        yield database


def _cross_site(base_url: str) -> str:
    return base_url.replace("127.0.0.1", "localhost")


def test_chromium_launch_from_the_platform_reaches_the_app(
    platform: SandboxHandle, db: Database, tmp_path: Path
) -> None:
    with running_tool(db, platform.base_url) as tool:
        query = urlencode({"tool_login": tool.listener.urls.login_url,
                           "auto": "demo-reading-passage"})
        page = f"{_cross_site(platform.base_url)}/lti/students/demo-student-05?{query}"
        dom = dump_dom(page, tmp_path / "profile")
        launches = tool.handler.wait_launches(1, timeout=10)
    assert "opened in the Timeback Companion" in dom, dom
    assert [(r.user_id, r.lesson_id) for r in launches] == [
        ("demo-student-05", "demo-reading-passage")]


def test_chromium_sign_in_with_timeback_reaches_the_app(
    platform: SandboxHandle, db: Database, tmp_path: Path
) -> None:
    with running_tool(db, platform.base_url) as tool:
        url = tool.signin.begin(login_hint="demo-student-10")
        dom = dump_dom(url, tmp_path / "profile")
        sign_ins = tool.handler.wait_sign_ins(1, timeout=10)
    assert "You are signed in" in dom, dom
    assert [(r.user_id, r.email) for r in sign_ins] == [
        ("demo-student-10", "hana.sato@demo.school")]
