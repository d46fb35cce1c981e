"""What the windows need from the rest of the app, handed over by the composition root.

The lesson parts (``content``, ``library_view``, ``controller``) arrive after the window is
shown (``MainWindow.on_ready``), because loading them is deferred start-up work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from companion.core.clock import Clock
from companion.core.elsewhere import Fetch
from companion.core.periods import Period
from companion.core.report import Report

IDLE_SIGN_OUT_MS = 10 * 60 * 1000


@dataclass
class Services:
    """Everything the windows use; filled in by ``companion.app``."""

    env_name: str
    demo: bool
    clock: Clock
    signin: Any  # companion.session.signin.SignInService
    input_source: Any  # companion.system.sensing.InputSource (last input time)
    demo_pins: tuple[str, str] = ("1234", "9999")
    content: Any = None  # companion.content.Library
    library_view: Any = None  # companion.session.library.LibraryView
    controller: Any = None  # companion.session.controller.SessionController
    bridge_script: str = ""
    sync_now: Callable[[], None] | None = None
    report: Callable[[Period, str | None], Report] | None = None  # built off the UI thread
    report_tz: tzinfo | None = None  # the report's days; None: this computer's zone
    # report_others(student_ids): read their results from other computers (off the UI thread)
    report_others: Callable[[Sequence[str]], Fetch] | None = None
    student_data: Any = None  # companion.session.student_care.StudentCare
    on_run_closed: Callable[[], None] | None = None
    # add_lessons(path, progress(done, total)): import into this computer's library
    add_lessons: Callable[[Any, Callable[[int, int], None]], Any] | None = None
    on_lessons_added: Callable[[], None] | None = None  # on the UI thread, after add_lessons
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def lessons_ready(self) -> bool:
        """True once the lesson library and the session controller are loaded."""
        return self.content is not None and self.controller is not None
