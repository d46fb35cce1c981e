"""What the windows need from the rest of the app, handed over by the composition root
(``companion.app``) through the narrow interfaces of ``companion.ui.ports``.

``signin`` arrives once the store is open (``MainWindow``'s sign-in screen gets it then);
the lesson parts (``content``, ``library_view``, ``controller`` and the guide's) arrive
together after the window is shown (``MainWindow.on_ready``), because loading them is
deferred start-up work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from companion.content import Library
from companion.core.clock import Clock
from companion.core.elsewhere import Fetch
from companion.system.sensing import InputSource
from companion.ui.ports import (
    AddLessons,
    BuildReport,
    LessonLibrary,
    LessonRun,
    SignIn,
    StudentCare,
)

IDLE_SIGN_OUT_MS = 10 * 60 * 1000


@dataclass
class Services:
    """Everything the windows use; filled in by ``companion.app``."""

    env_name: str
    demo: bool
    clock: Clock
    input_source: InputSource  # the last input time (idle sign-out)
    signin: SignIn | None = None  # once the store is open
    demo_pins: tuple[str, str] = ("1234", "9999")
    content: Library | None = None
    library_view: LessonLibrary | None = None
    controller: LessonRun | None = None
    bridge_script: str = ""
    sync_now: Callable[[], None] | None = None
    report: BuildReport | None = None  # built off the UI thread
    report_tz: tzinfo | None = None  # the report's days; None: this computer's zone
    # report_others(student_ids): read their results from other computers (off the UI thread)
    report_others: Callable[[Sequence[str]], Fetch] | None = None
    student_data: StudentCare | None = None
    on_run_closed: Callable[[], None] | None = None
    add_lessons: AddLessons | None = None  # import into this computer's library
    on_lessons_added: Callable[[], None] | None = None  # on the UI thread, after add_lessons

    @property
    def lessons_ready(self) -> bool:
        """True once the lesson library and the session controller are loaded."""
        return self.content is not None and self.controller is not None
