"""The composition root: configuration → environment → database → lease → recovery →
(sandbox, Timeback clients, roster, demo PINs) → lessons → sync worker → the sign-in
window.

``runtime`` builds the Qt-free parts (one ``Runtime``: one auth and one client per
Timeback service, the sign-in service, the lessons, the worker); ``shell`` builds the
window on it and hands each window its narrow interfaces (``companion.ui.ports``);
``startup`` is what comes before the window; ``launch``, ``progress`` and ``setup`` wire
launches, the progress merge and set-up; ``sensing`` chooses the sensing; ``qt`` prepares
Qt and runs the app. Only this package imports both the windows and what they are given;
nothing in ``companion.ui`` imports it.

Importing this package stays cheap (no Qt, SQLModel or httpx): those load inside the
functions that need them.
"""

from companion.app.qt import (
    OFFSCREEN_CHROMIUM_FLAGS,
    QUIET_CHROMIUM,
    QUIET_QT_RULES,
    has_display,
    prepare_qt,
    qt_message_to_log,
    run_app,
    say_cannot_start,
)
from companion.app.runtime import (
    DEMO_GUIDE_PIN,
    DEMO_STUDENT_PIN,
    Runtime,
    SetupNeeded,
    StartError,
    add_lessons,
    boot_rest,
    care_for_journals,
    make_worker,
    open_runtime,
    reload_computer,
    reload_lessons,
    report_builder,
    student_care,
)

__all__ = [
    "DEMO_GUIDE_PIN",
    "DEMO_STUDENT_PIN",
    "OFFSCREEN_CHROMIUM_FLAGS",
    "QUIET_CHROMIUM",
    "QUIET_QT_RULES",
    "Runtime",
    "SetupNeeded",
    "StartError",
    "add_lessons",
    "boot_rest",
    "care_for_journals",
    "has_display",
    "make_worker",
    "open_runtime",
    "prepare_qt",
    "qt_message_to_log",
    "reload_computer",
    "reload_lessons",
    "report_builder",
    "run_app",
    "say_cannot_start",
    "student_care",
]
