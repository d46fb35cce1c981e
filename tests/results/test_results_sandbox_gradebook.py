"""The sandbox's gradebook endpoints: PUT by sourcedId, GET, list filters, strictness."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from companion.sandbox.server import SandboxHandle, start_in_thread
from companion.timeback import (
    GradebookClient,
    NotFoundError,
    RejectedError,
    UnauthorisedError,
    auth_for,
    eq,
    sandbox_environment,
)
from tests.results.helpers import client_for

PATH = "/ims/oneroster/gradebook/v1p2"
STUDENT = "demo-student-02"


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_in_thread() as handle:
        yield handle


@pytest.fixture
def client(sandbox: SandboxHandle) -> Iterator[GradebookClient]:
    with client_for(sandbox.base_url) as gradebook:
        yield gradebook


def line_item(sourced_id: str = "li-1", title: str = "Lesson 1") -> dict[str, Any]:
    return {"sourcedId": sourced_id, "status": "active", "title": title,
            "resultValueMin": 0.0, "resultValueMax": 100.0, "metadata": {"xp": 5}}


def result(sourced_id: str, item: str = "li-1", student: str = STUDENT,
           score: float = 90.0) -> dict[str, Any]:
    return {"sourcedId": sourced_id, "status": "active", "assessmentLineItem":
            {"sourcedId": item}, "student": {"sourcedId": student}, "score": score,
            "scoreDate": "2026-01-05T09:10:00.000Z", "scoreStatus": "fully graded",
            "metadata": {"xp": 4}}


def test_put_twice_is_one_record_updated(sandbox: SandboxHandle,
                                         client: GradebookClient) -> None:
    client.put_line_item(line_item())
    client.put_result(result("r-1", score=80.0))
    stored = client.put_result(result("r-1", score=95.0))
    assert stored["score"] == 95.0
    gradebook = sandbox.state.gradebook
    assert list(gradebook.results) == ["r-1"] and gradebook.writes("assessmentResults", "r-1") == 2
    assert client.get_result("r-1")["score"] == 95.0
    assert client.get_line_item("li-1")["title"] == "Lesson 1"
    with pytest.raises(NotFoundError):
        client.get_result("nope")


def test_lists_filter_by_student_and_line_item(client: GradebookClient) -> None:
    client.put_line_item(line_item("li-1"))
    client.put_line_item(line_item("li-2", "Lesson 2"))
    client.put_result(result("r-1", "li-1"))
    client.put_result(result("r-2", "li-2"))
    client.put_result(result("r-3", "li-1", student="demo-student-03"))
    mine = {r["sourcedId"] for r in client.results_for_student(STUDENT)}
    assert mine == {"r-1", "r-2"}
    both = client.list_results(eq("student.sourcedId", STUDENT)
                               & eq("assessmentLineItem.sourcedId", "li-1"))
    assert [r["sourcedId"] for r in both] == ["r-1"]
    assert "studentSourcedId" not in both[0]
    by_item = client.list_results(eq("assessmentLineItemSourcedId", "li-1"))
    assert {r["sourcedId"] for r in by_item} == {"r-1", "r-3"}
    assert {i["sourcedId"] for i in client.list_line_items()} == {"li-1", "li-2"}


@pytest.mark.parametrize(("change", "field"), [
    ({"scoreStatus": None}, "scoreStatus is required"),
    ({"scoreStatus": "done"}, "scoreStatus must be one of"),
    ({"score": "90"}, "score must be a number"),
    ({"scoreDate": "yesterday"}, "scoreDate must be an ISO 8601"),
    ({"student": {"id": "x"}}, "student.sourcedId is required"),
    ({"grade": "A"}, "grade is not a recognised property"),
])
def test_bad_results_are_400_with_imsx(client: GradebookClient, change: dict[str, Any],
                                       field: str) -> None:
    client.put_line_item(line_item())
    body = {k: v for k, v in {**result("r-1"), **change}.items() if v is not None}
    with pytest.raises(RejectedError) as info:
        client.put_result(body)
    assert info.value.status_code == 400 and info.value.imsx is not None
    assert field in info.value.imsx["imsx_description"]


def test_unknown_line_item_or_student_is_422(sandbox: SandboxHandle,
                                             client: GradebookClient) -> None:
    with pytest.raises(RejectedError) as info:
        client.put_result(result("r-1", item="missing"))
    assert info.value.status_code == 422
    client.put_line_item(line_item())
    with pytest.raises(RejectedError):
        client.put_result(result("r-1", student="nobody"))
    assert sandbox.state.gradebook.results == {}


def test_mismatched_sourced_id_and_no_token(sandbox: SandboxHandle) -> None:
    with httpx.Client(base_url=sandbox.base_url) as raw:
        answer = raw.put(f"{PATH}/assessmentLineItems/li-9",
                         json={"assessmentLineItem": line_item("li-1")})
        assert answer.status_code == 401
    auth = auth_for(sandbox_environment(sandbox.base_url))
    with httpx.Client(base_url=sandbox.base_url, auth=auth) as signed:
        answer = signed.put(f"{PATH}/assessmentLineItems/li-9",
                            json={"assessmentLineItem": line_item("li-1")})
        assert answer.status_code == 400
        assert "does not match the path" in answer.json()["imsx_description"]
    assert sandbox.state.gradebook.line_items == {}
    with GradebookClient(sandbox.base_url) as anonymous, pytest.raises(UnauthorisedError):
        anonymous.list_results()
    counts = sandbox.state.request_counts
    assert counts[f"PUT {PATH}/assessmentLineItems/{{sourcedId}}"] == 2
    assert counts[f"GET {PATH}/assessmentResults"] == 1
