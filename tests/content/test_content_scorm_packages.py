"""SCORM packages as zips and folders: checking, importing into the library, refusals."""

from __future__ import annotations

import json
import os
import stat
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest

from companion.content import BundleError, load_library
from companion.content.importer import import_content
from companion.content.package import check_package, host_id, load_package
from companion.content.zipsafe import Limits
from companion.core.journal import DEFAULT_MASTERY_THRESHOLD
from tests.content.bundle_factory import course_folder, lesson_folder, lesson_json
from tests.content.scorm_factory import (
    PAGE,
    item_12,
    manifest_12,
    multi_2004,
    resource_12,
    single_12,
    write_package,
    zip_package,
)


@pytest.mark.parametrize("prefix", ["", "exported/"])
def test_a_zip_is_checked_without_extracting(tmp_path: Path, prefix: str) -> None:
    package = zip_package(multi_2004(tmp_path / "src"), tmp_path / "cells.zip", prefix)
    info = check_package(package)
    assert info.package_id == "org-example-cells"
    assert info.manifest.version == "2004 4th Edition"
    assert [s.id for s in info.manifest.scos] == ["i1", "i2", "i3"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.zip", "src"]


def test_missing_launch_file_is_refused_naming_package_and_item(tmp_path: Path) -> None:
    folder = multi_2004(tmp_path / "pkg")
    (folder / "quiz" / "q.html").unlink()
    with pytest.raises(BundleError) as caught:
        check_package(folder)
    assert caught.value.bundle == str(folder)
    assert caught.value.problem == "item 'i3' launches 'quiz/q.html', which is not in the package"
    package = zip_package(folder, tmp_path / "pkg.zip")
    with pytest.raises(BundleError, match=r"pkg\.zip: item 'i3' launches 'quiz/q.html'"):
        check_package(package)


def test_zip_slip_member_is_refused(tmp_path: Path) -> None:
    package = zip_package(single_12(tmp_path / "pkg"), tmp_path / "slip.zip")
    with zipfile.ZipFile(package, "a") as archive:
        archive.writestr("../../evil.html", PAGE)
    with pytest.raises(BundleError, match=r"slip\.zip: member '../../evil.html' escapes"):
        check_package(package)
    library = tmp_path / "library"
    with pytest.raises(BundleError):
        import_content(package, library)
    assert not (tmp_path / "evil.html").exists()
    assert [p.name for p in library.iterdir()] == []


def test_symlink_member_is_refused(tmp_path: Path) -> None:
    package = zip_package(single_12(tmp_path / "pkg"), tmp_path / "link.zip")
    info = zipfile.ZipInfo("shared.html")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(package, "a") as archive:
        archive.writestr(info, "/etc/passwd")
    with pytest.raises(BundleError, match=r"'shared.html' is a symbolic link"):
        check_package(package)


def test_folder_with_a_link_outside_is_refused(tmp_path: Path) -> None:
    folder = single_12(tmp_path / "pkg")
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    os.symlink(secret, folder / "data.txt")
    with pytest.raises(BundleError, match=r"'data.txt' is a link to a place outside"):
        check_package(folder)


def test_zip_bomb_is_refused_by_its_compression_ratio(tmp_path: Path) -> None:
    package = zip_package(single_12(tmp_path / "pkg"), tmp_path / "bomb.zip")
    with zipfile.ZipFile(package, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("video/blank.mp4", b"\0" * (8 * 1024 * 1024))
    with pytest.raises(BundleError, match=r"'video/blank.mp4' unpacks to more than 200 times"):
        check_package(package)


def test_package_limits_fit_real_packages(tmp_path: Path) -> None:
    folder = single_12(tmp_path / "pkg")
    for i in range(2100):  # more files than a bundle was once allowed
        (folder / f"asset{i}.js").write_text(f"var a{i} = {i};")
    assert check_package(folder).manifest.title == "Fractions"
    with pytest.raises(BundleError, match=r"too many files"):
        check_package(folder, Limits(max_files=2000))


def test_a_folder_without_a_manifest_is_not_a_package(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(BundleError, match=r"not a SCORM package: missing imsmanifest.xml"):
        check_package(tmp_path / "empty")


def test_a_broken_zip_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(BundleError, match=r"bad\.zip: not a valid zip file"):
        check_package(bad)


def test_a_single_sco_package_is_one_lesson(tmp_path: Path) -> None:
    library = tmp_path / "library"
    package = zip_package(single_12(tmp_path / "pkg", mastery="95"), tmp_path / "fr.zip")
    imported = import_content(package, library, subject="Math", grade="04")
    assert imported.lessons == (("com-example-fractions", "Adding fractions"),)
    bundles = load_package(library / "com-example-fractions")
    assert len(bundles) == 1
    bundle = bundles[0]
    assert bundle.lesson.subject == "Math" and bundle.course.grade == "04"
    assert bundle.scorm is not None and bundle.scorm.api == "1.2"
    assert bundle.entry == (library / "com-example-fractions" / "index.html").resolve()
    assert bundle.lesson.settings.mastery_threshold == Fraction(19, 20)


def test_a_low_mastery_score_never_lowers_the_threshold(tmp_path: Path) -> None:
    bundles = load_package(single_12(tmp_path / "pkg", mastery="60"))
    assert bundles[0].lesson.settings.mastery_threshold == DEFAULT_MASTERY_THRESHOLD


def test_several_scos_are_a_course_in_organization_order(tmp_path: Path) -> None:
    library_dir = tmp_path / "library"
    import_content(multi_2004(tmp_path / "pkg"), library_dir, subject="Science", grade="06")
    library = load_library([library_dir], tmp_path / "cache")
    assert library.errors == []
    lessons = library.catalogue.lessons_in_course("org-example-cells")
    assert [(lesson.id, lesson.title, lesson.order) for lesson in lessons] == [
        ("org-example-cells-i1", "What is a cell", 1),
        ("org-example-cells-i2", "Cell parts", 2),
        ("org-example-cells-i3", "Quiz", 3),
    ]
    assert library.catalogue.courses[0].title == "Cells"
    quiz = library.bundles["org-example-cells-i3"]
    assert quiz.scorm is not None and quiz.scorm.href == "quiz/q.html"
    assert quiz.lesson.settings.mastery_threshold == Fraction(19, 20)


def test_importing_again_replaces_and_keeps_the_lesson_ids(tmp_path: Path) -> None:
    library = tmp_path / "library"
    first = import_content(single_12(tmp_path / "v1"), library)
    second = import_content(single_12(tmp_path / "v2", page="<p>version 2</p>"), library)
    assert (first.replaced, second.replaced) == (False, True)
    assert first.lessons == second.lessons
    assert (library / first.course_id / "index.html").read_text() == "<p>version 2</p>"
    assert sorted(p.name for p in library.iterdir()) == [first.course_id]


def test_a_refused_import_leaves_the_library_as_it_was(tmp_path: Path) -> None:
    library = tmp_path / "library"
    import_content(single_12(tmp_path / "good"), library)
    before = sorted(str(p.relative_to(library)) for p in library.rglob("*"))
    broken = single_12(tmp_path / "broken")
    (broken / "index.html").unlink()
    with pytest.raises(BundleError, match=r"which is not in the package"):
        import_content(broken, library)
    assert sorted(str(p.relative_to(library)) for p in library.rglob("*")) == before


def test_lesson_bundles_and_folders_of_lessons_import_too(tmp_path: Path) -> None:
    library_dir = tmp_path / "library"
    source = tmp_path / "src"
    course = course_folder(source)
    lesson_folder(course, "l1", lesson_json("x-1", 1))
    imported = import_content(source, library_dir)
    assert imported.kind == "folder"
    assert imported.lessons == (("x-1", "Lesson x-1"),)
    library = load_library([library_dir], tmp_path / "cache")
    assert list(library.bundles) == ["x-1"]


def test_a_broken_package_in_the_library_is_listed_and_the_rest_load(tmp_path: Path) -> None:
    library_dir = tmp_path / "library"
    import_content(single_12(tmp_path / "good"), library_dir)
    bad = write_package(library_dir / "bad", manifest_12(
        item_12("i1", "r1", "x"), resource_12("r1", "gone.html"), identifier="bad"))
    library = load_library([library_dir], tmp_path / "cache")
    assert list(library.bundles) == ["com-example-fractions"]
    assert [e.bundle for e in library.errors] == [str(bad)]


def test_package_meta_is_written_beside_the_files(tmp_path: Path) -> None:
    imported = import_content(single_12(tmp_path / "pkg"), tmp_path / "lib", subject="Math",
                              grade="05")
    meta = json.loads((imported.folder / "companion-package.json").read_text())
    assert meta == {"id": "com-example-fractions", "subject": "Math", "grade": "05",
                    "source": "pkg"}


def test_host_ids_are_url_hosts() -> None:
    assert host_id("Course_One", "SCO 1") == "course-one-sco-1"
    long_id = host_id("x" * 100)
    assert len(long_id) == 60 and long_id != host_id("x" * 101)


QUIZ = [{"item": "k1", "question": "2 + 2?", "choices": ["4", "5"], "answer": 0},
        {"item": "k2", "question": "3 + 3?", "choices": ["5", "6"], "answer": 1}]


def test_a_check_quiz_for_every_lesson_or_by_item(tmp_path: Path) -> None:
    library = tmp_path / "library"
    imported = import_content(multi_2004(tmp_path / "pkg"), library, check_quiz={"i2": QUIZ})
    quizzes = {b.scorm.sco_id: len(b.check_quiz) for b in load_package(imported.folder)
               if b.scorm is not None}
    assert quizzes == {"i1": 0, "i2": 2, "i3": 0}
    imported = import_content(single_12(tmp_path / "one"), library, check_quiz=QUIZ)
    assert [q.item for q in load_package(imported.folder)[0].check_quiz] == ["k1", "k2"]


def test_a_check_quiz_for_an_unknown_item_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match=r"names item\(s\) the package does not launch: 'i9'"):
        import_content(multi_2004(tmp_path / "pkg"), tmp_path / "library",
                       check_quiz={"i9": QUIZ})


def test_an_asset_item_without_a_quiz_earns_no_xp(tmp_path: Path) -> None:
    folder = write_package(tmp_path / "pkg", manifest_12(
        item_12("a", "r1", "Read") + item_12("b", "r2", "Quiz"),
        resource_12("r1", "a.html", kind="asset") + resource_12("r2", "b.html")),
        {"a.html": PAGE, "b.html": PAGE})
    assert [b.earns_no_xp for b in load_package(folder)] == [True, False]
