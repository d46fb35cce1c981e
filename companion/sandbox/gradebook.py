"""OneRoster 1.2 gradebook endpoints: AssessmentLineItems and AssessmentResults.

PUT by sourcedId creates or replaces a record (the same sourcedId twice is one record,
updated); GET one; GET a list with filter/sort/fields/limit/offset. Bodies are checked as
strictly as the rest of the sandbox: a wrong shape is a 400 with an imsx payload naming
the field; a result whose line item or student does not exist is a 422. Every accepted
write is counted per sourcedId, so tests can prove that retries wrote nothing twice.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from companion.sandbox import filters
from companion.sandbox.oneroster import ENDPOINTS, RosterIndex
from companion.sandbox.responses import imsx_error
from companion.sandbox.rules import ObjectRule, check_object

GRADEBOOK_PATH = "/ims/oneroster/gradebook/v1p2"
LINE_ITEMS = "assessmentLineItems"
RESULTS = "assessmentResults"

# (path pattern, fault endpoint name, counted path) for the middleware.
FAULT_ENDPOINTS: list[tuple[str, str, str]] = [
    (rf"^{GRADEBOOK_PATH}/{RESULTS}/[^/]+$", "gradebook.results",
     f"{GRADEBOOK_PATH}/{RESULTS}/{{sourcedId}}"),
    (rf"^{GRADEBOOK_PATH}/{RESULTS}/?$", "gradebook.results", f"{GRADEBOOK_PATH}/{RESULTS}"),
    (rf"^{GRADEBOOK_PATH}/{LINE_ITEMS}/[^/]+$", "gradebook.line_items",
     f"{GRADEBOOK_PATH}/{LINE_ITEMS}/{{sourcedId}}"),
    (rf"^{GRADEBOOK_PATH}/{LINE_ITEMS}/?$", "gradebook.line_items",
     f"{GRADEBOOK_PATH}/{LINE_ITEMS}"),
]

STATUSES = ("active", "tobedeleted")
SCORE_STATUSES = ("exempt", "fully graded", "not submitted", "partially graded", "submitted")
_REF = ObjectRule("GUIDRef", required=("sourcedId",), kinds={"sourcedId": "string"})
_COMMON_KINDS: dict[str, Any] = {"sourcedId": "string", "dateLastModified": "datetime",
                                 "metadata": "object"}

LINE_ITEM_RULE = ObjectRule(
    "AssessmentLineItem",
    required=("status", "title"),
    enums={"status": STATUSES},
    kinds={**_COMMON_KINDS, "title": "string", "description": "string", "class": _REF,
           "parentAssessmentLineItem": _REF, "scoreScale": _REF, "resultValueMin": "number",
           "resultValueMax": "number", "component": _REF, "componentResource": _REF,
           "learningObjectiveSet": "array"},
    closed=True,
)
RESULT_RULE = ObjectRule(
    "AssessmentResult",
    required=("status", "assessmentLineItem", "student", "scoreDate", "scoreStatus"),
    enums={"status": STATUSES, "scoreStatus": SCORE_STATUSES},
    kinds={**_COMMON_KINDS, "assessmentLineItem": _REF, "student": _REF, "score": "number",
           "textScore": "string", "scoreDate": "datetime", "scoreScale": _REF,
           "scorePercentile": "number", "comment": "string", "learningObjectiveSet": "array",
           "inProgress": "string", "incomplete": "string", "late": "string",
           "missing": "string"},
    closed=True,
)

_FIELDS: dict[str, tuple[str, ...]] = {
    LINE_ITEMS: ("sourcedId", "status", "dateLastModified", "metadata", *LINE_ITEM_RULE.kinds),
    RESULTS: ("sourcedId", "status", "dateLastModified", "metadata", *RESULT_RULE.kinds),
}
# Filter names Timeback's guide uses for the nested references of a result.
_RESULT_ALIASES = {"studentSourcedId": "student", "assessmentLineItemSourcedId":
                   "assessmentLineItem"}


def _now() -> str:
    moment = datetime.now(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


class GradebookStore:
    """Line items and results by sourcedId, with a count of accepted writes per record."""

    def __init__(self) -> None:
        self._records: dict[str, dict[str, dict[str, Any]]] = {LINE_ITEMS: {}, RESULTS: {}}
        self._writes: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def put(self, collection: str, record: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """Store a record (replacing one with its sourcedId); (stored copy, created)."""
        with self._lock:
            created = record["sourcedId"] not in self._records[collection]
            stored = {**record, "dateLastModified": _now()}
            self._records[collection][record["sourcedId"]] = stored
            self._writes[(collection, record["sourcedId"])] += 1
            return dict(stored), created

    def get(self, collection: str, sourced_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._records[collection].get(sourced_id)
            return None if found is None else dict(found)

    def all(self, collection: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._records[collection].values()]

    @property
    def line_items(self) -> dict[str, dict[str, Any]]:
        """Stored line items by sourcedId."""
        return {r["sourcedId"]: r for r in self.all(LINE_ITEMS)}

    @property
    def results(self) -> dict[str, dict[str, Any]]:
        """Stored results by sourcedId."""
        return {r["sourcedId"]: r for r in self.all(RESULTS)}

    def writes(self, collection: str, sourced_id: str) -> int:
        """How many PUTs of this record were accepted."""
        with self._lock:
            return self._writes[(collection, sourced_id)]

    def clear(self) -> None:
        """Forget every record and count."""
        with self._lock:
            for records in self._records.values():
                records.clear()
            self._writes.clear()


def _bad_request(violations: list[tuple[str, str]], key: str) -> Response:
    text = "; ".join(f"{key}.{field} {message}" for field, message in violations)
    return imsx_error(400, "invalid_data", text)


async def _read_body(request: Request, key: str) -> dict[str, Any] | Response:
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return imsx_error(400, "invalid_data", "the body is not JSON")
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        return imsx_error(400, "invalid_data", f"the body must be an object with {key!r}")
    record: dict[str, Any] = body[key]
    return record


def routes(store: GradebookStore, roster: RosterIndex) -> list[Route]:
    """The gradebook routes under /ims/oneroster/gradebook/v1p2."""

    def put(collection: str, key: str, rule: ObjectRule,
            check: Callable[[dict[str, Any]], Response | None]) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            sourced_id = request.path_params["sourced_id"]
            record = await _read_body(request, key)
            if isinstance(record, Response):
                return record
            if record.get("sourcedId", sourced_id) != sourced_id:
                return imsx_error(400, "invalid_data",
                                  f"{key}.sourcedId does not match the path ({sourced_id!r})")
            violations = list(check_object(record, rule))
            if violations:
                return _bad_request(violations, key)
            refused = check(record)
            if refused is not None:
                return refused
            stored, _created = store.put(collection, {**record, "sourcedId": sourced_id})
            return JSONResponse({key: stored}, status_code=201)  # created or updated

        return handler

    def get_one(collection: str, key: str, label: str) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            sourced_id = request.path_params["sourced_id"]
            record = store.get(collection, sourced_id)
            if record is None:
                return imsx_error(404, "unknownobject", f"{label} {sourced_id!r} not found")
            try:
                fields = filters.parse_fields(request.query_params.get("fields"),
                                              _FIELDS[collection])
            except filters.QueryError as exc:
                return imsx_error(400, exc.code, exc.description)
            return JSONResponse({key: filters.project(record, fields)})

        return handler

    def listing(collection: str, aliases: dict[str, str]) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            return _list_response(request, collection, store.all(collection), aliases)

        return handler

    def no_line_item_check(record: dict[str, Any]) -> Response | None:
        return None

    def result_check(record: dict[str, Any]) -> Response | None:
        item_id = record["assessmentLineItem"]["sourcedId"]
        if store.get(LINE_ITEMS, item_id) is None:
            return imsx_error(422, "unknownobject",
                              f"assessmentLineItem {item_id!r} does not exist")
        student_id = record["student"]["sourcedId"]
        if roster.get(ENDPOINTS["users"], student_id) is None:
            return imsx_error(422, "unknownobject", f"student {student_id!r} does not exist")
        return None

    base = GRADEBOOK_PATH
    return [
        Route(f"{base}/{LINE_ITEMS}", listing(LINE_ITEMS, {}), methods=["GET"]),
        Route(f"{base}/{LINE_ITEMS}/", listing(LINE_ITEMS, {}), methods=["GET"]),
        Route(f"{base}/{LINE_ITEMS}/{{sourced_id}}",
              get_one(LINE_ITEMS, "assessmentLineItem", "assessment line item"),
              methods=["GET"]),
        Route(f"{base}/{LINE_ITEMS}/{{sourced_id}}",
              put(LINE_ITEMS, "assessmentLineItem", LINE_ITEM_RULE, no_line_item_check),
              methods=["PUT"]),
        Route(f"{base}/{RESULTS}", listing(RESULTS, _RESULT_ALIASES), methods=["GET"]),
        Route(f"{base}/{RESULTS}/", listing(RESULTS, _RESULT_ALIASES), methods=["GET"]),
        Route(f"{base}/{RESULTS}/{{sourced_id}}",
              get_one(RESULTS, "assessmentResult", "assessment result"), methods=["GET"]),
        Route(f"{base}/{RESULTS}/{{sourced_id}}",
              put(RESULTS, "assessmentResult", RESULT_RULE, result_check), methods=["PUT"]),
    ]


def _list_response(request: Request, collection: str, records: list[dict[str, Any]],
                   aliases: dict[str, str]) -> Response:
    """Filter (aliases allowed), sort, select and page a collection."""
    params = request.query_params
    allowed = (*_FIELDS[collection], *aliases)

    def with_aliases(record: dict[str, Any]) -> dict[str, Any]:
        extra = {alias: (record.get(target) or {}).get("sourcedId")
                 for alias, target in aliases.items()}
        return {**record, **extra}

    try:
        view = [with_aliases(r) for r in records]
        if params.get("filter"):
            predicate = filters.parse_filter(params["filter"], allowed)
            view = [r for r in view if predicate(r)]
        view = filters.sort_records(view, params.get("sort"), params.get("orderBy"), allowed)
        fields = filters.parse_fields(params.get("fields"), _FIELDS[collection])
        limit, offset = filters.parse_window(params.get("limit"), params.get("offset"))
    except filters.QueryError as exc:
        return imsx_error(400, exc.code, exc.description)
    total = len(view)
    page = [
        filters.project({k: v for k, v in r.items() if k not in aliases}, fields)
        for r in view[offset:offset + limit]
    ]
    return JSONResponse({collection: page, **filters.list_window(total, limit, offset)},
                        headers={"X-Total-Count": str(total)})
