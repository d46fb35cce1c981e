"""OneRoster client against an in-memory fake on MockTransport."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from companion.timeback import (
    AmbiguousUserError,
    MalformedResponseError,
    NotFoundError,
    OneRosterClient,
    Query,
    UserNotFoundError,
    eq,
)

BASE = "https://api.example.test"
PREFIX = "/ims/oneroster/rostering/v1p2"


def _user(i: int, *, email: str | None = None, role: str = "student",
          school: str = "s1") -> dict[str, Any]:
    return {
        "sourcedId": f"u{i:03d}", "status": "active", "enabledUser": "true",
        "givenName": f"Given{i}", "familyName": "O'Brien" if i == 7 else f"Family{i}",
        "email": email or f"u{i}@school.test",
        "roles": [{"roleType": "primary", "role": role,
                   "org": {"sourcedId": school, "type": "org"}}],
        "dateLastModified": "2026-01-01T00:00:00.000Z",
    }


class FakeOneRoster:
    """Serves lists with pagination in one of several styles."""

    def __init__(self, users: list[dict[str, Any]], style: str = "both") -> None:
        self.users = users
        self.style = style  # both | body | link | total-header | none
        self.requests: list[httpx.URL] = []
        self.collections: dict[str, list[dict[str, Any]]] = {"users": users}
        self.singles: dict[str, tuple[str, dict[str, Any]]] = {}

    def page(self, request: httpx.Request, key: str, records: list[dict[str, Any]]
             ) -> httpx.Response:
        limit = int(request.url.params.get("limit", "100"))
        offset = int(request.url.params.get("offset", "0"))
        chunk = records[offset:offset + limit]
        body: dict[str, Any] = {key: chunk}
        headers: dict[str, str] = {}
        if self.style in ("both", "body"):
            body.update(totalCount=len(records), offset=offset, limit=limit)
        if self.style in ("both", "link"):
            links = []
            if offset + limit < len(records):
                nxt = request.url.copy_merge_params({"offset": str(offset + limit)})
                links.append(f'<{nxt}>; rel="next"')
            last = request.url.copy_merge_params(
                {"offset": str(max(0, (len(records) - 1) // limit * limit))})
            links.append(f'<{last}>; rel="last"')
            headers["Link"] = ", ".join(links)
        if self.style in ("both", "total-header"):
            headers["X-Total-Count"] = str(len(records))
        return httpx.Response(200, json=body, headers=headers)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url)
        path = request.url.path.removeprefix(PREFIX + "/")
        if path in self.singles:
            key, record = self.singles[path]
            return httpx.Response(200, json={key: record})
        if path in self.collections:
            records = self.collections[path]
            wanted = request.url.params.get("filter")
            if wanted is not None:
                field, _, value = wanted.partition("=")
                value = value.strip("'").replace("''", "'")
                records = [r for r in records if r.get(field) == value]
            key = path.rsplit("/", 1)[-1]
            key = {"students": "users", "teachers": "users", "schools": "orgs"}.get(key, key)
            return self.page(request, key, records)
        return httpx.Response(404, json={"imsx_codeMajor": "failure",
                                         "imsx_description": f"{path} not found"})

    def client(self) -> OneRosterClient:
        return OneRosterClient(BASE, transport=httpx.MockTransport(self.handler))


USERS = [_user(i) for i in range(250)]


@pytest.mark.parametrize("style", ["both", "body", "link", "total-header", "none"])
def test_pagination_follows_body_or_headers_alone(style: str) -> None:
    fake = FakeOneRoster(USERS, style)
    with fake.client() as client:
        users = client.list_users(Query(page_size=100))
    assert [u.sourced_id for u in users] == [u["sourcedId"] for u in USERS]
    assert len(fake.requests) == 3


@pytest.mark.parametrize(("style", "requests"), [("body", 2), ("link", 2), ("none", 3)])
def test_exact_multiple_of_the_page_size(style: str, requests: int) -> None:
    fake = FakeOneRoster(USERS[:200], style)
    with fake.client() as client:
        assert len(client.list_users(Query(page_size=100))) == 200
    assert len(fake.requests) == requests  # with no totals, an empty page ends the list


def test_query_parameters_are_sent() -> None:
    fake = FakeOneRoster(USERS)
    query = Query(filter=eq("familyName", "O'Brien"), sort="familyName", order_by="desc",
                  fields=("sourcedId", "familyName"), page_size=3000)
    with fake.client() as client:
        users = client.list_users(query)
    params = fake.requests[0].params
    assert params["filter"] == "familyName='O''Brien'"
    assert (params["sort"], params["orderBy"], params["fields"], params["limit"],
            params["offset"]) == ("familyName", "desc", "sourcedId,familyName", "3000", "0")
    assert [u.sourced_id for u in users] == ["u007"]


def test_query_validation() -> None:
    with pytest.raises(ValueError):
        Query(page_size=3001).params()
    with pytest.raises(ValueError):
        Query(order_by="up").params()


def test_max_items_stops_early() -> None:
    fake = FakeOneRoster(USERS)
    with fake.client() as client:
        assert len(client.list_users(Query(page_size=100, max_items=150))) == 150
    assert len(fake.requests) == 2


def test_typed_user_keeps_raw() -> None:
    fake = FakeOneRoster(USERS)
    raw = dict(USERS[7], preferredFirstName="Sam", identifier="ID7",
               userMasterIdentifier="M7", username="sam7", enabledUser="false")
    fake.singles["users/u007"] = ("user", raw)
    with fake.client() as client:
        user = client.get_user("u007")
    assert (user.sourced_id, user.family_name, user.preferred_first_name, user.enabled_user,
            user.identifier, user.user_master_identifier, user.username) == (
        "u007", "O'Brien", "Sam", False, "ID7", "M7", "sam7")
    assert user.role_names == {"student"} and user.roles[0].org_sourced_id == "s1"
    assert user.raw == raw


def test_enabled_user_must_be_a_string_flag() -> None:
    fake = FakeOneRoster(USERS)
    fake.singles["users/u001"] = ("user", dict(USERS[1], enabledUser=True))
    with fake.client() as client, pytest.raises(MalformedResponseError):
        client.get_user("u001")


def test_sourced_id_is_one_path_segment() -> None:
    fake = FakeOneRoster(USERS)
    with fake.client() as client, pytest.raises(NotFoundError):
        client.get_user("../classes/x?y")
    assert fake.requests[0].raw_path.decode() == f"{PREFIX}/users/..%2Fclasses%2Fx%3Fy"


def test_missing_list_key_is_malformed() -> None:
    client = OneRosterClient(BASE, transport=httpx.MockTransport(
        lambda r: httpx.Response(200, json={"students": []})))
    with client, pytest.raises(MalformedResponseError):
        client.list_users()


def test_next_link_to_another_host_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"users": [USERS[0]]},
                              headers={"Link": '<https://evil.test/users?offset=1>; rel="next"'})

    client = OneRosterClient(BASE, transport=httpx.MockTransport(handler))
    with client, pytest.raises(MalformedResponseError, match="leaves the server"):
        client.list_users()


def test_find_user_by_email() -> None:
    users = [_user(1, email="a@x.test"), _user(2, email="dup@x.test"),
             _user(3, email="dup@x.test")]
    fake = FakeOneRoster(users)
    with fake.client() as client:
        assert client.find_user_by_email("a@x.test").sourced_id == "u001"
        with pytest.raises(UserNotFoundError):
            client.find_user_by_email("nobody@x.test")
        with pytest.raises(AmbiguousUserError) as info:
            client.find_user_by_email("dup@x.test")
    assert info.value.sourced_ids == ["u002", "u003"]
    assert fake.requests[0].params["filter"] == "email='a@x.test'"


def test_pull_school_roster() -> None:
    school = {"sourcedId": "s1", "name": "Demo School", "type": "school", "status": "active"}
    classes = [{"sourcedId": f"c{i}", "title": f"Class {i}", "course": {"sourcedId": "k1"},
                "school": {"sourcedId": "s1"}, "terms": [{"sourcedId": "t1"}]}
               for i in range(2)]
    enrollments = [{"sourcedId": f"e{i}", "role": "student", "primary": "false",
                    "user": {"sourcedId": f"u{i:03d}"}, "class": {"sourcedId": f"c{i % 2}"},
                    "school": {"sourcedId": "s1"}} for i in range(5)]
    enrollments.append({"sourcedId": "e-other", "role": "student",
                        "user": {"sourcedId": "u100"}, "class": {"sourcedId": "c-elsewhere"},
                        "school": {"sourcedId": "s1"}})
    fake = FakeOneRoster(USERS)
    fake.singles["schools/s1"] = ("org", school)
    fake.collections.update({
        "schools/s1/classes": classes,
        "schools/s1/enrollments": enrollments,
        "schools/s1/students": USERS[:4],  # u004 is enrolled but not listed here
        "schools/s1/teachers": [],
        "courses": [{"sourcedId": "k1", "title": "Maths", "grades": ["05"]}],
    })

    def by_id_filter(request: httpx.Request) -> httpx.Response:
        # users fetched by id come back through an OR filter of sourcedIds
        if request.url.path.endswith("/users") and "filter" in request.url.params:
            assert request.url.params["filter"] == "sourcedId='u004'"
            return httpx.Response(200, json={"users": [USERS[4]], "totalCount": 1})
        if request.url.path.endswith("/courses"):
            assert request.url.params["filter"] == "sourcedId='k1'"
        return fake.handler(request)

    client = OneRosterClient(BASE, transport=httpx.MockTransport(by_id_filter))
    with client:
        roster = client.pull_school_roster("s1")
    assert roster.org.name == "Demo School"
    assert [c.sourced_id for c in roster.classes] == ["c0", "c1"]
    assert roster.classes[0].term_sourced_ids == ("t1",)
    assert [e.sourced_id for e in roster.enrollments] == ["e0", "e1", "e2", "e3", "e4"]
    assert roster.enrollments[0].primary is False
    assert [u.sourced_id for u in roster.users] == ["u000", "u001", "u002", "u003", "u004"]
    assert [(c.sourced_id, c.grades) for c in roster.courses] == [("k1", ("05",))]
