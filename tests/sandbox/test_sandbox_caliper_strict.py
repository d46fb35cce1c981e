"""The sandbox's Caliper checks where the hand-written rules used to differ from the
standard: valid shapes it refused, invalid ones it let through. Each case starts from an
official valid fixture and changes one thing, so the change alone decides."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from companion.sandbox import caliper_rules
from companion.sandbox.caliper_schema import alternatives, defined_by, schema_violations
from tests.conftest import SHARED

FIXTURES = SHARED / "conformance/caliper/fixtures/v1p2"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def test_an_integer_frame_index_is_accepted() -> None:
    frame = {"@context": "http://purl.imsglobal.org/ctx/caliper/v1p2",
             "id": "https://example.edu/etexts/201.epub#epubcfi(/4/3)", "type": "Frame",
             "isPartOf": "https://example.edu/etexts/201.epub", "index": 1}
    assert caliper_rules.check_entity(frame) == []
    assert defined_by("Frame", "index") == "http://www.w3.org/2001/XMLSchema#long"
    frame["index"] = "1"
    assert caliper_rules.check_entity(frame) != []


def test_a_view_event_may_view_a_result() -> None:
    event = fixture("caliperEventViewViewedDocument.json")
    event["object"] = fixture("caliperEntityResult.json")
    del event["object"]["@context"]
    assert caliper_rules.check_event(event) == []


def test_a_metric_without_a_value_is_refused() -> None:
    measure = fixture("caliperEntityAggregateMeasure.json")
    assert caliper_rules.check_entity(measure) == []
    del measure["metricValue"]
    assert ("metricValue", "is required") in caliper_rules.check_entity(measure)


def test_is_ordered_selection_must_be_a_boolean() -> None:
    scale = fixture("caliperEntityMultiselectScale.json")
    assert caliper_rules.check_entity(scale) == []
    scale["isOrderedSelection"] = 0
    problems = caliper_rules.check_entity(scale)
    assert any(path == "isOrderedSelection" for path, _ in problems), problems


@pytest.mark.parametrize("name", ["caliperEntityResult.json", "caliperEntityScore.json"])
def test_a_null_attempt_is_refused(name: str) -> None:
    entity = fixture(name)
    assert caliper_rules.check_entity(entity) == []
    entity["attempt"] = None
    assert ("attempt", "must not be null") in caliper_rules.check_entity(entity)


def test_a_session_user_is_a_person() -> None:
    session = fixture("caliperEntitySession.json")
    assert caliper_rules.check_entity(session) == []
    session["user"] = {"id": "https://example.edu/app", "type": "SoftwareApplication"}
    assert any(path == "user" for path, _ in caliper_rules.check_entity(session))


def test_feedback_targets_a_frame_not_a_person() -> None:
    event = fixture("caliperEventFeedbackRanked.json")
    assert caliper_rules.check_event(event) == []
    event["target"] = {"id": "https://example.edu/users/554433", "type": "Person"}
    assert any(path == "target" for path, _ in caliper_rules.check_event(event))


def test_the_schemas_are_shipped_and_resolve_by_type_name() -> None:
    assert "Person" in alternatives("Session", "user")
    assert schema_violations({"type": "Person", "id": 7}, "Person") != []
    folder = Path(caliper_rules.__file__).parent / "caliper_schemas"
    assert (folder / "LICENSE-caliper-spec.md").exists()
    assert len(list(folder.glob("*.json"))) == 110


def test_the_entity_model_is_read_from_the_schemas() -> None:
    from companion.sandbox.caliper_schema import entity_model, enums

    model = entity_model()
    assert model["Frame"]["index"] == "integer"  # xsd:long
    assert model["AssignableDigitalResource"]["maxScore"] == "number"  # xsd:decimal
    assert model["MultiselectScale"]["isOrderedSelection"] == "boolean"  # by its title
    assert model["Result"]["attempt"] == "ref:Attempt"
    assert model["Session"]["user"].startswith("ref:") and "Person" in model["Session"]["user"]
    assert enums()["Metric"][:2] == ("AssessmentsPassed", "AssessmentsSubmitted")
    assert not any(name.endswith("Event") for name in model)


def test_date_times_are_checked_by_the_schemas() -> None:
    session = fixture("caliperEntitySession.json")
    session["dateCreated"] = "yesterday"
    assert any("date-time" in message for _, message in schema_violations(session, "Session"))
