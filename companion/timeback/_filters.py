"""Build OneRoster ``filter`` expressions from values, quoted so that no value can change
the query: ``eq("familyName", "O'Brien")`` renders ``familyName='O''Brien'``.

Combine with ``&`` (AND) and ``|`` (OR). OneRoster's grammar has no parentheses, so mixing
AND and OR in one expression is refused rather than left to precedence rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

Value = str | int | float | bool | date | datetime

_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~")


def quote_value(value: Value) -> str:
    """A OneRoster string literal for ``value``: single quotes, inner quotes doubled."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    elif isinstance(value, int | float):
        text = repr(value)
    elif isinstance(value, str):
        text = value
    else:
        raise TypeError(f"cannot filter on a {type(value).__name__}")
    return "'" + text.replace("'", "''") + "'"


class Filter:
    """A filter expression; ``str()`` gives the query-string value."""

    def __and__(self, other: Filter) -> Filter:
        return _combine("AND", self, other)

    def __or__(self, other: Filter) -> Filter:
        return _combine("OR", self, other)

    def render(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True, eq=True)
class Predicate(Filter):
    """One ``field op 'value'`` comparison."""

    field: str
    op: str
    value: Value

    def __post_init__(self) -> None:
        if not _FIELD.fullmatch(self.field):
            raise ValueError(f"not a OneRoster field name: {self.field!r}")
        if self.op not in _OPERATORS:
            raise ValueError(f"not a OneRoster filter operator: {self.op!r}")
        quote_value(self.value)  # type check now, not at render time

    def render(self) -> str:
        return f"{self.field}{self.op}{quote_value(self.value)}"


@dataclass(frozen=True, eq=True)
class Combined(Filter):
    """Predicates joined by one logical operator."""

    operator: str
    terms: tuple[Predicate, ...]

    def render(self) -> str:
        return f" {self.operator} ".join(term.render() for term in self.terms)


def _terms(expr: Filter, operator: str) -> tuple[Predicate, ...]:
    if isinstance(expr, Predicate):
        return (expr,)
    if isinstance(expr, Combined):
        if expr.operator != operator:
            raise ValueError(
                "OneRoster filters cannot mix AND and OR (the grammar has no parentheses)"
            )
        return expr.terms
    raise TypeError(f"not a filter: {expr!r}")


def _combine(operator: str, left: Filter, right: Filter) -> Combined:
    return Combined(operator, _terms(left, operator) + _terms(right, operator))


def eq(field: str, value: Value) -> Predicate:
    """``field='value'``."""
    return Predicate(field, "=", value)


def ne(field: str, value: Value) -> Predicate:
    """``field!='value'``."""
    return Predicate(field, "!=", value)


def gt(field: str, value: Value) -> Predicate:
    """``field>'value'``."""
    return Predicate(field, ">", value)


def ge(field: str, value: Value) -> Predicate:
    """``field>='value'``."""
    return Predicate(field, ">=", value)


def lt(field: str, value: Value) -> Predicate:
    """``field<'value'``."""
    return Predicate(field, "<", value)


def le(field: str, value: Value) -> Predicate:
    """``field<='value'``."""
    return Predicate(field, "<=", value)


def contains(field: str, value: Value) -> Predicate:
    """``field~'value'`` (substring match)."""
    return Predicate(field, "~", value)


def any_of(field: str, values: list[str]) -> Filter:
    """``field='a' OR field='b' ...`` (at least one value)."""
    if not values:
        raise ValueError("any_of needs at least one value")
    if len(values) == 1:
        return eq(field, values[0])
    return Combined("OR", tuple(eq(field, value) for value in values))
