"""Envelope validation for POST /caliper/event(/validate).

Timeback events (TimeSpentEvent, ActivityEvent) are checked against :mod:`timeback_rules`;
any other item against the standard Caliper 1.2 rules in :mod:`caliper_rules`. Each error
names the item (index and id) and the field.
"""

from __future__ import annotations

from typing import Any

from companion.sandbox import caliper_rules, timeback_rules
from companion.sandbox.rules import check_object

ValidationError = dict[str, Any]


def _error(index: int | None, event_id: Any, field: str, message: str) -> ValidationError:
    return {"eventIndex": index,
            "eventId": event_id if isinstance(event_id, str) else None,
            "field": field, "message": f"{field} {message}".strip()}


def validate_envelope(body: Any) -> list[ValidationError]:
    """Every error in an envelope; an empty list means it may be accepted."""
    if not isinstance(body, dict):
        return [_error(None, None, "", "the envelope must be a JSON object")]
    errors = [_error(None, None, field, message)
              for field, message in check_object(body, timeback_rules.ENVELOPE)]
    data = body.get("data")
    if not isinstance(data, list):
        return errors
    if not data:
        errors.append(_error(None, None, "data", "must hold at least one event"))
    if len(data) > timeback_rules.MAX_EVENTS_PER_ENVELOPE:
        errors.append(_error(None, None, "data",
                             f"holds {len(data)} items; at most "
                             f"{timeback_rules.MAX_EVENTS_PER_ENVELOPE} are allowed"))
    for index, item in enumerate(data):
        errors.extend(_error(index, item.get("id") if isinstance(item, dict) else None, f, m)
                      for f, m in validate_item(item))
    return errors


def validate_item(item: Any) -> list[tuple[str, str]]:
    """(field, message) for every violation in one envelope item (event or entity)."""
    if not isinstance(item, dict):
        return [("", "each data item must be an object")]
    rule = timeback_rules.EVENT_RULES.get(str(item.get("type")))
    if rule is not None:
        return list(check_object(item, rule))
    if "action" in item or str(item.get("type", "")).endswith("Event"):
        return caliper_rules.check_event(item)
    return caliper_rules.check_entity(item)
