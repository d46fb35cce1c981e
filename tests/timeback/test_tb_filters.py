"""The OneRoster filter builder quotes values so that none can change the query."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from companion.timeback import any_of, contains, eq, ge, gt, le, lt, ne, quote_value

# An independent reading of the grammar: field op 'literal' ('' is a quote), joined by
# " AND " or " OR ".
_PREDICATE = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)(!=|>=|<=|=|>|<|~)'((?:[^']|'')*)'")


def parse(text: str) -> list[tuple[str, str, str] | str]:
    out: list[tuple[str, str, str] | str] = []
    pos = 0
    while True:
        match = _PREDICATE.match(text, pos)
        assert match, f"cannot parse at {pos}: {text[pos:]!r}"
        out.append((match[1], match[2], match[3].replace("''", "'")))
        pos = match.end()
        if pos == len(text):
            return out
        joiner = re.compile(r" (AND|OR) ").match(text, pos)
        assert joiner, f"expected AND/OR at {pos}: {text[pos:]!r}"
        out.append(joiner[1])
        pos = joiner.end()


def test_obrien() -> None:
    assert str(eq("familyName", "O'Brien")) == "familyName='O''Brien'"


def test_crafted_value_stays_one_literal() -> None:
    crafted = "x' OR familyName~'"
    rendered = str(eq("givenName", crafted))
    assert parse(rendered) == [("givenName", "=", crafted)]


@given(st.text())
def test_any_text_round_trips_as_one_literal(value: str) -> None:
    assert parse(str(eq("familyName", value))) == [("familyName", "=", value)]


def test_operators_and_combination() -> None:
    expr = eq("status", "active") & ne("role", "guardian") & gt("dateLastModified",
                                                                 date(2026, 1, 2))
    assert str(expr) == (
        "status='active' AND role!='guardian' AND dateLastModified>'2026-01-02'"
    )
    assert str(ge("a", 1) | le("a", 5) | lt("b", 2.5) | contains("email", "@x")) == (
        "a>='1' OR a<='5' OR b<'2.5' OR email~'@x'"
    )
    assert quote_value(True) == "'true'"


def test_mixing_and_with_or_is_refused() -> None:
    with pytest.raises(ValueError, match="mix AND and OR"):
        (eq("a", "1") & eq("b", "2")) | eq("c", "3")


def test_field_names_are_checked() -> None:
    with pytest.raises(ValueError):
        eq("givenName='x' OR sourcedId", "y")
    assert str(eq("school.sourcedId", "s1")) == "school.sourcedId='s1'"


def test_any_of() -> None:
    assert parse(str(any_of("sourcedId", ["a", "b'c"]))) == [
        ("sourcedId", "=", "a"), "OR", ("sourcedId", "=", "b'c")]
    with pytest.raises(ValueError):
        any_of("sourcedId", [])
