"""One lesson bundle: a folder or zip with ``lesson.json``, an entry page and its assets.

``lesson.json`` holds ``id``, ``title``, ``course``, ``subject`` (one of Timeback's
subjects), ``grade``, ``order`` (1, 2, ... within the course), the lesson settings of the
learning rules (``idleTimeout``, ``abandonAfter``, ``expectedXp``, ``masteryThreshold``,
``minQuestions``), and optionally ``entry`` (default ``index.html``), ``description`` and,
for a bundle with no ``course.json`` beside it, ``courseTitle``. Unknown fields are refused,
so that a misspelt setting never silently falls back to its default.

A lesson page may carry its ``answerKey`` (accepted responses per item,
``companion.core.answer_key``): the app then scores the page's responses itself, and never
serves ``lesson.json`` to the page. ``minAnswerInterval`` (seconds, default 1) is how soon
after its previous answer the page may send the next one.

A lesson in another application has ``external`` instead of an entry page, and optionally a
``checkQuiz`` (``companion.content.external``); such a bundle needs no index.html. So do a
web lesson (``web``: its url and hosts) and a media lesson (``media``: its audio or video
file), which take a ``checkQuiz`` too (``companion.content.web_lesson``). A SCORM package
is read by ``companion.content.package`` instead.

The course comes from ``course.json`` (``id``, ``title``, ``subject``, ``grade``) in the
folder that holds the bundle; without one, from the lesson's own fields.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar, cast

from companion.content.errors import BundleError
from companion.content.external import (
    ExternalLessonSpec,
    QuizQuestion,
    parse_check_quiz,
    parse_external,
)
from companion.content.scorm import ScormLaunch
from companion.content.web_lesson import WebLessonSpec, parse_media, parse_web
from companion.content.zipsafe import DEFAULT_LIMITS, Limits, ZipProblem, extract_zip
from companion.content.zipsafe import member_problem as _path_problem
from companion.core.answer_key import AnswerKey, parse_answer_key
from companion.core.catalogue import SUBJECTS, Course, Lesson, Subject
from companion.core.journal import JournalError, LessonSettings

LESSON_FILE = "lesson.json"
COURSE_FILE = "course.json"
DEFAULT_ENTRY = "index.html"
_MAX_JSON_BYTES = 256 * 1024
# An answer a page sends sooner than this after its previous one is refused (a lesson may
# set its own ``minAnswerInterval``).
DEFAULT_MIN_ANSWER_INTERVAL_S = 1.0
_SETTINGS = frozenset(
    {"idleTimeout", "abandonAfter", "expectedXp", "masteryThreshold", "minQuestions"}
)
_LESSON_FIELDS = frozenset(
    {"id", "title", "course", "subject", "grade", "order", "entry", "description", "courseTitle",
     "external", "checkQuiz", "web", "media", "answerKey",
     "minAnswerInterval"}
    | _SETTINGS
)
_COURSE_FIELDS = frozenset({"id", "title", "subject", "grade", "description"})
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class LessonBundle:
    """A loaded lesson: its catalogue entry, its course, and where its files are.

    ``root`` is the folder the page is served from (for a zip, its extraction folder);
    ``entry`` is the absolute path of the entry page, inside ``root`` (None for a lesson in
    another application); ``source`` is what was loaded (the folder or the zip file);
    ``description`` is optional text for the library; ``external`` says which application
    or web address is the lesson, and ``check_quiz`` the questions asked when it is done;
    ``scorm`` says how to start an item of a SCORM package (``entry`` is its launch file);
    ``web`` is a web lesson's address and hosts, ``media`` a media lesson's file.
    """

    lesson: Lesson
    course: Course
    root: Path
    entry: Path | None
    source: Path | None = None
    description: str = ""
    external: ExternalLessonSpec | None = None
    check_quiz: tuple[QuizQuestion, ...] = ()
    scorm: ScormLaunch | None = None
    web: WebLessonSpec | None = None
    media: Path | None = None
    answer_key: AnswerKey | None = None
    min_answer_interval_s: float = DEFAULT_MIN_ANSWER_INTERVAL_S

    @property
    def earns_no_xp(self) -> bool:
        """True for a lesson that nothing checks: a lesson in another application with no
        quiz that does not report answers itself, a web or media lesson with no quiz, or a
        SCORM item that is an asset (it never talks to the run-time) with no quiz
        (learning-rules.md section 3: ``n = 0`` is XP 0)."""
        if self.web is not None or self.media is not None:
            return not self.check_quiz
        if self.scorm is not None:
            return self.scorm.sco_type == "asset" and not self.check_quiz
        return (
            self.external is not None
            and not self.check_quiz
            and not self.external.reports_answers
        )


def load_bundle(
    path: Path,
    cache_dir: Path,
    limits: Limits = DEFAULT_LIMITS,
    placeholders: Mapping[str, str] | None = None,
) -> LessonBundle:
    """Load the bundle at ``path`` (a folder or a ``.zip``); raises BundleError.

    A zip is checked, then extracted into ``cache_dir/<content hash>/`` (reused when it is
    already there). ``lesson.json`` may sit at the top of the zip or inside its only folder.
    ``placeholders`` fill an external lesson's url (e.g. ``{"sandbox": base_url}``); a url
    placeholder they do not name is refused; None keeps placeholders as they are.
    """
    name = str(path)
    if path.is_dir():
        return _load_folder(path.resolve(), path, limits, placeholders)
    if path.is_file() and path.suffix.lower() == ".zip":
        try:
            extracted = extract_zip(path, cache_dir, limits)
        except ZipProblem as exc:
            raise BundleError(name, str(exc)) from None
        except OSError as exc:
            raise BundleError(name, f"cannot be extracted ({exc.strerror or exc})") from None
        try:
            return _load_folder(_zip_root(extracted), path, limits, placeholders)
        except BundleError:
            shutil.rmtree(extracted, ignore_errors=True)  # a refused zip leaves nothing behind
            raise
    if not path.exists():
        raise BundleError(name, "does not exist")
    raise BundleError(name, "is neither a folder nor a .zip file")


def read_course(course_dir: Path) -> Course | None:
    """The course described by ``course_dir/course.json``, or None when there is none.

    Raises BundleError (naming the course.json) when the file is there but not valid.
    """
    file = course_dir / COURSE_FILE
    if not file.is_file():
        return None
    obj = _read_json(file, str(file))
    where = str(file)
    _refuse_unknown(obj, _COURSE_FIELDS, where)
    return _build(
        where,
        lambda: Course(
            id=_text(obj, "id", where),
            title=_text(obj, "title", where),
            subject=_subject(obj, where, required=False),
            grade=_grade(obj, where),
        ),
    )


def _zip_root(extracted: Path) -> Path:
    """The folder of an extracted zip that holds lesson.json (the top, or its only folder)."""
    if (extracted / LESSON_FILE).exists():
        return extracted
    children = [c for c in extracted.iterdir() if c.name != "__MACOSX"]
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return extracted


def _load_folder(
    root: Path, source: Path, limits: Limits, placeholders: Mapping[str, str] | None
) -> LessonBundle:
    name = str(source)
    check_tree(root, name, limits)
    lesson_file = root / LESSON_FILE
    if not lesson_file.is_file():
        raise BundleError(name, f"missing {LESSON_FILE}")
    obj = _read_json(lesson_file, name)
    where = name
    _refuse_unknown(obj, _LESSON_FIELDS, where)
    web, media, quiz = _web_or_media(obj, root, where)
    if web is None and media is None:
        external, quiz = _external(obj, where, placeholders)
    else:
        external = None
    entry = None if external is not None or web or media else _entry(root, obj, where)
    try:
        settings = LessonSettings.from_json({k: v for k, v in obj.items() if k in _SETTINGS})
    except JournalError as exc:
        raise BundleError(where, f"invalid lesson settings in {LESSON_FILE}: {exc}") from None
    lesson = _build(
        where,
        lambda: Lesson(
            id=_text(obj, "id", where),
            title=_text(obj, "title", where),
            course_id=_text(obj, "course", where),
            subject=_subject(obj, where, required=True),
            grade=_grade(obj, where),
            order=_order(obj, where),
            settings=settings,
        ),
    )
    course = _course_for(source, lesson, obj, where)
    description = obj.get("description", "")
    if not isinstance(description, str):
        raise BundleError(where, "'description' in lesson.json must be text")
    reports = external is not None and external.reports_answers
    if 0 < len(quiz) < lesson.settings.min_questions and not reports:
        raise BundleError(where, f"'checkQuiz' has {len(quiz)} questions but 'minQuestions' "
                                 f"is {lesson.settings.min_questions}, so the lesson could "
                                 "never be mastered")
    key, interval = _answer_rules(obj, where, external is not None)
    return LessonBundle(lesson, course, root, entry, source, description, external, quiz,
                        web=web, media=media, answer_key=key,
                        min_answer_interval_s=interval)


def _web_or_media(
    obj: dict[str, Any], root: Path, where: str
) -> tuple[WebLessonSpec | None, Path | None, tuple[QuizQuestion, ...]]:
    """A web lesson's ``web`` or a media lesson's ``media``, with its ``checkQuiz``."""
    kinds = [k for k in ("web", "media", "external", "entry") if k in obj]
    if "web" not in obj and "media" not in obj:
        return None, None, ()
    if len(kinds) > 1:
        raise BundleError(where, f"a lesson has one of 'web', 'media', 'external' or "
                                 f"'entry', not {' and '.join(map(repr, kinds))}")
    quiz = parse_check_quiz(obj["checkQuiz"], where) if "checkQuiz" in obj else ()
    if "web" in obj:
        return parse_web(obj["web"], where), None, quiz
    return None, parse_media(obj["media"], root, where), quiz



def _answer_rules(obj: dict[str, Any], where: str,
                  external: bool) -> tuple[AnswerKey | None, float]:
    """The ``answerKey`` (None without one) and ``minAnswerInterval`` of a lesson page."""
    key = None
    if "answerKey" in obj:
        if external:
            raise BundleError(where, "'answerKey' is for a lesson page; a lesson in another "
                                     "application has a 'checkQuiz'")
        try:
            key = parse_answer_key(obj["answerKey"])
        except ValueError as exc:
            raise BundleError(where, str(exc)) from None
    interval = obj.get("minAnswerInterval", DEFAULT_MIN_ANSWER_INTERVAL_S)
    if isinstance(interval, bool) or not isinstance(interval, int | float) \
            or not 0 <= interval <= 3600:
        raise BundleError(where, "'minAnswerInterval' must be a number of seconds from 0 "
                                 "to 3600")
    return key, float(interval)


def _external(
    obj: dict[str, Any], where: str, placeholders: Mapping[str, str] | None
) -> tuple[ExternalLessonSpec | None, tuple[QuizQuestion, ...]]:
    """The ``external`` declaration and the ``checkQuiz`` (only for external lessons)."""
    if "external" not in obj:
        if "checkQuiz" in obj:
            raise BundleError(where, "'checkQuiz' is only for a lesson in another application "
                                     "('external'); a lesson page asks its own questions")
        return None, ()
    if "entry" in obj:
        raise BundleError(where, "a lesson with 'external' has no entry page: remove 'entry'")
    external = parse_external(obj["external"], where, placeholders)
    quiz = parse_check_quiz(obj["checkQuiz"], where) if "checkQuiz" in obj else ()
    return external, quiz


def _course_for(source: Path, lesson: Lesson, obj: dict[str, Any], where: str) -> Course:
    course = read_course(source.parent)
    if course is not None:
        if course.id != lesson.course_id:
            raise BundleError(
                where,
                f"lesson.json names course {lesson.course_id!r} but the {COURSE_FILE} "
                f"beside it is for course {course.id!r}",
            )
        return course
    title = obj.get("courseTitle", lesson.course_id)
    if not isinstance(title, str) or not title.strip():
        raise BundleError(where, "'courseTitle' in lesson.json must be non-empty text")
    return Course(lesson.course_id, title, lesson.subject, lesson.grade)


def check_tree(root: Path, name: str, limits: Limits) -> None:
    """Refuse a folder that is too large or holds links leading outside it."""
    total = 0
    count = 0
    for folder, dirs, files in os.walk(root):
        for item in [*dirs, *files]:
            path = Path(folder, item)
            if path.is_symlink():
                target = path.resolve()
                if not target.is_relative_to(root):
                    rel = path.relative_to(root).as_posix()
                    raise BundleError(name, f"{rel!r} is a link to a place outside the bundle")
        for file in files:
            count += 1
            total += Path(folder, file).stat().st_size if Path(folder, file).exists() else 0
        if count > limits.max_files:
            raise BundleError(name, f"too many files (the limit is {limits.max_files})")
        if total > limits.max_bytes:
            raise BundleError(name, f"too large (more than {limits.max_bytes} bytes)")


def _entry(root: Path, obj: dict[str, Any], where: str) -> Path:
    value = obj.get("entry", DEFAULT_ENTRY)
    if not isinstance(value, str):
        raise BundleError(where, "'entry' in lesson.json must be text")
    problem = _path_problem(value)
    if problem:
        raise BundleError(where, f"entry page {value!r} is not a path inside the bundle")
    entry = root.joinpath(*PurePosixPath(value).parts)
    if not entry.is_file():
        raise BundleError(where, f"missing entry page {value!r}")
    resolved = entry.resolve()
    if not resolved.is_relative_to(root):
        raise BundleError(where, f"entry page {value!r} is outside the bundle")
    return resolved


def _read_json(file: Path, where: str) -> dict[str, Any]:
    if file.stat().st_size > _MAX_JSON_BYTES:
        raise BundleError(where, f"{file.name} is too large")
    try:
        obj = json.loads(file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise BundleError(where, f"{file.name} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BundleError(
            where, f"{file.name} is not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    if not isinstance(obj, dict):
        raise BundleError(where, f"{file.name} must hold a JSON object")
    return cast(dict[str, Any], obj)


def _refuse_unknown(obj: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(obj) - known)
    if unknown:
        raise BundleError(where, f"unknown field(s) {', '.join(map(repr, unknown))}")


def _text(obj: dict[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BundleError(where, f"{key!r} must be non-empty text")
    return value


def _subject(obj: dict[str, Any], where: str, required: bool) -> Subject | None:
    value = obj.get("subject")
    if value is None and not required:
        return None
    if value not in SUBJECTS:
        raise BundleError(where, f"'subject' must be one of {', '.join(SUBJECTS)}, not {value!r}")
    return cast(Subject, value)


def _grade(obj: dict[str, Any], where: str) -> str:
    value = obj.get("grade")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return f"{value:02d}"
    if isinstance(value, str) and value.strip():
        return value
    raise BundleError(where, "'grade' must be text such as \"05\" or a whole number")


def _order(obj: dict[str, Any], where: str) -> int:
    value = obj.get("order")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BundleError(where, "'order' must be a whole number from 1")
    return value


def _build(where: str, make: Callable[[], _T]) -> _T:
    """Run a core constructor, turning its ValueError into a BundleError."""
    try:
        return make()
    except ValueError as exc:
        raise BundleError(where, str(exc)) from None
