"""Lessons in other applications: the declaration, the window matcher, the launcher's
command per OS, and the focus source fed into the sampler (with a fake foreground)."""

from __future__ import annotations

import pytest

from companion.core.clock import FakeClock
from companion.core.journal import Line
from companion.core.rules import summarize
from companion.core.sampler import Sampler
from companion.system.external import (
    ExternalLesson,
    ExternalLessonFocus,
    FakeForeground,
    ForegroundWindow,
    FrontAppFocus,
    LaunchFailed,
    launch_command,
)
from companion.system.fakes import FakeFocus, FakeInput
from companion.system.foreground_windows import split_executable
from companion.system.lock_macos import is_locked
from companion.system.select import SessionSensing

SCRATCH = ForegroundWindow(
    app="Scratch 3", title="Scratch 3.29 — project", aliases=("Scratch 3.exe",)
)
BROWSER = ForegroundWindow(app="firefox", title="Fractions | Khan Academy — Mozilla Firefox")
GAME = ForegroundWindow(app="Minecraft", title="Minecraft 1.21")


def test_declaration_from_lesson_json() -> None:
    lesson = ExternalLesson.from_json(
        {"app": "Scratch 3", "titlePattern": "scratch", "url": "https://scratch.mit.edu/"}
    )
    assert lesson == ExternalLesson("Scratch 3", "scratch", "https://scratch.mit.edu/")


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"url": "https://example.org/"},
        {"titlePattern": "(unclosed"},
        {"app": "x", "url": "file:///etc/passwd"},
        {"app": "x", "extra": 1},
        {"app": 3},
        {"app": "x", "command": "x --y"},
    ],
)
def test_bad_declarations_are_refused(data: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ExternalLesson.from_json(data)


def test_app_name_matches_any_name_of_the_application_ignoring_case_and_exe() -> None:
    assert ExternalLesson(app="scratch 3").matches(SCRATCH)
    assert ExternalLesson(app="Scratch 3.EXE").matches(SCRATCH)
    assert not ExternalLesson(app="Scratch").matches(SCRATCH)
    assert not ExternalLesson(app="firefox").matches(SCRATCH)


def test_title_pattern_alone_and_with_an_app() -> None:
    assert ExternalLesson(title_pattern=r"khan\s+academy").matches(BROWSER)
    assert not ExternalLesson(title_pattern=r"khan\s+academy").matches(GAME)
    assert ExternalLesson(app="Firefox", title_pattern="fractions").matches(BROWSER)
    assert not ExternalLesson(app="Firefox", title_pattern="decimals").matches(BROWSER)


def test_launch_command_per_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    web = ExternalLesson(title_pattern="x", url="https://example.org/lesson")
    assert launch_command(web, "linux") == ["xdg-open", "https://example.org/lesson"]
    assert launch_command(web, "darwin") == ["open", "https://example.org/lesson"]
    assert launch_command(web, "win32") is None  # os.startfile
    app = ExternalLesson(app="Scratch 3")
    assert launch_command(app, "darwin") == ["open", "-a", "Scratch 3"]
    explicit = ExternalLesson(app="tuxmath", command=("tuxmath", "--fullscreen"))
    assert launch_command(explicit, "linux") == ["tuxmath", "--fullscreen"]
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(LaunchFailed, match="not found"):
        launch_command(ExternalLesson(app="no-such-lesson-app"), "linux")


def run_external(
    reader: FakeForeground, lesson: ExternalLesson, steps: list[ForegroundWindow | None]
) -> list[Line]:
    clock = FakeClock()
    focus = ExternalLessonFocus(reader, lesson)
    keys = FakeInput(clock)
    sensing = SessionSensing(keys, focus, focus_available=focus.available)
    sampler = Sampler(0)
    lines = [Line(0, "start", lesson="ext")]
    lines += sampler.tick(0, sensing.observe())
    for window in steps:
        reader.window = window
        clock.advance(1000)
        keys.touch()
        lines += sampler.tick(clock.monotonic_ms(), sensing.observe())
    lines.append(Line(clock.monotonic_ms(), "end"))
    return lines


def test_time_is_active_only_while_the_lesson_window_is_in_front() -> None:
    reader = FakeForeground(SCRATCH)
    lesson = ExternalLesson(app="Scratch 3")
    lines = run_external(reader, lesson, [SCRATCH, SCRATCH, GAME, GAME, None, SCRATCH, SCRATCH])
    focus_lines = [(line.t, line.focused, line.app) for line in lines if line.kind == "focus"]
    assert focus_lines == [(3000, False, "Minecraft"), (6000, True, None)]
    result = summarize(lines)
    assert result["activeSeconds"] == 4
    assert result["wasteSeconds"] == 3


def test_a_lesson_window_not_in_front_at_the_start_is_waste_from_the_start() -> None:
    lines = run_external(FakeForeground(GAME), ExternalLesson(app="Scratch 3"), [GAME])
    assert lines[1] == Line(0, "focus", focused=False, app="Minecraft")
    assert summarize(lines)["activeSeconds"] == 0


def test_a_blind_foreground_reader_gives_unknown_time() -> None:
    reader = FakeForeground(SCRATCH)
    lesson = ExternalLesson(app="Scratch 3")
    clock = FakeClock()
    focus = ExternalLessonFocus(reader, lesson)
    sensing = SessionSensing(FakeInput(clock), focus, focus_available=focus.available)
    reader.is_available = False
    obs = sensing.observe()
    assert obs.sensing_available is False and obs.focused is True
    assert not focus.focused()  # even unwired, a blind reader never makes time active


def test_own_window_can_count_as_part_of_the_lesson() -> None:
    own = FakeFocus(focus=True)
    focus = ExternalLessonFocus(FakeForeground(GAME), ExternalLesson(app="Scratch 3"), also=own)
    assert focus.focused()
    own.focus = False
    assert not focus.focused()
    assert focus.front_app() == "Minecraft"


def test_front_app_focus_names_the_app_that_took_focus_from_the_session_window() -> None:
    inner = FakeFocus(focus=False)
    focus = FrontAppFocus(inner, FakeForeground(GAME))
    assert not focus.focused()
    assert focus.front_app() == "Minecraft"
    assert FrontAppFocus(inner, FakeForeground(None)).front_app() is None


def test_windows_executable_names() -> None:
    assert split_executable(r"C:\Program Files\Scratch 3\Scratch 3.exe") == (
        "Scratch 3",
        ("Scratch 3.exe",),
    )
    assert split_executable(None) == (None, ())


def test_macos_session_dictionary_lock_flag() -> None:
    assert is_locked({"CGSSessionScreenIsLocked": True})
    assert not is_locked({"kCGSSessionOnConsoleKey": True})
    assert not is_locked(None)
