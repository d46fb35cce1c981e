"""OneRoster 1.2 collection queries: filter, sort, orderBy, fields, limit and offset.

Filter grammar (OneRoster 1.2 REST binding, section 3.4.2): ``field op 'value'`` with ``op`` one
of ``= != > >= < <= ~`` (``~`` is a case-insensitive "contains"), combined with `` AND `` /
`` OR `` (AND binds tighter). A quote inside a value is doubled (``'O''Brien'``). A dotted field
(``course.sourcedId``) reaches into a nested record; a list matches if any element matches.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]
Predicate = Callable[[Record], bool]

DEFAULT_LIMIT = 100
MAX_LIMIT = 3000
OPERATORS = ("!=", ">=", "<=", "=", ">", "<", "~")

_CLAUSE = re.compile(
    r"\s*(?P<field>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>!=|>=|<=|=|>|<|~)\s*"
    r"'(?P<value>(?:[^']|'')*)'\s*"
)
_JOIN = re.compile(r"(AND|OR)(?=\s)", re.IGNORECASE)


class QueryError(ValueError):
    """A query the server refuses, with the imsx code minor value that names why."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass(frozen=True)
class Clause:
    """One comparison ``field op 'value'``."""

    field: str
    op: str
    value: str

    def matches(self, record: Record) -> bool:
        """True if any value found at the field's path satisfies the comparison."""
        return any(_compare(found, self.op, self.value) for found in _values_at(record, self.field))


def parse_filter(text: str, allowed: Iterable[str]) -> Predicate:
    """Compile a filter expression; QueryError("invalid_filter_field") if it is malformed."""
    allowed_set = set(allowed)
    groups: list[list[Clause]] = [[]]
    pos = 0
    while True:
        match = _CLAUSE.match(text, pos)
        if match is None:
            raise QueryError("invalid_filter_field", f"malformed filter near {text[pos:]!r}")
        field = match["field"]
        if field.split(".")[0] not in allowed_set:
            raise QueryError("invalid_filter_field", f"unknown filter field {field!r}")
        groups[-1].append(Clause(field, match["op"], match["value"].replace("''", "'")))
        pos = match.end()
        if pos >= len(text):
            break
        join = _JOIN.match(text, pos)
        if join is None:
            raise QueryError("invalid_filter_field", f"expected AND or OR near {text[pos:]!r}")
        if join.group(1).upper() == "OR":
            groups.append([])
        pos = join.end()

    def predicate(record: Record) -> bool:
        return any(all(clause.matches(record) for clause in group) for group in groups)

    return predicate


def _values_at(record: Any, path: str) -> list[Any]:
    current: list[Any] = [record]
    for part in path.split("."):
        nxt: list[Any] = []
        for item in current:
            items = item if isinstance(item, list) else [item]
            for element in items:
                if isinstance(element, dict) and part in element:
                    nxt.append(element[part])
        current = nxt
    flat: list[Any] = []
    for item in current:
        flat.extend(item if isinstance(item, list) else [item])
    return flat


def _compare(found: Any, op: str, value: str) -> bool:
    if isinstance(found, dict):
        return False
    text = str(found).lower() if isinstance(found, bool) else str(found)
    if op == "~":
        return value.lower() in text.lower()
    if op == "=":
        return text == value
    if op == "!=":
        return text != value
    left: Any = text
    right: Any = value
    if _is_number(text) and _is_number(value):
        left, right = float(text), float(value)
    if op == ">":
        return bool(left > right)
    if op == ">=":
        return bool(left >= right)
    if op == "<":
        return bool(left < right)
    return bool(left <= right)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def sort_records(
    records: Sequence[Record], sort: str | None, order_by: str | None, allowed: Iterable[str]
) -> list[Record]:
    """Records sorted by a field (asc by default); QueryError("invalid_sort_field") if unknown."""
    direction = (order_by or "asc").lower()
    if direction not in ("asc", "desc"):
        raise QueryError("invalid_sort_field", f"orderBy must be asc or desc, not {order_by!r}")
    if not sort:
        return list(records)
    if sort.split(".")[0] not in set(allowed):
        raise QueryError("invalid_sort_field", f"unknown sort field {sort!r}")

    def key(record: Record) -> tuple[int, str]:
        found = _values_at(record, sort)
        return (0, "") if not found else (1, str(found[0]))

    return sorted(records, key=key, reverse=direction == "desc")


def parse_fields(text: str | None, allowed: Iterable[str]) -> list[str] | None:
    """The selected field names, or None for all; QueryError("invalid_selection_field")."""
    if not text:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    allowed_set = set(allowed)
    for name in names:
        if name not in allowed_set:
            raise QueryError("invalid_selection_field", f"unknown field {name!r}")
    return names


def project(record: Record, fields: list[str] | None) -> Record:
    """The record with only the selected fields (all of them when fields is None)."""
    if fields is None:
        return record
    return {name: record[name] for name in fields if name in record}


def parse_window(limit: str | None, offset: str | None) -> tuple[int, int]:
    """(limit, offset) from the query, with the default and the cap applied."""
    try:
        lim = DEFAULT_LIMIT if limit is None else int(limit)
        off = 0 if offset is None else int(offset)
    except ValueError as exc:
        raise QueryError("invalid_selection_field", "limit and offset must be integers") from exc
    if lim < 1 or off < 0:
        raise QueryError("invalid_selection_field", "limit must be >= 1 and offset >= 0")
    return min(lim, MAX_LIMIT), off


def list_window(total: int, limit: int, offset: int) -> dict[str, int]:
    """The paging fields of a list body, as Timeback's OpenAPI requires them: ``totalCount``,
    ``pageCount`` (pages of ``limit`` records), ``pageNumber`` (from 1: the page ``offset``
    falls in), ``offset`` and ``limit``."""
    return {"totalCount": total, "pageCount": -(-total // limit), "pageNumber": offset // limit + 1,
            "offset": offset, "limit": limit}
