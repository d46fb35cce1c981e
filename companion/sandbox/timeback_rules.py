"""Validation rules for Timeback's own Caliper events (TimeSpentEvent, ActivityEvent).

Written for the sandbox from timeback-events-api.yaml; a test compares the required lists,
consts and enums here with the YAML so that the two cannot drift apart unnoticed.
"""

from __future__ import annotations

from companion.sandbox.rules import Kind, ListOf, ObjectRule

CALIPER_V1P2 = "http://purl.imsglobal.org/ctx/caliper/v1p2"

_EXTENSIONS: dict[str, Kind] = {"extensions": "object"}

TIMEBACK_USER = ObjectRule(
    name="TimebackUser",
    required=("id", "type", "email"),
    consts={"type": "TimebackUser"},
    enums={"role": ("student", "teacher", "admin", "guide")},
    kinds={"id": "iri", "email": "email", "name": "string", **_EXTENSIONS},
    closed=True,
)

_NAMED = ObjectRule(name="NamedReference", required=("name",),
                    kinds={"id": "iri", "name": "string", **_EXTENSIONS})

TIMEBACK_ACTIVITY_CONTEXT = ObjectRule(
    name="TimebackActivityContext",
    required=("id", "type", "subject", "app"),
    consts={"type": "TimebackActivityContext"},
    enums={"subject": ("Science", "Math", "Reading", "Language", "Social Studies", "None")},
    kinds={"id": "iri", "app": _NAMED, "course": _NAMED, "activity": _NAMED, **_EXTENSIONS},
)

TIMEBACK_ACTIVITY_METRIC = ObjectRule(
    name="TimebackActivityMetric",
    required=("type", "value"),
    enums={"type": ("xpEarned", "totalQuestions", "correctQuestions", "masteredUnits")},
    kinds={"value": "number", **_EXTENSIONS},
)

TIME_SPENT_METRIC = ObjectRule(
    name="TimeSpentMetric",
    required=("type", "value"),
    enums={"type": ("active", "inactive", "waste", "unknown", "anti-pattern")},
    kinds={"subType": "string", "value": "number", "startDate": "datetime",
           "endDate": "datetime", **_EXTENSIONS},
)

TIMEBACK_ACTIVITY_METRICS_COLLECTION = ObjectRule(
    name="TimebackActivityMetricsCollection",
    required=("id", "type", "items"),
    consts={"type": "TimebackActivityMetricsCollection"},
    kinds={"id": "iri", "items": ListOf(TIMEBACK_ACTIVITY_METRIC), **_EXTENSIONS},
)

TIMEBACK_TIME_SPENT_METRICS_COLLECTION = ObjectRule(
    name="TimebackTimeSpentMetricsCollection",
    required=("id", "type", "items"),
    consts={"type": "TimebackTimeSpentMetricsCollection"},
    kinds={"id": "iri", "items": ListOf(TIME_SPENT_METRIC), **_EXTENSIONS},
)

_EVENT_REQUIRED = ("@context", "id", "type", "actor", "action", "object", "eventTime",
                   "profile", "generated")
_EVENT_KINDS: dict[str, Kind] = {
    "@context": "iri",
    "id": "urn_uuid",
    "actor": TIMEBACK_USER,
    "object": TIMEBACK_ACTIVITY_CONTEXT,
    "eventTime": "datetime",
    "edApp": "string_or_object",
    "target": "string_or_object",
    "referrer": "string_or_object",
    "group": "string_or_object",
    "membership": "string_or_object",
    "session": "string_or_object",
    "federatedSession": "string_or_object",
    **_EXTENSIONS,
}

TIMEBACK_TIME_SPENT_EVENT = ObjectRule(
    name="TimebackTimeSpentEvent",
    required=_EVENT_REQUIRED,
    consts={"type": "TimeSpentEvent", "action": "SpentTime", "profile": "TimebackProfile"},
    kinds={**_EVENT_KINDS, "generated": TIMEBACK_TIME_SPENT_METRICS_COLLECTION},
    closed=True,
)

TIMEBACK_ACTIVITY_COMPLETED_EVENT = ObjectRule(
    name="TimebackActivityCompletedEvent",
    required=_EVENT_REQUIRED,
    consts={"type": "ActivityEvent", "action": "Completed", "profile": "TimebackProfile"},
    kinds={**_EVENT_KINDS, "generated": TIMEBACK_ACTIVITY_METRICS_COLLECTION},
    closed=True,
)

ENVELOPE = ObjectRule(
    name="Envelope",
    required=("sensor", "sendTime", "dataVersion", "data"),
    consts={"dataVersion": CALIPER_V1P2},
    kinds={"sensor": "iri", "sendTime": "datetime", "data": "array"},
)

# Every rule by the schema name it mirrors in timeback-events-api.yaml.
SCHEMAS: dict[str, ObjectRule] = {
    rule.name: rule
    for rule in (
        TIMEBACK_USER, TIMEBACK_ACTIVITY_CONTEXT, TIMEBACK_ACTIVITY_METRIC, TIME_SPENT_METRIC,
        TIMEBACK_ACTIVITY_METRICS_COLLECTION, TIMEBACK_TIME_SPENT_METRICS_COLLECTION,
        TIMEBACK_TIME_SPENT_EVENT, TIMEBACK_ACTIVITY_COMPLETED_EVENT, ENVELOPE,
    )
}

# Timeback event rules by the event's "type".
EVENT_RULES: dict[str, ObjectRule] = {
    "TimeSpentEvent": TIMEBACK_TIME_SPENT_EVENT,
    "ActivityEvent": TIMEBACK_ACTIVITY_COMPLETED_EVENT,
}

MAX_EVENTS_PER_ENVELOPE = 100
