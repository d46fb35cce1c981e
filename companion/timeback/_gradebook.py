"""OneRoster 1.2 gradebook client: AssessmentLineItems and AssessmentResults.

Writes are PUT by sourcedId (create or replace), so repeating one is harmless. Records are
plain dicts as the server sent them; ``companion.core.results`` reads them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from companion.core.environments import Environment

from ._errors import MalformedResponseError
from ._filters import Filter, eq
from ._transport import ServiceClient, json_object

GRADEBOOK_PATH = "/ims/oneroster/gradebook/v1p2"
GRADEBOOK_PAGE_SIZE = 1000

Record = dict[str, Any]


class GradebookClient(ServiceClient):
    """Reads and writes the gradebook at ``base_url`` (the OneRoster host root)."""

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

    # --- line items -------------------------------------------------------------------------

    def get_line_item(self, sourced_id: str) -> Record:
        """One AssessmentLineItem; NotFoundError when there is none."""
        return self._get_one(f"assessmentLineItems/{_seg(sourced_id)}", "assessmentLineItem")

    def put_line_item(self, line_item: Mapping[str, Any]) -> Record:
        """Create or replace an AssessmentLineItem (its ``sourcedId`` names it)."""
        return self._put("assessmentLineItems", "assessmentLineItem", line_item)

    def list_line_items(self, filter: Filter | str | None = None) -> list[Record]:
        """Every AssessmentLineItem matching ``filter``."""
        return list(self._iter("assessmentLineItems", "assessmentLineItems", filter))

    # --- results ----------------------------------------------------------------------------

    def get_result(self, sourced_id: str) -> Record:
        """One AssessmentResult; NotFoundError when there is none."""
        return self._get_one(f"assessmentResults/{_seg(sourced_id)}", "assessmentResult")

    def put_result(self, result: Mapping[str, Any]) -> Record:
        """Create or replace an AssessmentResult (its ``sourcedId`` names it)."""
        return self._put("assessmentResults", "assessmentResult", result)

    def list_results(self, filter: Filter | str | None = None) -> list[Record]:
        """Every AssessmentResult matching ``filter``."""
        return list(self._iter("assessmentResults", "assessmentResults", filter))

    def results_for_student(self, student_id: str) -> list[Record]:
        """The student's AssessmentResults (``studentSourcedId`` filter, as in the guide)."""
        return self.list_results(eq("studentSourcedId", student_id))

    # --- plumbing ---------------------------------------------------------------------------

    def _get_one(self, path: str, key: str) -> Record:
        self.requests_made += 1
        body = json_object(self._http.request("GET", f"{GRADEBOOK_PATH}/{path}"))
        return _record(body, key, path)

    def _put(self, collection: str, key: str, record: Mapping[str, Any]) -> Record:
        sourced_id = record.get("sourcedId")
        if not isinstance(sourced_id, str) or not sourced_id:
            raise ValueError(f"a {key} needs a sourcedId to be written with PUT")
        path = f"{collection}/{_seg(sourced_id)}"
        self.requests_made += 1
        response = self._http.request("PUT", f"{GRADEBOOK_PATH}/{path}",
                                      json_body={key: dict(record)})
        if not response.content:
            return dict(record)
        return _record(json_object(response), key, path)

    def _iter(self, collection: str, key: str, filter: Filter | str | None) -> Iterator[Record]:
        offset = 0
        while True:
            params: dict[str, Any] = {"limit": GRADEBOOK_PAGE_SIZE, "offset": offset}
            if filter is not None:
                params["filter"] = str(filter)
            self.requests_made += 1
            response = self._http.request("GET", f"{GRADEBOOK_PATH}/{collection}",
                                          params=params)
            body = json_object(response)
            items = body.get(key)
            if not isinstance(items, list):
                raise MalformedResponseError(f"the answer for {collection} has no list {key!r}",
                                             url=str(response.request.url))
            for item in items:
                if not isinstance(item, dict):
                    raise MalformedResponseError(f"{collection} holds a non-object: {item!r}")
                yield item
            offset += len(items)
            total = body.get("totalCount", response.headers.get("x-total-count"))
            try:
                known = int(total) if total is not None else None
            except (TypeError, ValueError):
                known = None
            if not items or (known is not None and offset >= known):
                return
            if known is None and len(items) < GRADEBOOK_PAGE_SIZE:
                return


def gradebook_client(
    environment: Environment,
    auth: httpx.Auth,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout | None = None,
) -> GradebookClient:
    """A gradebook client for ``environment`` (served from its OneRoster host)."""
    return GradebookClient(environment.oneroster_base, auth=auth, transport=transport,
                           timeout=timeout)


def _record(body: Mapping[str, Any], key: str, path: str) -> Record:
    value = body.get(key)
    if not isinstance(value, dict):
        raise MalformedResponseError(f"the answer for {path} lacks the object {key!r}")
    return value


def _seg(sourced_id: str) -> str:
    if not sourced_id:
        raise ValueError("sourcedId must not be empty")
    return quote(sourced_id, safe="")
