"""The fast start: the first screen's class list without SQLAlchemy, the config without the
HTTP clients, and the config's record of what this computer serves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from companion import config as config_module
from companion import timeback
from companion.app.startup import quick_classes, read_start_config
from companion.config import ConfigError, load_config, save_computer, save_course_ids
from companion.core.clock import FakeClock
from companion.session.signin import SignInService
from tests.launch.helpers import demo_db

REPO = Path(__file__).resolve().parents[2]


def test_quick_class_list_matches_the_store(tmp_path: Path) -> None:
    with demo_db(tmp_path) as db:
        expected = [(c.id, c.title, c.student_count)
                    for c in SignInService(db, FakeClock()).classes()]
        path = tmp_path / "companion.sqlite3"
        got = [(c.id, c.title, c.student_count) for c in quick_classes(path)]
        assert got == expected and len(got) == 2
        served = quick_classes(path, ["demo-class-2"])
        assert [c.id for c in served] == ["demo-class-2"]


def test_quick_class_list_without_a_usable_cache_is_empty(tmp_path: Path) -> None:
    assert quick_classes(tmp_path / "missing.sqlite3") == []
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    assert quick_classes(junk) == []


def test_the_first_screen_imports_no_store_and_no_http_clients(tmp_path: Path) -> None:
    # Start the shell up to the shown window, with the background tasks held back.
    code = ("import sys\n"
            "from companion.app import prepare_qt\n"
            "prepare_qt(offscreen=True)\n"
            "from PySide6.QtWidgets import QApplication\n"
            "app = QApplication([])\n"
            "from companion.ui import tasks\n"
            "tasks.BackgroundTask.start = lambda self: None\n"
            "from companion.app.shell import Shell\n"
            "shell = Shell(app, None, single_instance=False, tray=False)\n"
            "assert shell.start() is None and shell.window.isVisible()\n"
            "heavy = [m for m in ('sqlalchemy', 'sqlmodel', 'httpx', 'companion.timeback',"
            " 'companion.store.db', 'webbrowser', 'PySide6.QtWebEngineWidgets')"
            " if m in sys.modules]\n"
            "print(','.join(heavy))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, timeout=60, check=True,
                          env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin",
                               "COMPANION_DATA_DIR": str(tmp_path / "data"),
                               "COMPANION_CONFIG_DIR": str(tmp_path / "config")})
    assert done.stdout.strip() == ""


def test_config_names_match_the_timeback_package() -> None:
    assert config_module.ENVIRONMENT_NAMES == timeback.ENVIRONMENT_NAMES
    assert config_module.URL_FIELDS == timeback.URL_FIELDS
    assert config_module.SANDBOX_FIELDS == timeback.SANDBOX_FIELDS


def test_the_computer_setup_is_written_and_read_back() -> None:
    save_course_ids("staging", {"demo-course-1": "tb-course-1"})
    save_computer("staging", "school-1", ["class-a", "class b"])
    config = load_config()
    computer = config.computer("staging")
    assert computer is not None
    assert (computer.school_id, computer.class_ids) == ("school-1", ("class-a", "class b"))
    assert config.course_ids("staging") == {"demo-course-1": "tb-course-1"}  # kept
    assert config.computer("production") is None
    assert read_start_config("staging").class_ids == ("class-a", "class b")
    with pytest.raises(ValueError):
        read_start_config("nowhere")
    assert config.path is not None
    config.path.write_text('[computer.staging]\nschool_id = ""\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="school_id"):
        load_config()


def test_a_held_lease_is_reported_after_the_window_showed(qapp: Any, qtbot: Any) -> None:
    from companion.app.shell import Shell
    from companion.store.db import Database
    from companion.store.lease import Lease
    from companion.store.paths import database_path
    from companion.system.fakes import FakeFocus, FakeInput, FakeLock

    path = database_path("sandbox")
    path.parent.mkdir(parents=True, exist_ok=True)
    with Database.open(path, "sandbox") as db:
        other = Lease(db)
        assert other.try_acquire()
        clock = FakeClock(monotonic_ms=1_000)
        errors: list[str] = []
        shell = Shell(qapp, None, clock=clock, input_source=FakeInput(clock),
                      focus_source=FakeFocus(), lock_source=FakeLock(), single_instance=False,
                      tray=False, start_sync=False, launch_port=None,
                      report_error=errors.append)
        try:
            with qtbot.waitSignal(shell.fatal, timeout=20_000) as failed:
                assert shell.start() is None
                assert shell.window is not None and shell.window.isVisible()
                qtbot.addWidget(shell.window)
            assert "Another Timeback Companion" in failed.args[0]
            assert errors == [failed.args[0]]
            assert shell.runtime is None
        finally:
            shell.close()
            other.release()
