"""`companion content push` and `companion app-config` against the sandbox."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from companion.cli import build_parser
from companion.commands import app_config, content
from companion.config import load_config
from companion.content import demo_lessons_path, load_library
from companion.core import results
from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.store import outbox, paths
from companion.store.db import Database
from companion.store.results import HELD_REASON, RESULT_KIND
from companion.sync.results import deliver_results
from tests.results.helpers import APP_ID, client_for, queue_results

LINE_ITEMS = "assessmentLineItems"


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


def push(url: str | None, *extra: str) -> tuple[int, str, str]:
    argv = ["content", "push", *extra] + (["--url", url] if url else [])
    args = build_parser(argv).parse_args(argv)
    out, err = io.StringIO(), io.StringIO()
    status = content.run(args, stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def demo_lessons() -> list[str]:
    library = load_library([demo_lessons_path()], paths.data_dir() / "cache")
    return [lesson.id for lesson in library.catalogue.lessons]


def test_push_twice_changes_nothing_the_second_time(sandbox: SandboxHandle) -> None:
    lessons = demo_lessons()
    assert lessons
    status, out, _ = push(sandbox.base_url, "--dry-run")
    assert status == 0 and f"{len(lessons)} would create" in out
    assert sandbox.state.gradebook.line_items == {}
    assert load_config().course_ids("sandbox") == {}

    status, out, _ = push(sandbox.base_url)
    assert status == 0 and f"sandbox: {len(lessons)} created, 0 updated, 0 unchanged" in out
    stored = sandbox.state.gradebook.line_items
    assert set(stored) == {results.line_item_id(APP_ID, lesson) for lesson in lessons}
    one = next(iter(stored.values()))
    assert (one["resultValueMin"], one["resultValueMax"]) == (0.0, 100.0)
    assert one["metadata"]["courseSourcedId"] == "demo-course-1"
    assert load_config().course_ids("sandbox") == {"demo-course-1": "demo-course-1"}

    status, out, _ = push(sandbox.base_url)
    assert status == 0 and f"0 created, 0 updated, {len(lessons)} unchanged" in out
    assert all(sandbox.state.gradebook.writes(LINE_ITEMS, i) == 1 for i in stored)


def test_push_updates_a_changed_line_item_and_releases_held_results(
    sandbox: SandboxHandle,
) -> None:
    lessons = demo_lessons()
    status, _, _ = push(sandbox.base_url)
    assert status == 0
    target = results.line_item_id(APP_ID, lessons[0])
    with client_for(sandbox.base_url) as client:
        client.put_line_item({**sandbox.state.gradebook.line_items[target], "title": "Old"})
        # A result held on this computer for a line item that was missing.
        with Database.open(paths.database_path("sandbox"), "sandbox") as db:
            queue_results(db, ["not-pushed-yet"])
            held = deliver_results(db, client, datetime.now(UTC))
            assert held.held == 1
    status, out, _ = push(sandbox.base_url)
    assert status == 0 and "1 updated" in out
    assert any(line.startswith("updated") and target in line for line in out.splitlines())
    assert sandbox.state.gradebook.line_items[target]["title"] != "Old"
    # its line item is still not there (no such lesson): held again, and said so
    assert "0 held result(s) delivered; 1 still waiting" in out
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        row = next(r for r in outbox.list_items(db) if r.kind == RESULT_KIND)
        assert row.state == "held"
        assert row.hold_reason is not None and row.hold_reason.startswith(HELD_REASON)


def test_push_delivers_the_results_it_was_holding_at_once(sandbox: SandboxHandle) -> None:
    lessons = demo_lessons()
    with client_for(sandbox.base_url) as client, \
            Database.open(paths.database_path("sandbox"), "sandbox") as db:
        queue_results(db, [lessons[1]])
        assert deliver_results(db, client, datetime.now(UTC)).held == 1  # no line items yet
    status, out, _ = push(sandbox.base_url)
    assert status == 0 and "1 held result(s) delivered" in out
    with Database.open(paths.database_path("sandbox"), "sandbox") as db:
        row = next(r for r in outbox.list_items(db) if r.kind == RESULT_KIND)
        assert row.state == "delivered"
    assert row.event_id in sandbox.state.gradebook.results


def test_push_without_a_sandbox_address_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COMPANION_SANDBOX_URL", raising=False)
    monkeypatch.delenv("COMPANION_SANDBOX_BASE_URL", raising=False)
    status, _, err = push(None)
    assert status == 2 and "companion sandbox" in err


def test_app_config_prints_the_manifest_from_library_and_config(
    sandbox: SandboxHandle,
) -> None:
    assert push(sandbox.base_url)[0] == 0
    out = io.StringIO()
    args = argparse.Namespace(port=47000, lessons=None)
    assert app_config.run(args, stdout=out) == 0
    manifest = json.loads(out.getvalue())
    assert manifest["name"] == "Timeback Companion" and manifest["sensor"].startswith("https://")
    assert manifest["launchUrl"] == "http://127.0.0.1:47000/lti/launch"
    assert manifest["loginUrl"] == "http://127.0.0.1:47000/lti/login"
    course = manifest["courses"][0]
    assert course["id"] == "demo-course-1" and course["grade"] == "05"
    assert course["sourcedIds"] == {"sandbox": "demo-course-1", "staging": None,
                                    "production": None}
    assert course["dailyGoalXp"] > 0 and course["subjects"]
    assert [lesson["id"] for lesson in course["lessons"]] == demo_lessons()
