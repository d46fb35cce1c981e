"""The demo course: it loads cleanly, unlocks in order, its pages stay inside their bundles,
and its fifth lesson runs in the system browser on a page the sandbox serves."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction
from html.parser import HTMLParser
from pathlib import Path

import pytest

from companion.content import (
    ExternalLessonSpec,
    LessonBundle,
    Library,
    demo_lessons_path,
    load_library,
)
from companion.core.catalogue import lesson_state, unlocks_after

COURSE_ID = "demo-course-1"
PAGE_IDS = ["demo-math-drill", "demo-reading-passage", "demo-listening-bees", "demo-mastery-check"]
BROWSER_ID = "demo-browser-reading"
DEMO_IDS = [*PAGE_IDS, BROWSER_ID]
URL_ATTRS = {"src", "href", "poster", "data", "action", "srcset", "formaction"}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    return load_library([demo_lessons_path()], tmp_path_factory.mktemp("cache"))


def test_demo_course_loads_five_lessons_in_order(library: Library) -> None:
    assert library.errors == []
    course = library.catalogue.course(COURSE_ID)
    assert (course.title, course.grade) == ("Companion Demo Course", "05")
    lessons = library.catalogue.lessons_in_course(COURSE_ID)
    assert [lesson.id for lesson in lessons] == DEMO_IDS
    assert [lesson.order for lesson in lessons] == [1, 2, 3, 4, 5]
    assert [lesson.subject for lesson in lessons] == [
        "Math", "Reading", "Science", "Math", "Science"]
    assert set(library.bundles) == set(DEMO_IDS)


def test_each_lesson_unlocks_after_mastering_the_previous(library: Library) -> None:
    catalogue = library.catalogue
    chain = [unlocks_after(catalogue, lesson_id) for lesson_id in DEMO_IDS]
    assert [lesson.id if lesson else None for lesson in chain] == [*DEMO_IDS[1:], None]
    mastered: set[str] = set()
    for i, lesson_id in enumerate(DEMO_IDS):
        states = [lesson_state(catalogue, x, mastered) for x in DEMO_IDS]
        assert states == ["mastered"] * i + ["open"] + ["locked"] * (len(DEMO_IDS) - i - 1)
        mastered.add(lesson_id)


def test_settings_are_parsed_exactly(library: Library) -> None:
    got = {
        lesson_id: (
            b.lesson.settings.idle_timeout_ms,
            b.lesson.settings.abandon_after_ms,
            b.lesson.settings.expected_xp,
            b.lesson.settings.mastery_threshold,
            b.lesson.settings.min_questions,
        )
        for lesson_id, b in library.bundles.items()
    }
    ninety = Fraction(9, 10)
    assert got == {
        "demo-math-drill": (60_000, 300_000, Decimal(2), ninety, 5),
        "demo-reading-passage": (300_000, 600_000, Decimal(3), ninety, 3),
        "demo-listening-bees": (120_000, 600_000, Decimal(3), ninety, 3),
        "demo-mastery-check": (90_000, 450_000, Decimal(4), ninety, 5),
        "demo-browser-reading": (300_000, 600_000, Decimal(3), ninety, 3),
    }


def test_entry_pages_are_inside_their_bundles(library: Library) -> None:
    for lesson_id in PAGE_IDS:
        bundle = library.bundles[lesson_id]
        assert bundle.entry is not None and bundle.entry.name == "index.html"
        assert bundle.entry.is_relative_to(bundle.root)
        assert bundle.root.parent == demo_lessons_path().resolve() / COURSE_ID


class _Page(HTMLParser):
    """Collects URL attributes, scripts, questions and keyboard hazards of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self.inline_script = False
        self.forms: list[dict[str, str]] = []
        self.radios: list[tuple[int, str]] = []
        self.text_inputs: list[str] = []
        self.label_fors: set[str] = set()
        self.media: list[str] = []
        self.hazards: list[str] = []
        self.body: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for key in URL_ATTRS & a.keys():
            self.urls.extend(u.split()[0] for u in a[key].split(",") if u.strip())
        if "style" in a and "url(" in a["style"]:
            self.hazards.append(f"inline style url in <{tag}>")
        if any(k.startswith("on") for k in a):
            self.hazards.append(f"inline event handler in <{tag}>")
        if a.get("tabindex", "0").lstrip("-").isdigit() and int(a.get("tabindex", "0")) > 0:
            self.hazards.append(f"positive tabindex in <{tag}>")
        if tag == "body":
            self.body = a
        elif tag == "script":
            if "src" in a:
                self.scripts.append(a["src"])
            else:
                self.inline_script = True
        elif tag == "form" and "question" in a.get("class", "").split():
            self.forms.append(a)
        elif tag == "input" and a.get("type") == "radio":
            self.radios.append((len(self.forms) - 1, a.get("value", "")))
        elif tag == "input" and a.get("type") == "text":
            self.text_inputs.append(a.get("id", ""))
        elif tag == "label" and "for" in a:
            self.label_fors.add(a["for"])
        elif tag in ("audio", "video"):
            self.media.append(tag)

    def handle_data(self, data: str) -> None:
        if self.inline_script and data.strip():
            self.hazards.append("inline script")


def _page(bundle: LessonBundle) -> _Page:
    page = _Page()
    assert bundle.entry is not None
    page.feed(bundle.entry.read_text(encoding="utf-8"))
    page.close()
    return page


def _folder(bundle: LessonBundle) -> Path:
    assert bundle.entry is not None
    return bundle.entry.parent


def _inside(bundle: LessonBundle, base: Path, ref: str) -> Path:
    assert not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", ref), f"{ref!r} has a scheme"
    assert not ref.startswith(("/", "\\")), f"{ref!r} is absolute"
    assert ".." not in ref.replace("\\", "/").split("/"), f"{ref!r} leaves its folder"
    target = (base / ref.split("#")[0].split("?")[0]).resolve()
    assert target.is_relative_to(bundle.root), f"{ref!r} is outside the bundle"
    assert target.is_file(), f"{ref!r} does not exist in {bundle.root}"
    return target


@pytest.mark.parametrize("lesson_id", PAGE_IDS)
def test_page_references_only_files_in_its_bundle(library: Library, lesson_id: str) -> None:
    bundle = library.bundles[lesson_id]
    page = _page(bundle)
    assert page.urls, "the page links its own style and script"
    for ref in page.urls:
        target = _inside(bundle, _folder(bundle), ref)
        if target.suffix == ".css":
            for css_ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", target.read_text("utf-8")):
                _inside(bundle, target.parent, css_ref)
    for file in bundle.root.rglob("*"):
        if file.suffix in (".html", ".css", ".js"):
            text = file.read_text(encoding="utf-8")
            assert not re.search(r"https?:|//[a-z]", text.split("*/", 1)[-1], re.I), file


@pytest.mark.parametrize("lesson_id", PAGE_IDS)
def test_page_reports_answers_and_completion(library: Library, lesson_id: str) -> None:
    bundle = library.bundles[lesson_id]
    page = _page(bundle)
    code = "\n".join(
        _inside(bundle, _folder(bundle), s).read_text(encoding="utf-8") for s in page.scripts
    )
    assert "window.companion.answer(item, value)" in code  # the response; the app scores
    assert "window.companion.complete()" in code
    assert page.hazards == []
    items = [form["data-item"] for form in page.forms]
    assert len(items) == len(set(items)) >= bundle.lesson.settings.min_questions
    assert Fraction(page.body["data-mastery"]) == bundle.lesson.settings.mastery_threshold
    key = bundle.answer_key
    assert key is not None and set(key.accepted) == set(items)  # every item app-scored
    for index, form in enumerate(page.forms):
        assert "data-answer" not in form, form  # the key is never in the page
        values = [value for i, value in page.radios if i == index]
        if values:
            assert key.accepted[form["data-item"]] <= set(values), form
    assert all(i and i in page.label_fors for i in page.text_inputs), "every input has a label"


def test_media_lesson_has_small_media_and_reports_it(library: Library) -> None:
    bundle = library.bundles["demo-listening-bees"]
    page = _page(bundle)
    assert page.media == ["audio"]
    media = [u for u in page.urls if u.endswith((".ogg", ".wav", ".webm", ".mp4"))]
    assert media == ["bees.ogg"]
    assert 0 < (bundle.root / "bees.ogg").stat().st_size < 300_000
    assert (bundle.root / "bees.ogg").read_bytes()[:4] == b"OggS"
    code = (bundle.root / "quiz.js").read_text(encoding="utf-8")
    assert "window.companion.media(now)" in code
    for event in ("play", "pause", "ended"):
        assert f'addEventListener("{event}", reportMedia)' in code


def test_shared_files_are_identical_copies(library: Library) -> None:
    for name in ("style.css", "quiz.js"):
        pages = [library.bundles[lesson_id] for lesson_id in PAGE_IDS]
        copies = {b.root.name: (b.root / name).read_bytes() for b in pages}
        assert len(set(copies.values())) == 1, f"{name} differs between bundles: {sorted(copies)}"


def test_css_uses_relative_units_for_text(library: Library) -> None:
    css = (library.bundles["demo-math-drill"].root / "style.css").read_text(encoding="utf-8")
    sizes = re.findall(r"font-size:\s*([^;]+);", css)
    assert sizes
    assert all(re.fullmatch(r"[\d.]+(rem|em|%)", s.strip()) for s in sizes), sizes


def test_course_json_matches_the_sandbox_course() -> None:
    from companion.sandbox.seed import DEMO_COURSE_ID, DEMO_COURSE_TITLE

    obj = json.loads((demo_lessons_path() / COURSE_ID / "course.json").read_text("utf-8"))
    assert (obj["id"], obj["title"]) == (DEMO_COURSE_ID, DEMO_COURSE_TITLE)


def test_browser_lesson_opens_the_sandbox_reading_page_then_asks_its_quiz(
    library: Library,
) -> None:
    from companion.sandbox.demo_pages import PAGES

    bundle = library.bundles[BROWSER_ID]
    assert bundle.entry is None
    assert sorted(p.name for p in bundle.root.iterdir()) == ["lesson.json"]
    # loaded without placeholders (as tools do): the url keeps "{sandbox}" until the app fills it
    assert bundle.external == ExternalLessonSpec(
        title_pattern="Rain Gardens", url="{sandbox}/demo/external/rain-gardens")
    assert re.search(bundle.external.title_pattern or "", f"{PAGES['rain-gardens'].title} — "
                     "Mozilla Firefox", re.IGNORECASE)
    assert [q.item for q in bundle.check_quiz] == ["rain-1", "rain-2", "rain-3"]
    assert [q.answer for q in bundle.check_quiz] == [1, 2, 0]
    assert len(bundle.check_quiz) == bundle.lesson.settings.min_questions
    assert not bundle.earns_no_xp
    assert unlocks_after(library.catalogue, "demo-mastery-check") == bundle.lesson


def test_browser_lesson_is_refused_off_the_sandbox(tmp_path: Path) -> None:
    library = load_library([demo_lessons_path()], tmp_path, placeholders={})
    assert list(library.bundles) == PAGE_IDS
    assert [e.problem for e in library.errors] == [
        "'url' in 'external' uses {sandbox}, which is filled only on the sandbox environment"]
    filled = load_library([demo_lessons_path()], tmp_path,
                          placeholders={"sandbox": "http://127.0.0.1:8123"})
    external = filled.bundles[BROWSER_ID].external
    assert external is not None
    assert external.url == "http://127.0.0.1:8123/demo/external/rain-gardens"
