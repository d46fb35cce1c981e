"""A session window with a real controller on a real SQLite file, for lesson tests that
need no shell: SCORM packages, web lessons and media lessons on the real WebEngine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from companion.content import bridge_script_path
from companion.content.package import load_package
from companion.core.catalogue import Catalogue
from companion.core.clock import FakeClock
from companion.core.run_outcome import EventContext
from companion.store.db import Database
from companion.system.fakes import FakeFocus, FakeInput, FakeLock

STUDENT = "student-1"


@dataclass
class Player:
    """A session window with a real controller on a real database, for one package."""

    qtbot: Any
    db: Database
    clock: FakeClock
    widget: Any
    web: Any
    bundles: dict[str, Any]

    def open(self, lesson_id: str) -> str:
        bundle = self.bundles[lesson_id]
        view = self.widget.web_view if bundle.web is not None else self.widget.view
        with self.qtbot.waitSignal(view.loadFinished, timeout=30_000) as loaded:
            handle = self.widget.open_lesson(self.web, STUDENT, bundle)
        assert loaded.args == [True]
        run_id: str = handle.run_id
        return run_id

    def frame_data(self, key: str) -> str | None:
        out: list[Any] = []
        code = ("(function(){var f=document.getElementById('sco');"
                "var d=f&&f.contentDocument;return d&&d.body?"
                f"(d.body.dataset[{key!r}]||null):null;}})()")
        self.widget.view.page().runJavaScript(code, 0, out.append)
        self.qtbot.waitUntil(lambda: bool(out), timeout=10_000)
        value: str | None = out[0] or None  # null arrives as ""
        return value

    def wait_frame(self, key: str, value: str) -> None:
        self.qtbot.waitUntil(lambda: self.frame_data(key) == value, timeout=20_000)


@pytest.fixture
def make_player(qapp: Any, qtbot: Any, tmp_path: Path) -> Iterator[Callable[..., Player]]:
    from companion.ui.session_window import SessionWidget, StudentWeb

    made: list[tuple[Database, Any, Any]] = []

    def make(package: Path | list[Any]) -> Player:
        loaded = load_package(package) if isinstance(package, Path) else package
        bundles = {b.lesson.id: b for b in loaded}
        catalogue = Catalogue((next(iter(bundles.values())).course,),
                              tuple(b.lesson for b in bundles.values()))
        db = Database.open(tmp_path / f"db{len(made)}.sqlite3", "sandbox")
        clock = FakeClock(monotonic_ms=1_000_000)
        from companion.session.run import SessionController

        controller = SessionController(db, clock, EventContext("http://oneroster.invalid"),
                                       catalogue, FakeInput(clock), FakeFocus(), FakeLock())
        widget = SessionWidget(controller)
        widget.confirm_quit = lambda: True
        qtbot.addWidget(widget)
        web = StudentWeb(STUDENT, bundles, bridge_script_path().read_text(encoding="utf-8"))
        made.append((db, widget, web))
        return Player(qtbot, db, clock, widget, web, bundles)

    yield make
    for db, widget, web in made:
        if widget.running:
            widget.end_not_completed()
        widget.detach()
        web.dispose()
        db.close()


