"""OneRoster 1.2 rostering client: single and list reads, filters, pagination, roster pull."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import httpx

from ._errors import (
    AmbiguousUserError,
    MalformedResponseError,
    UserNotFoundError,
)
from ._filters import Filter, any_of, eq
from ._records import (
    AcademicSession,
    Class,
    Course,
    Enrollment,
    Org,
    Raw,
    Roster,
    User,
    build,
)
from ._transport import ServiceClient, json_object

log = logging.getLogger("companion.timeback.oneroster")

ROSTERING_PATH = "/ims/oneroster/rostering/v1p2"
MAX_PAGE_SIZE = 3000
ID_CHUNK = 40  # sourcedIds per OR-filter when fetching records by id (keeps URLs short)

R = TypeVar("R")


@dataclass(frozen=True)
class Query:
    """List parameters: filter, sort, orderBy, fields; ``page_size`` is the ``limit`` sent
    per page and ``max_items`` stops reading early."""

    filter: Filter | str | None = None
    sort: str | None = None
    order_by: str | None = None  # "asc" | "desc"
    fields: tuple[str, ...] | None = None
    page_size: int = MAX_PAGE_SIZE
    max_items: int | None = None

    def params(self) -> dict[str, Any]:
        if self.order_by not in (None, "asc", "desc"):
            raise ValueError(f"orderBy must be 'asc' or 'desc', not {self.order_by!r}")
        if not 1 <= self.page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1..{MAX_PAGE_SIZE}")
        params: dict[str, Any] = {"limit": self.page_size}
        if self.filter is not None:
            params["filter"] = str(self.filter)
        if self.sort:
            params["sort"] = self.sort
        if self.order_by:
            params["orderBy"] = self.order_by
        if self.fields:
            params["fields"] = ",".join(self.fields)
        return params


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _next_link(response: httpx.Response) -> str | None:
    if "link" not in response.headers:
        return None
    for link in response.links.values():
        if link.get("rel") == "next" and link.get("url"):
            return link["url"]
    return None


class OneRosterClient(ServiceClient):
    """Reads OneRoster 1.2 rostering data from ``base_url`` (the host root).

    ``auth`` is normally a ``ClientCredentialsAuth``; ``transport`` is the test seam.
    """

    def __init__(
        self,
        base_url: str,
        *,
        auth: httpx.Auth | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        super().__init__(base_url, auth=auth, transport=transport, timeout=timeout)
        self.requests_made = 0

    # --- generic reads ---------------------------------------------------------------------

    def _get(self, url: str, params: dict[str, Any] | None = None) -> httpx.Response:
        self.requests_made += 1
        return self._http.request("GET", url, params=params)

    def get_record(self, path: str, key: str, factory: Callable[[Raw], R]) -> R:
        """GET ``{rostering}/{path}`` and build the record under ``key``."""
        body = json_object(self._get(f"{ROSTERING_PATH}/{path}"))
        if key not in body:
            raise MalformedResponseError(f"the answer for {path} lacks {key!r}")
        return build(factory, body[key])

    def iter_records(
        self,
        path: str,
        keys: tuple[str, ...],
        factory: Callable[[Raw], R],
        query: Query | None = None,
    ) -> Iterator[R]:
        """Every record of a collection, page by page.

        The next page comes from the Link header (rel="next") when there is one, else
        from totalCount in the body or X-Total-Count, else from a full page.
        """
        query = query or Query()
        params: dict[str, Any] | None = {**query.params(), "offset": 0}
        url = f"{self._http.base_url}{ROSTERING_PATH}/{path}"
        origin = httpx.URL(self._http.base_url)
        seen_urls: set[str] = set()
        yielded = 0
        offset = 0
        while True:
            response = self._get(url, params)
            body = json_object(response)
            items = next((body[k] for k in keys if isinstance(body.get(k), list)), None)
            if items is None:
                raise MalformedResponseError(
                    f"the answer for {path} has no list under {' or '.join(keys)}",
                    url=str(response.request.url),
                )
            for raw in items:
                yield build(factory, raw)
                yielded += 1
                if query.max_items is not None and yielded >= query.max_items:
                    return
            if not items:
                return
            offset += len(items)
            link = _next_link(response)
            if link is not None:
                target = origin.join(link)
                if (target.scheme, target.host, target.port) != (
                    origin.scheme, origin.host, origin.port
                ):
                    raise MalformedResponseError(f"next page link leaves the server: {link}")
                if str(target) in seen_urls:
                    raise MalformedResponseError(f"next page link repeats itself: {link}")
                seen_urls.add(str(target))
                url, params = str(target), None
                continue
            if "link" in response.headers:
                return  # a Link header without rel="next": this was the last page
            total = _int_or_none(body.get("totalCount"))
            if total is None:
                total = _int_or_none(response.headers.get("x-total-count"))
            if total is not None:
                if offset >= total:
                    return
            else:
                served_limit = _int_or_none(body.get("limit")) or query.page_size
                if len(items) < served_limit:
                    return
            params = {**query.params(), "offset": offset}
            url = f"{self._http.base_url}{ROSTERING_PATH}/{path}"

    def list_records(
        self,
        path: str,
        keys: tuple[str, ...],
        factory: Callable[[Raw], R],
        query: Query | None = None,
    ) -> list[R]:
        return list(self.iter_records(path, keys, factory, query))

    # --- users --------------------------------------------------------------------------------

    def get_user(self, sourced_id: str) -> User:
        return self.get_record(f"users/{_seg(sourced_id)}", "user", User.from_raw)

    def list_users(self, query: Query | None = None) -> list[User]:
        return self.list_records("users", ("users",), User.from_raw, query)

    def get_student(self, sourced_id: str) -> User:
        return self.get_record(f"students/{_seg(sourced_id)}", "user", User.from_raw)

    def list_students(self, query: Query | None = None) -> list[User]:
        return self.list_records("students", ("users",), User.from_raw, query)

    def get_teacher(self, sourced_id: str) -> User:
        return self.get_record(f"teachers/{_seg(sourced_id)}", "user", User.from_raw)

    def list_teachers(self, query: Query | None = None) -> list[User]:
        return self.list_records("teachers", ("users",), User.from_raw, query)

    def find_user_by_email(self, email: str) -> User:
        """The one user with this email; UserNotFoundError or AmbiguousUserError otherwise."""
        users = self.list_users(Query(filter=eq("email", email), page_size=10, max_items=10))
        # Compare exactly: servers differ on case folding, and a match must not be widened.
        matches = [u for u in users if (u.email or "").casefold() == email.casefold()]
        if not matches:
            raise UserNotFoundError(f"no user with email {email!r}")
        if len(matches) > 1:
            ids = [u.sourced_id for u in matches]
            raise AmbiguousUserError(
                f"{len(matches)} users have email {email!r}: {', '.join(ids)}", sourced_ids=ids
            )
        return matches[0]

    # --- classes, enrollments, orgs, courses, sessions ----------------------------------------

    def get_class(self, sourced_id: str) -> Class:
        return self.get_record(f"classes/{_seg(sourced_id)}", "class", Class.from_raw)

    def list_classes(self, query: Query | None = None) -> list[Class]:
        return self.list_records("classes", ("classes",), Class.from_raw, query)

    def classes_for_school(self, school_id: str, query: Query | None = None) -> list[Class]:
        return self.list_records(
            f"schools/{_seg(school_id)}/classes", ("classes",), Class.from_raw, query
        )

    def classes_for_user(self, user_id: str, query: Query | None = None) -> list[Class]:
        return self.list_records(
            f"users/{_seg(user_id)}/classes", ("classes",), Class.from_raw, query
        )

    def students_for_class(self, class_id: str, query: Query | None = None) -> list[User]:
        # The 1.2 binding names the list "users"; Timeback's description says "students".
        return self.list_records(
            f"classes/{_seg(class_id)}/students", ("users", "students"), User.from_raw, query
        )

    def teachers_for_class(self, class_id: str, query: Query | None = None) -> list[User]:
        return self.list_records(
            f"classes/{_seg(class_id)}/teachers", ("users", "teachers"), User.from_raw, query
        )

    def get_enrollment(self, sourced_id: str) -> Enrollment:
        return self.get_record(
            f"enrollments/{_seg(sourced_id)}", "enrollment", Enrollment.from_raw
        )

    def list_enrollments(self, query: Query | None = None) -> list[Enrollment]:
        return self.list_records("enrollments", ("enrollments",), Enrollment.from_raw, query)

    def enrollments_for_school(
        self, school_id: str, query: Query | None = None
    ) -> list[Enrollment]:
        return self.list_records(
            f"schools/{_seg(school_id)}/enrollments", ("enrollments",), Enrollment.from_raw, query
        )

    def get_org(self, sourced_id: str) -> Org:
        return self.get_record(f"orgs/{_seg(sourced_id)}", "org", Org.from_raw)

    def list_orgs(self, query: Query | None = None) -> list[Org]:
        return self.list_records("orgs", ("orgs",), Org.from_raw, query)

    def get_school(self, sourced_id: str) -> Org:
        return self.get_record(f"schools/{_seg(sourced_id)}", "org", Org.from_raw)

    def list_schools(self, query: Query | None = None) -> list[Org]:
        return self.list_records("schools", ("orgs",), Org.from_raw, query)

    def get_course(self, sourced_id: str) -> Course:
        return self.get_record(f"courses/{_seg(sourced_id)}", "course", Course.from_raw)

    def list_courses(self, query: Query | None = None) -> list[Course]:
        return self.list_records("courses", ("courses",), Course.from_raw, query)

    def get_academic_session(self, sourced_id: str) -> AcademicSession:
        return self.get_record(
            f"academicSessions/{_seg(sourced_id)}", "academicSession", AcademicSession.from_raw
        )

    def list_academic_sessions(self, query: Query | None = None) -> list[AcademicSession]:
        return self.list_records(
            "academicSessions", ("academicSessions",), AcademicSession.from_raw, query
        )

    # --- by id --------------------------------------------------------------------------------

    def _by_ids(
        self, path: str, key: str, factory: Callable[[Raw], R], ids: list[str]
    ) -> list[R]:
        out: list[R] = []
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start:start + ID_CHUNK]
            out.extend(self.iter_records(path, (key,), factory,
                                         Query(filter=any_of("sourcedId", chunk))))
        return out

    def users_by_ids(self, ids: list[str]) -> list[User]:
        """The users with these sourcedIds (unknown ids are skipped)."""
        return self._by_ids("users", "users", User.from_raw, ids)

    def courses_by_ids(self, ids: list[str]) -> list[Course]:
        """The courses with these sourcedIds (unknown ids are skipped)."""
        return self._by_ids("courses", "courses", Course.from_raw, ids)

    # --- roster -------------------------------------------------------------------------------

    def pull_school_roster(self, school_id: str) -> Roster:
        """The school's org, classes, their enrollments, the enrolled users and the courses."""
        org = self.get_school(school_id)
        classes = self.classes_for_school(school_id)
        class_ids = {c.sourced_id for c in classes}
        enrollments = [
            e for e in self.enrollments_for_school(school_id)
            if e.class_sourced_id in class_ids
        ]
        wanted = {e.user_sourced_id for e in enrollments if e.user_sourced_id}
        users: dict[str, User] = {}
        for path in (f"schools/{_seg(school_id)}/students", f"schools/{_seg(school_id)}/teachers"):
            for user in self.iter_records(path, ("users", "students", "teachers"),
                                          User.from_raw):
                if user.sourced_id in wanted:
                    users[user.sourced_id] = user
        missing = sorted(wanted - users.keys())
        if missing:
            log.info("fetching %d enrolled users outside the school lists", len(missing))
            for user in self.users_by_ids(missing):
                users[user.sourced_id] = user
        course_ids = sorted({c.course_sourced_id for c in classes if c.course_sourced_id})
        courses = self.courses_by_ids(course_ids) if course_ids else []
        return Roster(
            org=org,
            classes=tuple(classes),
            enrollments=tuple(enrollments),
            users=tuple(sorted(users.values(), key=lambda u: u.sourced_id)),
            courses=tuple(courses),
        )


def _seg(sourced_id: str) -> str:
    """A sourcedId as one URL path segment."""
    if not sourced_id:
        raise ValueError("sourcedId must not be empty")
    return quote(sourced_id, safe="")
