"""``companion preview``: a lesson bundle in the session window with no student, recording
nothing, and a report of what the page did.

``PreviewRun`` stands in for the session controller (the same calls, nothing written): the
session window drives it exactly as it drives a real run. ``PreviewReport`` is what gets
printed at the end as one JSON object; another kind of lesson (a SCORM package) fills the
same fields its own way (``kind``, ``api``, ``completion``, ``success``, ``score``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from shiboken6 import Shiboken

from companion.ui.lesson_page import shorten

if TYPE_CHECKING:
    from companion.ui.ports import LessonRun

Say = Callable[[str], None]
MAX_REFUSED = 200


@dataclass
class PreviewReport:
    """What a previewed lesson reported, and what the app refused it.

    ``initialized``: the lesson loaded (for a SCORM package: it called Initialize); ``api``:
    the run-time API it used (None for a bundle); ``calls``: calls the page made to the app;
    ``completion``: "completed" once the lesson said so, else "incomplete"; ``success`` and
    ``score``: what the lesson reported of those (None when nothing); ``answers``: each
    counted answer's item and verdict; ``refused``: what the app refused, shortened.
    """

    kind: str = "bundle"
    initialized: bool = False
    api: str | None = None
    calls: int = 0
    completion: str = "incomplete"
    success: str | None = None
    score: float | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def refuse(self, what: str) -> None:
        """Note a refusal (the first ``MAX_REFUSED``)."""
        if len(self.refused) < MAX_REFUSED:
            self.refused.append(shorten(what, 200))

    def to_json(self) -> dict[str, Any]:
        """The report as printed (keys in this order)."""
        return asdict(self)


@dataclass
class _Live:
    focused_s: int = 0
    state: str = "unknown"
    accuracy: float | None = None


@dataclass
class _Tick:
    live: _Live
    abandoned: bool = False
    summary: Any = None


@dataclass
class _Summary:
    completed: bool
    questions: int
    reason: str | None = None


class PreviewRun:
    """The session controller's calls, for a preview: nothing is written anywhere."""

    def __init__(self, report: PreviewReport, say: Say) -> None:
        self.report = report
        self.say = say
        self.run: object | None = None

    def start(self, student_id: str, lesson_id: str) -> object:
        self.run = object()
        return self.run

    def tick(self) -> _Tick:
        return _Tick(self.live())

    def live(self) -> _Live:
        answers = self.report.answers
        right = sum(1 for a in answers if a["correct"])
        return _Live(accuracy=right / len(answers) if answers else None)

    def answer(self, item: str, correct: bool, scored_by: str = "content") -> None:
        self.report.answers.append({"item": item, "correct": correct})
        self.say(f"answer {item}: {'right' if correct else 'wrong'} (scored by {scored_by})")

    def media(self, playing: bool) -> None:
        self.say(f"media seen {'playing' if playing else 'stopped'} by the app")

    def complete(self) -> _Summary:
        self.report.completion = "completed"
        self.say("the lesson says it is complete")
        return self._end(True)

    def quit(self) -> _Summary:
        return self._end(False)

    def _end(self, completed: bool) -> _Summary:
        self.run = None
        return _Summary(completed, len(self.report.answers))


def run_preview(app: QApplication, bundle: Any, seconds: float, bridge_script: str,
                say: Say, show: bool = False) -> PreviewReport:
    """Open ``bundle`` in a session window for ``seconds`` (or until it completes)."""
    from companion.ui.session_window import SessionWidget, StudentWeb

    report = PreviewReport()
    run = PreviewRun(report, say)
    # a bundle's page makes only the calls PreviewRun answers (no SCORM, no results)
    widget = SessionWidget(cast("LessonRun", run))
    widget.confirm_quit = lambda: True
    student_web = StudentWeb("preview", {bundle.lesson.id: bundle}, bridge_script)
    loop = QEventLoop()
    page = student_web.page
    profile = student_web.profile
    assert page is not None and profile is not None

    def on_loaded(ok: bool) -> None:
        report.initialized = report.initialized or ok
        say("the lesson page loaded" if ok else "the lesson page did not load")

    def refused(where: str) -> Callable[[str], None]:
        def note(what: str) -> None:
            report.refuse(f"{where}: {what}")
            say(f"refused ({where}): {shorten(what, 200)}")
        return note

    page.loadFinished.connect(on_loaded)
    page.refused.connect(refused("page"))
    widget.bridge.refused.connect(refused("bridge"))
    widget.bridge.media_reported.connect(
        lambda playing: say(f"the page says its media {'plays' if playing else 'stopped'} "
                            "(not counted: the app checks for itself)"))
    widget.finished.connect(lambda _summary: QTimer.singleShot(500, loop.quit))
    if show:
        widget.resize(1024, 700)
        widget.show()
    widget.open_lesson(student_web, "preview", bundle)
    QTimer.singleShot(round(seconds * 1000), loop.quit)
    loop.exec()
    if widget.running:
        widget.end_not_completed()
    report.calls = widget.bridge.calls
    for url in profile.handler.refused:
        report.refuse(f"file: {url}")
    for url in profile.interceptor.blocked:
        report.refuse(f"network: {url}")
    widget.detach()
    student_web.dispose()
    Shiboken.delete(widget)  # its own blank page goes with it, before Qt's default profile
    app.processEvents()
    return report
