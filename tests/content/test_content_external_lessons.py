"""Lessons in another application: ``external`` instead of an entry page, the ``checkQuiz``,
and the ``{sandbox}`` url placeholder; each bad field refused naming the bundle and problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from companion.content import (
    BundleError,
    ExternalLessonSpec,
    QuizQuestion,
    load_bundle,
    load_library,
)
from tests.content.bundle_factory import course_folder, lesson_folder, lesson_json

BROWSER = {"titlePattern": "Rain Gardens", "url": "https://example.org/rain"}


def question(item: str, answer: int = 0, **changes: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {"item": item, "question": f"What about {item}?",
                           "choices": ["yes", "no", "maybe"], "answer": answer}
    obj.update(changes)
    return obj


QUIZ = [question("q1", 1), question("q2", 2), question("q3")]


def external_json(**extra: Any) -> dict[str, Any]:
    """A valid external lesson (course-x, order 2) with a three-question check quiz."""
    obj = lesson_json("ext", 2, external=BROWSER, checkQuiz=QUIZ, minQuestions=3)
    obj.update(extra)
    return obj


def write(tmp_path: Path, obj: dict[str, Any]) -> Path:
    course = course_folder(tmp_path / "lessons")
    return lesson_folder(course, "ext", obj, page=False)


def test_external_lesson_loads_without_an_entry_page(tmp_path: Path) -> None:
    folder = write(tmp_path, external_json())
    bundle = load_bundle(folder, tmp_path / "cache")
    assert bundle.entry is None
    assert bundle.external == ExternalLessonSpec(
        app=None, title_pattern="Rain Gardens", url="https://example.org/rain")
    assert bundle.check_quiz == (
        QuizQuestion("q1", "What about q1?", ("yes", "no", "maybe"), 1),
        QuizQuestion("q2", "What about q2?", ("yes", "no", "maybe"), 2),
        QuizQuestion("q3", "What about q3?", ("yes", "no", "maybe"), 0),
    )
    assert not bundle.earns_no_xp


def test_app_with_command_and_no_quiz_earns_no_xp_unless_it_reports_answers(
    tmp_path: Path,
) -> None:
    external = {"app": "Scratch 3", "command": ["scratch-desktop", "--fullscreen"]}
    obj = lesson_json("ext", 2, external=external)
    bundle = load_bundle(write(tmp_path, obj), tmp_path / "cache")
    assert bundle.external == ExternalLessonSpec(
        app="Scratch 3", command=("scratch-desktop", "--fullscreen"))
    assert bundle.check_quiz == ()
    assert bundle.earns_no_xp
    reporting = lesson_json("ext", 2, external={**external, "reportsAnswers": True})
    bundle = load_bundle(write(tmp_path / "2", reporting), tmp_path / "cache")
    assert not bundle.earns_no_xp


def test_sandbox_placeholder_is_filled_refused_elsewhere_or_kept(tmp_path: Path) -> None:
    url = "{sandbox}/demo/external/rain-gardens"
    folder = write(tmp_path, external_json(external={"titlePattern": "Rain", "url": url}))
    filled = load_bundle(folder, tmp_path / "cache",
                         placeholders={"sandbox": "http://127.0.0.1:5555/"})
    assert filled.external is not None
    assert filled.external.url == "http://127.0.0.1:5555/demo/external/rain-gardens"
    assert not filled.external.unfilled
    with pytest.raises(BundleError) as caught:
        load_bundle(folder, tmp_path / "cache", placeholders={})
    assert caught.value.bundle == str(folder)
    assert caught.value.problem == ("'url' in 'external' uses {sandbox}, which is filled only "
                                    "on the sandbox environment")
    kept = load_bundle(folder, tmp_path / "cache")  # a tool that only reads the catalogue
    assert kept.external is not None and kept.external.url == url and kept.external.unfilled


def test_library_passes_the_placeholders_on(tmp_path: Path) -> None:
    url = "{sandbox}/demo/external/rain-gardens"
    write(tmp_path, external_json(external={"titlePattern": "Rain", "url": url}))
    lessons = tmp_path / "lessons"
    library = load_library([lessons], tmp_path / "cache", placeholders={})
    assert list(library.bundles) == []
    assert [e.problem for e in library.errors] == [
        "'url' in 'external' uses {sandbox}, which is filled only on the sandbox environment"]
    library = load_library([lessons], tmp_path / "cache", placeholders={"sandbox": "http://h:1"})
    assert library.bundles["ext"].external == ExternalLessonSpec(
        title_pattern="Rain", url="http://h:1/demo/external/rain-gardens")


BAD: dict[str, tuple[dict[str, Any], str]] = {
    "external not an object": (
        {"external": "https://example.org"}, "'external' in lesson.json must be an object"),
    "unknown external field": (
        {"external": {**BROWSER, "window": "x"}}, "unknown field(s) in 'external': 'window'"),
    "nothing to match": (
        {"external": {"url": "https://example.org/"}},
        "'external' needs an 'app' name or a 'titlePattern'"),
    "bad regex": (
        {"external": {"titlePattern": "(unclosed"}},
        "'titlePattern' '(unclosed' is not a valid regular expression"),
    "file url": (
        {"external": {"app": "x", "url": "file:///etc/passwd"}},
        "'url' in 'external' must be an http or https address, not 'file:///etc/passwd'"),
    "javascript url": (
        {"external": {"app": "x", "url": "javascript:alert(1)"}},
        "must be an http or https address"),
    "url without host": (
        {"external": {"app": "x", "url": "https://"}}, "must be an http or https address"),
    "empty app": ({"external": {"app": " "}}, "'app' in 'external' must be non-empty text"),
    "command as text": (
        {"external": {"app": "x", "command": "x --y"}},
        "'command' in 'external' must be a list of non-empty texts"),
    "reportsAnswers not a bool": (
        {"external": {"app": "x", "reportsAnswers": "yes"}},
        "'reportsAnswers' in 'external' must be true or false"),
    "unknown placeholder": (
        {"external": {"app": "x", "url": "{server}/x"}},
        "'url' in 'external' has an unknown placeholder {server} (known: {sandbox})"),
    "placeholder inside": (
        {"external": {"app": "x", "url": "https://a/{sandbox}"}},
        "a placeholder in 'url' must stand at its start"),
    "entry and external": (
        {"entry": "index.html"}, "a lesson with 'external' has no entry page"),
    "quiz without external": (
        {"external": None}, "'checkQuiz' is only for a lesson in another application"),
    "quiz not a list": ({"checkQuiz": {"q1": 1}}, "'checkQuiz' must be a list of 2 to 10"),
    "one question": ({"checkQuiz": QUIZ[:1]}, "'checkQuiz' must be a list of 2 to 10 questions"),
    "eleven questions": (
        {"checkQuiz": [question(f"q{i}") for i in range(11)]},
        "'checkQuiz' must be a list of 2 to 10 questions"),
    "question not an object": (
        {"checkQuiz": [*QUIZ[:2], "q3"]}, "checkQuiz question 3 must be an object"),
    "unknown question field": (
        {"checkQuiz": [*QUIZ[:2], question("q3", hint="h")]},
        "checkQuiz question 3: unknown field(s) 'hint'"),
    "empty item": (
        {"checkQuiz": [question(""), *QUIZ[1:]]},
        "checkQuiz question 1: 'item' must be printable text of 1 to 200 characters"),
    "long item": (
        {"checkQuiz": [question("x" * 201), *QUIZ[1:]]},
        "checkQuiz question 1: 'item' must be printable text"),
    "duplicate item": (
        {"checkQuiz": [*QUIZ, question("q2")]}, "checkQuiz question 4: item 'q2' is used twice"),
    "no question text": (
        {"checkQuiz": [*QUIZ[:2], question("q3", question=" ")]},
        "checkQuiz question 3: 'question' must be non-empty text"),
    "one choice": (
        {"checkQuiz": [*QUIZ[:2], question("q3", choices=["only"])]},
        "checkQuiz question 3: 'choices' must be a list of 2 to 6 non-empty texts"),
    "seven choices": (
        {"checkQuiz": [*QUIZ[:2], question("q3", choices=list("abcdefg"))]},
        "checkQuiz question 3: 'choices' must be a list of 2 to 6"),
    "empty choice": (
        {"checkQuiz": [*QUIZ[:2], question("q3", choices=["a", ""])]},
        "checkQuiz question 3: 'choices' must be a list of 2 to 6"),
    "answer out of range": (
        {"checkQuiz": [*QUIZ[:2], question("q3", answer=3)]},
        "checkQuiz question 3: 'answer' must be the index of a choice (0 to 2), not 3"),
    "answer as text": (
        {"checkQuiz": [*QUIZ[:2], question("q3", answer="yes")]},
        "'answer' must be the index of a choice (0 to 2), not 'yes'"),
    "answer as bool": (
        {"checkQuiz": [*QUIZ[:2], question("q3", answer=True)]},
        "'answer' must be the index of a choice (0 to 2), not True"),
    "quiz too short to master": (
        {"checkQuiz": QUIZ[:2]},
        "'checkQuiz' has 2 questions but 'minQuestions' is 3, so the lesson could never "
        "be mastered"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_external_field_is_refused_naming_bundle_and_problem(
    tmp_path: Path, case: str
) -> None:
    changes, problem = BAD[case]
    obj = external_json(**changes)
    obj = {k: v for k, v in obj.items() if v is not None}
    folder = write(tmp_path, obj)
    lesson_folder(folder.parent, "good", lesson_json("a", 1))
    library = load_library([tmp_path / "lessons"], tmp_path / "cache")
    assert list(library.bundles) == ["a"]
    assert len(library.errors) == 1
    error = library.errors[0]
    assert error.bundle == str(folder)
    assert problem in error.problem, error.problem
    assert str(error).startswith(f"{folder}: ")
