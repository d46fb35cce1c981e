"""OneRoster 1.2 rostering endpoints (read-only) over the sandbox's seeded roster."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from companion.sandbox import filters
from companion.sandbox.responses import imsx_error
from companion.sandbox.seed import BASE_PATH, Record, Roster

# Fields a client may filter, sort or select on, per stored collection (OneRoster 1.2).
_COMMON = ("sourcedId", "status", "dateLastModified", "metadata")
FIELDS: dict[str, tuple[str, ...]] = {
    "users": (*_COMMON, "userMasterIdentifier", "username", "userIds", "enabledUser",
              "givenName", "familyName", "middleName", "preferredFirstName",
              "preferredMiddleName", "preferredLastName", "pronouns", "roles", "userProfiles",
              "primaryOrg", "identifier", "email", "sms", "phone", "agents", "grades",
              "resources"),
    "orgs": (*_COMMON, "name", "type", "identifier", "parent", "children"),
    "classes": (*_COMMON, "title", "classCode", "classType", "location", "grades", "subjects",
                "course", "school", "terms", "subjectCodes", "periods", "resources"),
    "enrollments": (*_COMMON, "user", "class", "school", "role", "primary", "beginDate",
                    "endDate"),
    "courses": (*_COMMON, "title", "schoolYear", "courseCode", "grades", "subjects", "org",
                "subjectCodes", "resources"),
    "academicSessions": (*_COMMON, "title", "startDate", "endDate", "type", "parent",
                         "children", "schoolYear"),
}


def _has_role(role: str) -> Callable[[Record], bool]:
    return lambda user: any(r.get("role") == role for r in user.get("roles", []))


@dataclass(frozen=True)
class Endpoint:
    """A public collection: where its records live, which subset, and its JSON keys."""

    store: str
    plural: str
    singular: str
    subset: Callable[[Record], bool] | None = None


ENDPOINTS: dict[str, Endpoint] = {
    "users": Endpoint("users", "users", "user"),
    "students": Endpoint("users", "users", "user", _has_role("student")),
    "teachers": Endpoint("users", "users", "user", _has_role("teacher")),
    "orgs": Endpoint("orgs", "orgs", "org"),
    "schools": Endpoint("orgs", "orgs", "org", lambda org: org.get("type") == "school"),
    "classes": Endpoint("classes", "classes", "class"),
    "enrollments": Endpoint("enrollments", "enrollments", "enrollment"),
    "courses": Endpoint("courses", "courses", "course"),
    "academicSessions": Endpoint("academicSessions", "academicSessions", "academicSession"),
}


class RosterIndex:
    """The roster with lookups by sourcedId."""

    def __init__(self, roster: Roster) -> None:
        self.roster = {name: list(roster.get(name, [])) for name in FIELDS}
        self.by_id = {
            name: {record["sourcedId"]: record for record in records}
            for name, records in self.roster.items()
        }

    def records(self, endpoint: Endpoint) -> list[Record]:
        """All records of a public collection, in stored order."""
        records = self.roster[endpoint.store]
        return [r for r in records if endpoint.subset(r)] if endpoint.subset else records

    def get(self, endpoint: Endpoint, sourced_id: str) -> Record | None:
        """One record of a public collection, or None."""
        record = self.by_id[endpoint.store].get(sourced_id)
        if record is None or (endpoint.subset and not endpoint.subset(record)):
            return None
        return record

    def enrolled(self, class_id: str, role: str) -> list[Record]:
        """Users enrolled in a class with a role."""
        ids = [e["user"]["sourcedId"] for e in self.roster["enrollments"]
               if e["class"]["sourcedId"] == class_id and e["role"] == role]
        return [self.by_id["users"][i] for i in ids if i in self.by_id["users"]]

    def classes_of_user(self, user_id: str) -> list[Record]:
        """Classes a user is enrolled in."""
        ids = {e["class"]["sourcedId"] for e in self.roster["enrollments"]
               if e["user"]["sourcedId"] == user_id}
        return [c for c in self.roster["classes"] if c["sourcedId"] in ids]


def list_response(request: Request, endpoint: Endpoint, records: list[Record]) -> Response:
    """Apply the query parameters and answer with a page of records plus pagination."""
    params = request.query_params
    allowed = FIELDS[endpoint.store]
    try:
        if params.get("filter"):
            predicate = filters.parse_filter(params["filter"], allowed)
            records = [r for r in records if predicate(r)]
        records = filters.sort_records(records, params.get("sort"), params.get("orderBy"),
                                       allowed)
        fields = filters.parse_fields(params.get("fields"), allowed)
        limit, offset = filters.parse_window(params.get("limit"), params.get("offset"))
    except filters.QueryError as exc:
        return imsx_error(400, exc.code, exc.description)
    total = len(records)
    page = [filters.project(r, fields) for r in records[offset:offset + limit]]
    body: dict[str, Any] = {endpoint.plural: page, **filters.list_window(total, limit, offset)}
    headers = {"X-Total-Count": str(total), "Link": _link_header(request, total, limit, offset)}
    return JSONResponse(body, headers=headers)


def _link_header(request: Request, total: int, limit: int, offset: int) -> str:
    def url(new_offset: int) -> str:
        query = dict(request.query_params)
        query.update(limit=str(limit), offset=str(new_offset))
        return f"{request.url.replace(query=urlencode(query))}"

    last = max(0, ((total - 1) // limit) * limit) if total else 0
    links = []
    if offset + limit < total:
        links.append(f'<{url(offset + limit)}>; rel="next"')
    if offset > 0:
        links.append(f'<{url(max(0, offset - limit))}>; rel="prev"')
    links.append(f'<{url(0)}>; rel="first"')
    links.append(f'<{url(last)}>; rel="last"')
    return ", ".join(links)


def _not_found(kind: str, sourced_id: str) -> Response:
    return imsx_error(404, "unknownobject", f"{kind} {sourced_id!r} not found")


def routes(index: RosterIndex) -> list[Route]:
    """The OneRoster rostering routes under /ims/oneroster/rostering/v1p2."""

    def collection(name: str) -> Callable[[Request], Any]:
        endpoint = ENDPOINTS[name]

        async def handler(request: Request) -> Response:
            return list_response(request, endpoint, index.records(endpoint))

        return handler

    def single(name: str) -> Callable[[Request], Any]:
        endpoint = ENDPOINTS[name]

        async def handler(request: Request) -> Response:
            sourced_id = request.path_params["sourced_id"]
            record = index.get(endpoint, sourced_id)
            if record is None:
                return _not_found(endpoint.singular, sourced_id)
            fields_text = request.query_params.get("fields")
            try:
                fields = filters.parse_fields(fields_text, FIELDS[endpoint.store])
            except filters.QueryError as exc:
                return imsx_error(400, exc.code, exc.description)
            return JSONResponse({endpoint.singular: filters.project(record, fields)})

        return handler

    def nested(parent: str, child: str, find: Callable[[str], list[Record]]
               ) -> Callable[[Request], Any]:
        parent_endpoint = ENDPOINTS[parent]
        child_endpoint = ENDPOINTS[child]

        async def handler(request: Request) -> Response:
            sourced_id = request.path_params["sourced_id"]
            if index.get(parent_endpoint, sourced_id) is None:
                return _not_found(parent_endpoint.singular, sourced_id)
            return list_response(request, child_endpoint, find(sourced_id))

        return handler

    def school_classes(school_id: str) -> list[Record]:
        return [c for c in index.roster["classes"] if c["school"]["sourcedId"] == school_id]

    def school_users(role: str) -> Callable[[str], list[Record]]:
        def find(school_id: str) -> list[Record]:
            return [u for u in index.roster["users"]
                    if any(r.get("role") == role and r["org"]["sourcedId"] == school_id
                           for r in u.get("roles", []))]
        return find

    def school_enrollments(school_id: str) -> list[Record]:
        return [e for e in index.roster["enrollments"] if e["school"]["sourcedId"] == school_id]

    def class_enrollments(class_id: str) -> list[Record]:
        return [e for e in index.roster["enrollments"] if e["class"]["sourcedId"] == class_id]

    def course_classes(course_id: str) -> list[Record]:
        return [c for c in index.roster["classes"] if c["course"]["sourcedId"] == course_id]

    result = [
        Route(f"{BASE_PATH}/schools/{{sourced_id}}/classes",
              nested("schools", "classes", school_classes)),
        Route(f"{BASE_PATH}/schools/{{sourced_id}}/students",
              nested("schools", "students", school_users("student"))),
        Route(f"{BASE_PATH}/schools/{{sourced_id}}/teachers",
              nested("schools", "teachers", school_users("teacher"))),
        Route(f"{BASE_PATH}/schools/{{sourced_id}}/enrollments",
              nested("schools", "enrollments", school_enrollments)),
        Route(f"{BASE_PATH}/classes/{{sourced_id}}/students",
              nested("classes", "students", lambda i: index.enrolled(i, "student"))),
        Route(f"{BASE_PATH}/classes/{{sourced_id}}/teachers",
              nested("classes", "teachers", lambda i: index.enrolled(i, "teacher"))),
        Route(f"{BASE_PATH}/classes/{{sourced_id}}/enrollments",
              nested("classes", "enrollments", class_enrollments)),
        Route(f"{BASE_PATH}/courses/{{sourced_id}}/classes",
              nested("courses", "classes", course_classes)),
        Route(f"{BASE_PATH}/users/{{sourced_id}}/classes",
              nested("users", "classes", index.classes_of_user)),
        Route(f"{BASE_PATH}/students/{{sourced_id}}/classes",
              nested("students", "classes", index.classes_of_user)),
        Route(f"{BASE_PATH}/teachers/{{sourced_id}}/classes",
              nested("teachers", "classes", index.classes_of_user)),
    ]
    for name in ENDPOINTS:
        result.append(Route(f"{BASE_PATH}/{name}", collection(name)))
        result.append(Route(f"{BASE_PATH}/{name}/{{sourced_id}}", single(name)))
    return result
