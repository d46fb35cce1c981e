"""Who scored an answer (spec section 1, ``scoredBy``): read, written, counted."""

from __future__ import annotations

import json

import pytest

from companion.core.journal import JournalError, parse_jsonl
from companion.core.rules import summarize

START = {"t": 0, "kind": "start", "lesson": "L"}


def journal(*answers: dict[str, object]) -> list[str]:
    body = [{"t": 1 + i, "kind": "answer", **a} for i, a in enumerate(answers)]
    return [json.dumps(x) for x in [START, *body, {"t": 60, "kind": "end"}]]


def test_answers_say_who_scored_them_and_the_summary_counts_first_answers() -> None:
    lines = list(parse_jsonl(journal(
        {"item": "a", "correct": True, "scoredBy": "app"},
        {"item": "b", "correct": False},  # no scoredBy: the content's
        {"item": "c", "correct": True, "scoredBy": "content"},
        {"item": "a", "correct": False, "scoredBy": "content"},  # not a first answer
    )))
    assert [line.to_json().get("scoredBy") for line in lines[1:-1]] == \
        ["app", "content", "content", "content"]
    out = summarize(lines)
    assert (out["questions"], out["appScored"], out["contentScored"]) == (3, 1, 2)


def test_an_unknown_scorer_is_an_error_naming_the_line() -> None:
    with pytest.raises(JournalError, match="scoredBy"):
        list(parse_jsonl(journal({"item": "a", "correct": True, "scoredBy": "page"})))
