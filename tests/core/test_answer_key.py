"""The answer key: accepted responses per item, compared loosely but never guessed."""

from __future__ import annotations

import pytest

from companion.core.answer_key import normalise, parse_answer_key


def test_responses_match_after_trimming_case_and_spaces() -> None:
    key = parse_answer_key({"q1": ["New  York", "NYC"], "q2": "b", "q3": ["12"]})
    assert key.is_correct("q1", "  new york ")
    assert key.is_correct("q1", "nyc")
    assert not key.is_correct("q1", "york")
    assert key.is_correct("q2", "B") and not key.is_correct("q2", "c")
    assert key.is_correct("q3", "12.0") and key.is_correct("q3", "12")
    assert not key.is_correct("q3", "12.5") and not key.is_correct("q3", "1e1")
    assert key.lists("q1") and not key.lists("q9")
    assert normalise(" A\tB ") == "a b"


@pytest.mark.parametrize("raw, words", [
    ([], "must be an object"),
    ({}, "must be an object"),
    ({"q1": []}, "needs a list"),
    ({"q1": [""]}, "needs a list"),
    ({"q1": ["  "]}, "needs a list"),
    ({"q1": [3]}, "needs a list"),
    ({" q1": ["a"]}, "not a short printable id"),
    ({"x" * 201: ["a"]}, "not a short printable id"),
])
def test_a_bad_key_is_refused_with_what_is_wrong(raw: object, words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse_answer_key(raw)
