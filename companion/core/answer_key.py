"""A lesson's answer key: the accepted responses per item, kept by the app, never by the page.

``lesson.json`` may hold ``"answerKey": {"q1": ["12", "twelve"], ...}``. The page then sends
the student's response; the app scores it here and the answer is journalled as scored by the
app. A response matches an accepted one when both are equal after trimming, folding case and
joining runs of spaces (``normalise``). Items the key does not list do not count.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

MAX_ITEMS = 1000
MAX_RESPONSE_LENGTH = 1000
MAX_ITEM_LENGTH = 200
_NUMBER = re.compile(r"-?\d{1,30}(\.\d{1,30})?")


def normalise(response: str) -> str:
    """The form in which responses are compared: trimmed, case folded, single spaces."""
    return " ".join(response.split()).casefold()


@dataclass(frozen=True, slots=True)
class AnswerKey:
    """Accepted responses by item id (already normalised)."""

    accepted: Mapping[str, frozenset[str]]

    def lists(self, item: str) -> bool:
        """True when the key has an entry for ``item``."""
        return item in self.accepted

    def is_correct(self, item: str, response: str) -> bool:
        """True when ``response`` is one of ``item``'s accepted responses, or the same
        number as one (``12.0`` for ``12``); KeyError when the key does not list the item."""
        given = normalise(response)
        accepted = self.accepted[item]
        if given in accepted:
            return True
        number = _number(given)
        return number is not None and any(_number(a) == number for a in accepted)


def _number(text: str) -> Decimal | None:
    if not _NUMBER.fullmatch(text):
        return None
    return Decimal(text)


def parse_answer_key(raw: object) -> AnswerKey:
    """The key in ``lesson.json``'s ``answerKey``; ValueError naming what is wrong."""
    if not isinstance(raw, dict) or not raw:
        raise ValueError("'answerKey' must be an object of item ids to accepted responses")
    if len(raw) > MAX_ITEMS:
        raise ValueError(f"'answerKey' lists more than {MAX_ITEMS} items")
    accepted: dict[str, frozenset[str]] = {}
    for item, responses in raw.items():
        if not isinstance(item, str) or not 0 < len(item) <= MAX_ITEM_LENGTH \
                or not item.isprintable() or item != item.strip():
            raise ValueError(f"'answerKey' item id {item!r:.60} is not a short printable id")
        if isinstance(responses, str):
            responses = [responses]
        if not isinstance(responses, list) or not responses or not all(
                isinstance(r, str) and 0 < len(r) <= MAX_RESPONSE_LENGTH and normalise(r)
                for r in responses):
            raise ValueError(f"'answerKey' item {item!r:.60} needs a list of accepted "
                             "responses (non-empty text)")
        accepted[item] = frozenset(normalise(r) for r in responses)
    return AnswerKey(accepted)
