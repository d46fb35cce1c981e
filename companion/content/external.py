"""Lessons in another application: lesson.json's ``external`` and ``checkQuiz`` fields.

``external`` replaces the entry page: ``{"app": ..., "titlePattern": ..., "url": ...,
"command": [...], "reportsAnswers": false}``. At least one of ``app`` and ``titlePattern``
says which window is the lesson; ``url`` (http or https) opens in the system browser;
``command`` starts the application explicitly; ``reportsAnswers`` says that the lesson
reports answers itself. ``checkQuiz`` is a short quiz shown in the session window when the
student is done: 2 to 10 questions of 2 to 6 choices, ``answer`` the index of the right one.

A url may start with a placeholder such as ``{sandbox}``, filled at load from the
``placeholders`` the caller passes (the app passes the embedded sandbox's base URL on the
sandbox environment only). A placeholder the caller cannot fill is an error at load. With
``placeholders=None`` (tools that only read the catalogue) placeholders stay in the url.

Plain data only: ``companion.ui`` turns an ``ExternalLessonSpec`` into the sensing layer's
``ExternalLesson``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from companion.content.errors import BundleError

EXTERNAL_FIELDS = frozenset({"app", "titlePattern", "url", "command", "reportsAnswers"})
QUESTION_FIELDS = frozenset({"item", "question", "choices", "answer"})
QUIZ_QUESTIONS = (2, 10)
QUIZ_CHOICES = (2, 6)
MAX_ITEM_LENGTH = 200  # as the session controller accepts
PLACEHOLDERS = frozenset({"sandbox"})
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_STAND_IN = "http://placeholder.invalid"


@dataclass(frozen=True, slots=True)
class ExternalLessonSpec:
    """What lesson.json's ``external`` declares (checked; the url filled when it could be)."""

    app: str | None = None
    title_pattern: str | None = None
    url: str | None = None
    command: tuple[str, ...] = ()
    reports_answers: bool = False

    @property
    def unfilled(self) -> bool:
        """True while the url still holds a placeholder (loaded with ``placeholders=None``)."""
        return self.url is not None and _PLACEHOLDER.search(self.url) is not None


@dataclass(frozen=True, slots=True)
class QuizQuestion:
    """One question of a check quiz: ``answer`` is the index of the right choice."""

    item: str
    question: str
    choices: tuple[str, ...]
    answer: int


def parse_external(
    value: Any, where: str, placeholders: Mapping[str, str] | None
) -> ExternalLessonSpec:
    """lesson.json's ``external`` object, checked; raises BundleError."""
    if not isinstance(value, dict):
        raise BundleError(where, "'external' in lesson.json must be an object")
    unknown = sorted(set(value) - EXTERNAL_FIELDS)
    if unknown:
        raise BundleError(where, f"unknown field(s) in 'external': {', '.join(map(repr, unknown))}")
    app = _optional_text(value, "app", where)
    pattern = _optional_text(value, "titlePattern", where)
    if app is None and pattern is None:
        raise BundleError(where, "'external' needs an 'app' name or a 'titlePattern' to "
                                 "know the lesson's window")
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise BundleError(where, f"'titlePattern' {pattern!r} is not a valid regular "
                                     f"expression ({exc})") from None
    url = _optional_text(value, "url", where)
    if url is not None:
        url = _fill(url, where, placeholders)
    command = value.get("command", [])
    if not isinstance(command, list) or not all(
        isinstance(c, str) and c.strip() for c in command
    ):
        raise BundleError(where, "'command' in 'external' must be a list of non-empty texts")
    reports = value.get("reportsAnswers", False)
    if not isinstance(reports, bool):
        raise BundleError(where, "'reportsAnswers' in 'external' must be true or false")
    return ExternalLessonSpec(app, pattern, url, tuple(command), reports)


def parse_check_quiz(value: Any, where: str) -> tuple[QuizQuestion, ...]:
    """lesson.json's ``checkQuiz`` list, checked; raises BundleError."""
    low, high = QUIZ_QUESTIONS
    if not isinstance(value, list) or not low <= len(value) <= high:
        raise BundleError(where, f"'checkQuiz' must be a list of {low} to {high} questions")
    questions: list[QuizQuestion] = []
    seen: set[str] = set()
    for number, obj in enumerate(value, start=1):
        question = _question(obj, f"checkQuiz question {number}", where)
        if question.item in seen:
            raise BundleError(where, f"checkQuiz question {number}: item {question.item!r} "
                                     "is used twice")
        seen.add(question.item)
        questions.append(question)
    return tuple(questions)


def _question(obj: Any, name: str, where: str) -> QuizQuestion:
    if not isinstance(obj, dict):
        raise BundleError(where, f"{name} must be an object")
    unknown = sorted(set(obj) - QUESTION_FIELDS)
    if unknown:
        raise BundleError(where, f"{name}: unknown field(s) {', '.join(map(repr, unknown))}")
    item = obj.get("item")
    if (not isinstance(item, str) or not item.strip() or not item.isprintable()
            or len(item) > MAX_ITEM_LENGTH):
        raise BundleError(where, f"{name}: 'item' must be printable text of 1 to "
                                 f"{MAX_ITEM_LENGTH} characters")
    text = obj.get("question")
    if not isinstance(text, str) or not text.strip():
        raise BundleError(where, f"{name}: 'question' must be non-empty text")
    choices = obj.get("choices")
    low, high = QUIZ_CHOICES
    if (not isinstance(choices, list) or not low <= len(choices) <= high
            or not all(isinstance(c, str) and c.strip() for c in choices)):
        raise BundleError(where, f"{name}: 'choices' must be a list of {low} to {high} "
                                 "non-empty texts")
    answer = obj.get("answer")
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(choices):
        raise BundleError(where, f"{name}: 'answer' must be the index of a choice "
                                 f"(0 to {len(choices) - 1}), not {answer!r}")
    return QuizQuestion(item, text, tuple(choices), answer)


def _optional_text(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BundleError(where, f"{key!r} in 'external' must be non-empty text")
    return value


def _fill(url: str, where: str, placeholders: Mapping[str, str] | None) -> str:
    """The url with its placeholders filled (or checked and kept, with no placeholders)."""
    names = _PLACEHOLDER.findall(url)
    for name in names:
        if name not in PLACEHOLDERS:
            raise BundleError(where, f"'url' in 'external' has an unknown placeholder "
                                     f"{{{name}}} (known: "
                                     f"{', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))})")
        if placeholders is not None and name not in placeholders:
            raise BundleError(where, f"'url' in 'external' uses {{{name}}}, which is filled "
                                     f"only on the {name} environment")
    if names and not url.startswith("{"):
        raise BundleError(where, "a placeholder in 'url' must stand at its start, "
                                 "for the server's address")
    if placeholders is not None:
        values = placeholders
        url = _PLACEHOLDER.sub(lambda m: values[m.group(1)].rstrip("/"), url)
    checked = _PLACEHOLDER.sub(_STAND_IN, url)
    parts = urlsplit(checked)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise BundleError(where, f"'url' in 'external' must be an http or https address, "
                                 f"not {url!r}")
    return url
