"""Caliper events in the Timeback profile: schema-valid, complete and deterministic."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from companion.core.caliper import (
    CALIPER_CONTEXT,
    DEFAULT_APP,
    ActivityInfo,
    Actor,
    AppInfo,
    MissingEmail,
    RunInfo,
    activity_completed_event,
    component_url,
    course_url,
    envelope,
    format_timestamp,
    new_event_id,
    time_spent_event,
    user_url,
)
from tests.schemas import validate, validator

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
URN_UUID = re.compile(r"^urn:uuid:([0-9a-f-]{36})$")
RUN_ID = "0b7c2f4e-8a59-4d2b-9a61-3f1c2e5d7a90"
BASE = "https://api.alpha-1edtech.com"
ANCHOR = datetime(2025, 3, 14, 9, 26, 53, 589_793, tzinfo=UTC)


@pytest.fixture
def run() -> RunInfo:
    return RunInfo(
        run_id=RUN_ID,
        anchor=ANCHOR,
        attempt=2,
        actor=Actor(user_url(BASE, "stu-42"), "ada@example.org", name="Ada L."),
        activity=ActivityInfo(
            subject="Math",
            course_id_url=course_url(BASE, "math-g3"),
            course_name="Math G3",
            activity_id_url=component_url(BASE, "lesson-7"),
            activity_name="Fractions 7",
        ),
        app=AppInfo(
            sensor="https://companion.example.org/sensors/pc-12",
            app_id="https://companion.example.org",
            app_name="Companion Test",
        ),
    )


WINDOW_TOTALS: dict[tuple[str, str | None], int] = {
    ("active", None): 31_234,
    ("inactive", "idle"): 10_000,
    ("inactive", "locked"): 5_500,
    ("waste", "focus-lost:Minecraft"): 8_266,
    ("waste", "focus-lost"): 4_000,
    ("unknown", None): 1_000,
}  # 60 000 ms


def _seconds_to_ms(value: Any) -> int:
    ms = Decimal(str(value)) * 1000
    assert ms == ms.to_integral_value(), f"{value} has more than three decimals"
    return int(ms)


def _assert_uuid_urn(value: str) -> None:
    match = URN_UUID.match(value)
    assert match, value
    assert str(uuid.UUID(match.group(1))) == match.group(1)


# --- TimeSpentEvent ---------------------------------------------------------------------


def test_time_spent_event_is_valid_against_timeback_schema(shared: Path, run: RunInfo) -> None:
    event = time_spent_event(run, 60_000, 120_000, WINDOW_TOTALS)
    validate(shared, "TimebackTimeSpentEvent", event)


def test_time_spent_event_envelope_fields(run: RunInfo) -> None:
    event = time_spent_event(run, 60_000, 120_000, WINDOW_TOTALS)

    _assert_uuid_urn(event["id"])
    assert event["@context"] == "http://purl.imsglobal.org/ctx/caliper/v1p2"
    assert event["type"] == "TimeSpentEvent"
    assert event["action"] == "SpentTime"
    assert event["profile"] == "TimebackProfile"
    assert event["edApp"] == "https://companion.example.org"
    assert event["session"] == f"urn:uuid:{RUN_ID}"
    assert event["eventTime"] == "2025-03-14T09:28:53.589Z"  # anchor + 120 s, end of window
    assert TIMESTAMP.match(event["eventTime"])


def test_actor_is_a_timeback_user_with_roster_url_email_and_role(run: RunInfo) -> None:
    actor = time_spent_event(run, 0, 60_000, WINDOW_TOTALS)["actor"]
    assert actor == {
        "id": "https://api.alpha-1edtech.com/ims/oneroster/rostering/v1p2/users/stu-42",
        "type": "TimebackUser",
        "email": "ada@example.org",
        "role": "student",
        "name": "Ada L.",
    }


def test_object_is_an_activity_context_with_process_flag(run: RunInfo) -> None:
    obj = time_spent_event(run, 0, 60_000, WINDOW_TOTALS)["object"]
    rostering = "https://api.alpha-1edtech.com/ims/oneroster/rostering/v1p2"
    assert obj == {
        "id": f"{rostering}/courses/components/lesson-7",
        "type": "TimebackActivityContext",
        "subject": "Math",
        "app": {"id": "https://companion.example.org", "name": "Companion Test"},
        "course": {"id": f"{rostering}/courses/math-g3", "name": "Math G3"},
        "activity": {"id": f"{rostering}/courses/components/lesson-7", "name": "Fractions 7"},
        "process": True,
    }


def test_time_spent_items_carry_categories_subtypes_seconds_and_window_dates(
    run: RunInfo,
) -> None:
    generated = time_spent_event(run, 60_000, 120_000, WINDOW_TOTALS)["generated"]
    assert generated["type"] == "TimebackTimeSpentMetricsCollection"
    _assert_uuid_urn(generated["id"])
    items = generated["items"]

    found = {(i["type"], i.get("subType")): i["value"] for i in items}
    assert found == {
        ("active", None): 31.234,
        ("inactive", "idle"): 10,
        ("inactive", "locked"): 5.5,
        ("waste", "focus-lost"): 4,
        ("waste", "focus-lost:Minecraft"): 8.266,
        ("unknown", None): 1,
    }
    assert {i["type"] for i in items} == {"active", "inactive", "waste", "unknown"}
    for item in items:
        assert item["startDate"] == "2025-03-14T09:27:53.589Z"
        assert item["endDate"] == "2025-03-14T09:28:53.589Z"
        assert "start_date" not in item and "end_date" not in item
    assert sum(_seconds_to_ms(i["value"]) for i in items) == 60_000


def test_time_spent_reports_every_category_even_when_zero(shared: Path, run: RunInfo) -> None:
    event = time_spent_event(run, 0, 15_000, {("active", None): 15_000})
    validate(shared, "TimebackTimeSpentEvent", event)
    values = {(i["type"], i.get("subType")): i["value"] for i in event["generated"]["items"]}
    assert values == {
        ("active", None): 15,
        ("inactive", None): 0,
        ("waste", None): 0,
        ("unknown", None): 0,
    }


@pytest.mark.parametrize(
    "totals",
    [
        {("active", None): 59_999},  # does not fill the window
        {("active", None): 60_001},
        {("active", None): 70_000, ("unknown", None): -10_000},
        {("inactive", "sleeping"): 60_000},
        {("inactive", None): 60_000},
        {("waste", "game"): 60_000},
        {("anti-pattern", None): 60_000},
    ],
)
def test_time_spent_rejects_totals_that_do_not_describe_the_window(
    run: RunInfo, totals: dict[tuple[str, str | None], int]
) -> None:
    with pytest.raises(ValueError):
        time_spent_event(run, 0, 60_000, totals)


def test_time_spent_rejects_an_empty_window(run: RunInfo) -> None:
    with pytest.raises(ValueError):
        time_spent_event(run, 5_000, 5_000, {})


# --- ActivityEvent (Completed) ------------------------------------------------------------


def test_activity_completed_event_is_valid_against_timeback_schema(
    shared: Path, run: RunInfo
) -> None:
    event = activity_completed_event(run, 754_321, 10, 9, Decimal("12.5"), mastered=True)
    validate(shared, "TimebackActivityCompletedEvent", event)


def test_activity_completed_event_fields(run: RunInfo) -> None:
    event = activity_completed_event(run, 754_321, 10, 9, Decimal("12.5"), mastered=True)

    _assert_uuid_urn(event["id"])
    assert event["type"] == "ActivityEvent"
    assert event["action"] == "Completed"
    assert event["profile"] == "TimebackProfile"
    assert event["@context"] == CALIPER_CONTEXT
    assert event["session"] == f"urn:uuid:{RUN_ID}"
    assert event["edApp"] == "https://companion.example.org"
    assert event["eventTime"] == "2025-03-14T09:39:27.910Z"  # 53.589 + 754.321 s
    assert event["object"]["process"] is True
    assert event["actor"]["email"] == "ada@example.org"

    generated = event["generated"]
    assert generated["type"] == "TimebackActivityMetricsCollection"
    assert generated["attempt"] == 2
    assert all("attempt" not in item for item in generated["items"])
    assert all(item["type"] != "attempt" for item in generated["items"])
    assert {i["type"]: i["value"] for i in generated["items"]} == {
        "totalQuestions": 10,
        "correctQuestions": 9,
        "xpEarned": 12.5,
        "masteredUnits": 1,
    }


def test_unmastered_run_reports_zero_mastered_units_and_whole_xp(run: RunInfo) -> None:
    event = activity_completed_event(run, 1_000, 5, 3, Decimal("0"), mastered=False)
    values = {i["type"]: i["value"] for i in event["generated"]["items"]}
    assert values == {"totalQuestions": 5, "correctQuestions": 3, "xpEarned": 0, "masteredUnits": 0}
    assert isinstance(values["xpEarned"], int)


@pytest.mark.parametrize(("questions", "correct", "xp"), [(3, 4, "1"), (-1, 0, "1"), (3, 2, "-1")])
def test_activity_completed_rejects_impossible_numbers(
    run: RunInfo, questions: int, correct: int, xp: str
) -> None:
    with pytest.raises(ValueError):
        activity_completed_event(run, 1_000, questions, correct, Decimal(xp), mastered=False)


# --- envelope -------------------------------------------------------------------------------


def test_envelope_of_both_events_is_valid(shared: Path, run: RunInfo) -> None:
    events = [
        time_spent_event(run, 0, 60_000, WINDOW_TOTALS),
        activity_completed_event(run, 60_000, 4, 4, Decimal("1.2"), mastered=True),
    ]
    sent = datetime(2025, 3, 14, 11, 0, 0, 123_999, tzinfo=timezone(timedelta(hours=2)))
    env = envelope(run.app.sensor, sent, events)
    validate(shared, "Envelope", env)
    assert env["sensor"] == "https://companion.example.org/sensors/pc-12"
    assert env["sendTime"] == "2025-03-14T09:00:00.123Z"
    assert env["dataVersion"] == "http://purl.imsglobal.org/ctx/caliper/v1p2"
    assert env["data"] == events


def test_envelope_needs_an_event() -> None:
    with pytest.raises(ValueError):
        envelope(DEFAULT_APP.sensor, ANCHOR, [])


def test_envelope_holds_at_most_100_events_and_copies_them() -> None:
    events = [{"id": f"urn:uuid:00000000-0000-4000-8000-{n:012d}"} for n in range(101)]
    with pytest.raises(ValueError, match="1 to 100"):
        envelope(DEFAULT_APP.sensor, ANCHOR, events)
    env = envelope(DEFAULT_APP.sensor, ANCHOR, events[:100])
    assert env["data"] == events[:100] and env["data"][0] is not events[0]


def test_default_app_ids_are_uris_the_schema_accepts(shared: Path) -> None:
    env_validator = validator(shared, "Envelope")
    assert env_validator.is_valid(
        {
            "sensor": DEFAULT_APP.sensor,
            "sendTime": format_timestamp(ANCHOR, 0),
            "dataVersion": CALIPER_CONTEXT,
            "data": [{"id": DEFAULT_APP.app_id, "type": "SoftwareApplication"}],
        }
    )


def test_schema_helper_rejects_a_broken_event(shared: Path, run: RunInfo) -> None:
    event = time_spent_event(run, 0, 60_000, WINDOW_TOTALS)
    event["actor"] = {**event["actor"], "email": "not-an-email"}
    event["eventTime"] = "yesterday"
    errors = list(validator(shared, "TimebackTimeSpentEvent").iter_errors(event))
    assert len(errors) == 2


# --- missing email --------------------------------------------------------------------------


@pytest.mark.parametrize("email", [None, "", "   "])
def test_missing_email_blocks_both_events(run: RunInfo, email: str | None) -> None:
    nameless = replace(run, actor=replace(run.actor, email=email))
    with pytest.raises(MissingEmail) as exc:
        time_spent_event(nameless, 0, 60_000, WINDOW_TOTALS)
    assert exc.value.user_url == run.actor.user_url
    with pytest.raises(MissingEmail):
        activity_completed_event(nameless, 60_000, 1, 1, Decimal("1"), mastered=True)


# --- ids ------------------------------------------------------------------------------------


def test_every_event_and_collection_gets_a_fresh_version_4_uuid(run: RunInfo) -> None:
    first = time_spent_event(run, 0, 60_000, WINDOW_TOTALS)
    again = time_spent_event(replace(run), 0, 60_000, dict(WINDOW_TOTALS))
    completed = activity_completed_event(run, 120_000, 1, 1, Decimal("1"), mastered=True)
    ids = [first["id"], first["generated"]["id"], again["id"], again["generated"]["id"],
           completed["id"], completed["generated"]["id"]]
    assert len(set(ids)) == len(ids)  # building twice makes a new event, never the old id
    for text in ids:
        assert text.startswith("urn:uuid:")
        assert uuid.UUID(text.removeprefix("urn:uuid:")).version == 4
    without = {k: v for k, v in first.items() if k not in ("id", "generated")}
    assert without == {k: v for k, v in again.items() if k not in ("id", "generated")}


def test_ids_come_from_the_given_maker(run: RunInfo) -> None:
    made = iter(f"urn:uuid:{uuid.UUID(int=n)}" for n in range(1, 5))
    event = activity_completed_event(run, 1_000, 1, 1, Decimal("1"), mastered=True,
                                     new_id=lambda: next(made))
    assert event["generated"]["id"] == f"urn:uuid:{uuid.UUID(int=1)}"
    assert event["id"] == f"urn:uuid:{uuid.UUID(int=2)}"
    assert new_event_id() != new_event_id()


# --- timestamps and URLs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "t_ms", "expected"),
    [
        (ANCHOR, 0, "2025-03-14T09:26:53.589Z"),
        (ANCHOR, 1, "2025-03-14T09:26:53.590Z"),
        (ANCHOR, 86_400_000, "2025-03-15T09:26:53.589Z"),
        (datetime(2024, 12, 31, 23, 59, 59, tzinfo=UTC), 1_500, "2025-01-01T00:00:00.500Z"),
        (
            datetime(2025, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=-5))),
            250,
            "2025-06-01T13:00:00.250Z",
        ),
    ],
)
def test_format_timestamp(anchor: datetime, t_ms: int, expected: str) -> None:
    assert format_timestamp(anchor, t_ms) == expected
    assert TIMESTAMP.match(format_timestamp(anchor, t_ms))


def test_naive_anchor_is_refused(run: RunInfo) -> None:
    naive = datetime(2025, 1, 1, 12, 0)
    with pytest.raises(ValueError):
        format_timestamp(naive, 0)
    with pytest.raises(ValueError):
        replace(run, anchor=naive)


def test_roster_urls() -> None:
    assert user_url("https://x.example/", "a b") == (
        "https://x.example/ims/oneroster/rostering/v1p2/users/a%20b"
    )
    assert course_url("https://x.example", "c1") == (
        "https://x.example/ims/oneroster/rostering/v1p2/courses/c1"
    )


def test_subject_and_role_come_from_the_schema_lists(run: RunInfo) -> None:
    with pytest.raises(ValueError):
        replace(run.activity, subject="History")
    with pytest.raises(ValueError):
        replace(run.actor, role="parent")
