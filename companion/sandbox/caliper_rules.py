"""Standard Caliper 1.2 checks for events and entities that are not Timeback's own.

First the official 1EdTech JSON Schemas (:mod:`caliper_schema`: every property's type,
format and enumeration, nested entities included). Then what the schemas are too loose to
say: entities are checked property by property against the entity model that
:func:`caliper_schema.entity_model` reads from the same schemas (nested entities in turn), with
the specification's vocabularies where the schemas lag (:mod:`caliper_vocabulary`). Events
are checked against the per-event rules below (from the Caliper 1.2 specification's event
descriptions): which actions each event type supports, and which entity
types may be its actor, object, generated and target.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from companion.sandbox import formats
from companion.sandbox.caliper_schema import (
    alias_violations,
    alternatives,
    defined_by,
    entity_model,
    enums,
    schema_violations,
    type_names,
)
from companion.sandbox.caliper_vocabulary import ROLES, SYSTEM_IDENTIFIER_TYPES

Violation = tuple[str, str]

CONTEXTS = ("http://purl.imsglobal.org/ctx/caliper/v1p2",)
PROFILES = (
    "AnnotationProfile", "AssessmentProfile", "AssignableProfile", "FeedbackProfile",
    "ForumProfile", "GeneralProfile", "GradingProfile", "MediaProfile", "ReadingProfile",
    "ResourceManagementProfile", "SearchProfile", "SessionProfile", "SurveyProfile",
    "ToolLaunchProfile", "ToolUseProfile",
)
ACTIONS = (
    "Abandoned", "Accepted", "Activated", "Added", "Archived", "Attached", "Bookmarked",
    "ChangedResolution", "ChangedSize", "ChangedSpeed", "ChangedVolume", "Classified",
    "ClosedPopout", "Commented", "Completed", "Copied", "Created", "Deactivated", "Declined",
    "Deleted", "Described", "DisabledClosedCaptioning", "Disliked", "Downloaded",
    "EnabledClosedCaptioning", "Ended", "EnteredFullScreen", "ExitedFullScreen", "ForwardedTo",
    "Graded", "Hid", "Highlighted", "Identified", "JumpedTo", "Launched", "Liked", "Linked",
    "LoggedIn", "LoggedOut", "MarkedAsRead", "MarkedAsUnread", "Modified", "Muted",
    "NavigatedTo", "OpenedPopout", "OptedIn", "OptedOut", "Paused", "Posted", "Printed",
    "Published", "Questioned", "Ranked", "Recommended", "Removed", "Replied", "Reset",
    "Restarted", "Restored", "Resumed", "Retrieved", "Returned", "Reviewed", "Rewound", "Saved",
    "Searched", "Sent", "Shared", "Showed", "Skipped", "Started", "Submitted", "Subscribed",
    "Tagged", "TimedOut", "Unmuted", "Unpublished", "Unsubscribed", "Uploaded", "Used", "Viewed",
)

# The schemas' own lists of alternatives (the same lists recur across them).
AGENTS = alternatives("Annotation", "annotator")
DIGITAL_RESOURCES = alternatives("Annotation", "annotated")
ANY_ENTITY = alternatives("Agent", "isPartOf")
ORGANIZATIONS = alternatives("Event", "group")
GROUPS: dict[str, tuple[str, ...]] = {"@g1": DIGITAL_RESOURCES, "@g2": AGENTS,
                                      "@g3": ORGANIZATIONS, "@any_entity": ANY_ENTITY}
TYPES = entity_model()
ENUMS: dict[str, tuple[str, ...]] = {
    **enums(),
    "Membership.roles": ROLES,
    "SystemIdentifier.identifierType": SYSTEM_IDENTIFIER_TYPES,
}
ANNOTATIONS = ("Annotation", "BookmarkAnnotation", "HighlightAnnotation", "SharedAnnotation",
               "TagAnnotation")
RESPONSES = ("Response", "DateTimeResponse", "FillinBlankResponse", "MultiselectResponse",
             "MultipleChoiceResponse", "MultipleResponseResponse", "OpenEndedResponse",
             "RatingScaleResponse", "SelectTextResponse", "TrueFalseResponse")
MEDIA_OBJECTS = ("MediaObject", "AudioObject", "ImageObject", "VideoObject")
MEDIA_ACTIONS = (
    "ChangedResolution", "ChangedSize", "ChangedSpeed", "ChangedVolume", "ClosedPopout",
    "DisabledClosedCaptioning", "EnabledClosedCaptioning", "Ended", "EnteredFullScreen",
    "ExitedFullScreen", "ForwardedTo", "JumpedTo", "Muted", "OpenedPopout", "Paused",
    "Restarted", "Resumed", "Retrieved", "Rewound", "Started", "Unmuted",
)
RESOURCE_ACTIONS = (
    "Archived", "Copied", "Created", "Deleted", "Described", "Downloaded", "Modified",
    "Printed", "Published", "Restored", "Retrieved", "Saved", "Unpublished", "Uploaded",
)
_COLLECTIONS = ("Collection", "AggregateMeasureCollection", "DigitalResourceCollection",
                "Assessment", "Forum", "Questionnaire", "Thread", "Survey")


@dataclass(frozen=True)
class EventRule:
    """What one Caliper event type allows."""

    actions: tuple[str, ...] | None = None  # None: any Caliper action
    actor: tuple[str, ...] = AGENTS
    object: tuple[str, ...] = ANY_ENTITY
    generated: tuple[str, ...] = ANY_ENTITY
    target: tuple[str, ...] = ANY_ENTITY
    referrer: tuple[str, ...] = ANY_ENTITY


EVENTS: dict[str, EventRule] = {
    "Event": EventRule(),
    "AnnotationEvent": EventRule(
        actions=("Bookmarked", "Highlighted", "Shared", "Tagged"), actor=("Person",),
        object=DIGITAL_RESOURCES, generated=ANNOTATIONS,
        target=("TextPositionSelector", "Frame", *DIGITAL_RESOURCES)),
    "AssessmentEvent": EventRule(
        actions=("Started", "Paused", "Resumed", "Restarted", "Reset", "Submitted"),
        actor=("Person",), object=("Assessment",), generated=("Attempt",)),
    "AssessmentItemEvent": EventRule(
        actions=("Started", "Skipped", "Completed"), actor=("Person",),
        object=("AssessmentItem",), generated=("Attempt", *RESPONSES),
        referrer=("AssessmentItem", "Assessment")),
    "AssignableEvent": EventRule(
        actions=("Activated", "Deactivated", "Started", "Completed", "Submitted", "Reviewed",
                 "Hid", "Showed"),
        object=DIGITAL_RESOURCES, generated=("Attempt",), target=DIGITAL_RESOURCES),
    "FeedbackEvent": EventRule(
        actions=("Commented", "Ranked"), actor=("Person",),
        generated=("Comment", "Rating"), target=("Frame",)),
    "ForumEvent": EventRule(actions=("Subscribed", "Unsubscribed"), actor=("Person",),
                            object=("Forum",)),
    "GradeEvent": EventRule(actions=("Graded",), actor=("Person", "SoftwareApplication"),
                            object=("Attempt",), generated=("Score", "Result")),
    "MediaEvent": EventRule(actions=MEDIA_ACTIONS, actor=("Person",), object=MEDIA_OBJECTS,
                            target=("MediaLocation",)),
    "MessageEvent": EventRule(actions=("Posted", "MarkedAsRead", "MarkedAsUnread"),
                              actor=("Person",), object=("Message",)),
    "NavigationEvent": EventRule(
        actions=("NavigatedTo",), actor=("Person",),
        object=(*DIGITAL_RESOURCES, *_COLLECTIONS, "SoftwareApplication"),
        target=(*DIGITAL_RESOURCES, "TextPositionSelector"),
        referrer=(*DIGITAL_RESOURCES, *_COLLECTIONS, "SoftwareApplication")),
    "QuestionnaireEvent": EventRule(actions=("Started", "Submitted"), actor=("Person",),
                                    object=("Questionnaire",)),
    "QuestionnaireItemEvent": EventRule(
        actions=("Started", "Skipped", "Completed"), actor=("Person",),
        object=("QuestionnaireItem",), generated=RESPONSES),
    "ResourceManagementEvent": EventRule(
        actions=RESOURCE_ACTIONS, actor=("Person",),
        object=(*DIGITAL_RESOURCES, *_COLLECTIONS), generated=(*DIGITAL_RESOURCES,
                                                               *_COLLECTIONS)),
    "SearchEvent": EventRule(actions=("Searched",), actor=("Person",),
                             generated=("SearchResponse",)),
    "SessionEvent": EventRule(
        actions=("LoggedIn", "LoggedOut", "TimedOut"), actor=("Person", "SoftwareApplication"),
        object=("SoftwareApplication", "Session"),
        target=(*DIGITAL_RESOURCES, "SoftwareApplication"),
        referrer=(*DIGITAL_RESOURCES, "SoftwareApplication")),
    "SurveyEvent": EventRule(actions=("OptedIn", "OptedOut"), actor=("Person",),
                             object=("Survey",)),
    "SurveyInvitationEvent": EventRule(
        actions=("Accepted", "Declined", "Sent"), actor=("Person",),
        object=("SurveyInvitation",)),
    "ThreadEvent": EventRule(actions=("MarkedAsRead", "MarkedAsUnread"), actor=("Person",),
                             object=("Thread",)),
    "ToolLaunchEvent": EventRule(
        actions=("Launched", "Returned"), object=("SoftwareApplication",),
        generated=tuple(t for t in ANY_ENTITY if t not in AGENTS), target=("Link", "LtiLink")),
    "ToolUseEvent": EventRule(actions=("Used",), object=("SoftwareApplication",),
                              generated=("AggregateMeasureCollection",),
                              target=("SoftwareApplication",)),
    # what is viewed may be any entity but an agent (a Result, say), not only a resource
    "ViewEvent": EventRule(actions=("Viewed",), actor=("Person",),
                           object=tuple(t for t in ANY_ENTITY if t not in AGENTS)),
}

# Corrections to the derived model where the JSON schemas are looser than the specification.
_LTI_MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest", "LtiDeepLinkingResponse",
                      "LtiSubmissionReviewRequest")
_OVERRIDES: dict[str, dict[str, str]] = {
    "AggregateMeasureCollection": {"items": "list:ref:AggregateMeasure"},
    "Assessment": {"items": "list:ref:AssessmentItem"},
    "Attempt": {"isPartOf": "ref:Attempt"},
    "DigitalResourceCollection": {"items": "list:ref:@g1"},
    "Forum": {"items": "list:ref:Thread"},
    "Questionnaire": {"items": "list:ref:QuestionnaireItem"},
    "Survey": {"items": "list:ref:Questionnaire"},
    "Thread": {"items": "list:ref:Message"},
    "SystemIdentifier": {"source": "ref:SoftwareApplication|@g3"},
    "Comment": {"value": "string", "commenter": "ref:Person"},
    "Session": {"user": "ref:Person"},
    "LtiSession": {"user": "ref:Person"},
    "Score": {"comment": "string"},
    "Result": {"comment": "string"},
    "LtiLink": {"messageType": "lti_message_type"},
}
MODEL: dict[str, dict[str, str]] = {
    name: {**kinds, **_OVERRIDES.get(name, {})} for name, kinds in TYPES.items()
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "AggregateMeasure": ("metric", "metricValue"),
    "SystemIdentifier": ("identifier", "identifierType"),
}
_WITHOUT_ID = ("SystemIdentifier", "TextPositionSelector", "Selector")

_EVENT_REFS: dict[str, tuple[str, ...]] = {
    "edApp": ("SoftwareApplication",),
    "group": ORGANIZATIONS,
    "membership": ("Membership",),
    "session": ("Session",),
    "federatedSession": ("LtiSession",),
}


# The 2021 schemas list fewer LIS roles than the specification (e.g. Manager#Manager): a
# role the specification names is not refused because the schema's enumeration lacks it.
_SCHEMA_BEHIND_SPEC = ("roles.",)

_XSD = "http://www.w3.org/2001/XMLSchema#"
_INTEGER_TYPES = tuple(f"{_XSD}{t}" for t in ("long", "int", "integer", "nonNegativeInteger",
                                              "positiveInteger"))

# Properties that may be left out but, when given, must have a value (null is no value).
_NOT_NULL = ("attempt",)


def check_event(event: dict[str, Any]) -> list[Violation]:
    """Violations of a standard Caliper 1.2 event: its schema, then the rules."""
    event_type = event.get("type")
    schema = event_type if isinstance(event_type, str) and event_type in EVENTS else "Event"
    return _unique([*_schema(event, schema), *_event(event)])


def check_entity(entity: dict[str, Any]) -> list[Violation]:
    """Violations of a standard Caliper 1.2 entity (described at the top level)."""
    entity_type = entity.get("type")
    found: list[Violation] = []
    if isinstance(entity_type, str) and entity_type in type_names():
        found = _schema(entity, entity_type)
    return _unique([*found, *_entity(entity, "", top=True)])


def _schema(data: dict[str, Any], type_name: str) -> list[Violation]:
    out = []
    for path, message in schema_violations(data, type_name):
        if any(path.startswith(p) or f".{p}" in path for p in _SCHEMA_BEHIND_SPEC) and (
            "is not one of" in message
        ):
            continue  # checked against the specification's list below instead
        out.append((path, message))
    return out


def _unique(found: list[Violation]) -> list[Violation]:
    return list(dict.fromkeys(found))


def _event(event: dict[str, Any]) -> Iterator[Violation]:
    for name in ("@context", "id", "type", "actor", "action", "object", "eventTime"):
        if event.get(name) is None:
            yield name, "is required"
    yield from _context(event.get("@context"), "@context")
    if event.get("id") is not None and not formats.is_urn_uuid(event["id"]):
        yield "id", "must be a UUID expressed as a URN (urn:uuid:...)"
    if event.get("eventTime") is not None and not formats.is_utc_timestamp(event["eventTime"]):
        yield "eventTime", "must be an ISO 8601 UTC timestamp"
    profile = event.get("profile")
    if profile is not None and profile not in PROFILES:
        yield "profile", f"unknown profile {profile!r}"
    event_type = event.get("type")
    rule = EVENTS.get(event_type) if isinstance(event_type, str) else None
    if event_type is not None and rule is None:
        yield "type", f"unknown event type {event_type!r}"
        return
    rule = rule or EVENTS["Event"]
    action = event.get("action")
    if action is not None:
        if action not in ACTIONS:
            yield "action", f"unknown action {action!r}"
        elif rule.actions is not None and action not in rule.actions:
            yield "action", f"{action} is not an action of {event_type}"
    if event_type == "ToolLaunchEvent" and action == "Launched" and not event.get(
            "federatedSession"):
        yield "federatedSession", "is required when a tool is Launched"
    if event_type == "SessionEvent" and action == "TimedOut":
        yield from _ref(event.get("actor"), ("SoftwareApplication",), "actor")
        yield from _ref(event.get("object"), ("Session",), "object")
    else:
        for name in ("actor", "object"):
            if event.get(name) is not None:
                yield from _ref(event[name], getattr(rule, name), name)
    for name in ("generated", "target", "referrer"):
        if event.get(name) is not None:
            yield from _ref(event[name], getattr(rule, name), name)
    for name, allowed in _EVENT_REFS.items():
        if event.get(name) is not None:
            yield from _ref(event[name], allowed, name)
    if event.get("extensions") is not None and not isinstance(event["extensions"], dict):
        yield "extensions", "must be an object"


def _context(value: Any, path: str) -> Iterator[Violation]:
    if value is None:
        return
    values = value if isinstance(value, list) else [value]
    for item in values:
        if isinstance(item, str) and item not in CONTEXTS:
            yield path, f"unknown context {item!r}"
        elif not isinstance(item, str | dict):
            yield path, "must be a context IRI"


def _ref(value: Any, allowed: tuple[str, ...], path: str) -> Iterator[Violation]:
    """An IRI string, or an entity whose type is allowed (checked in turn)."""
    if isinstance(value, str):
        if not formats.is_iri(value):
            yield path, "must be an IRI or an entity"
        return
    if not isinstance(value, dict):
        yield path, "must be an IRI or an entity"
        return
    entity_type = value.get("type")
    if entity_type not in allowed:
        yield path, f"entity type {entity_type!r} is not allowed here"
        return
    yield from _entity(value, path)


def _entity(entity: dict[str, Any], path: str, top: bool = False) -> Iterator[Violation]:
    def at(name: str) -> str:
        return f"{path}.{name}" if path else name

    entity_type = entity.get("type")
    if entity_type is None:
        yield at("type"), "is required"
        return
    model = MODEL.get(entity_type) if isinstance(entity_type, str) else None
    if model is None:
        yield at("type"), f"unknown entity type {entity_type!r}"
        return
    for name in REQUIRED.get(entity_type, ()):
        if entity.get(name) is None:
            yield at(name), "is required"
    for name in _NOT_NULL:
        if name in entity and entity[name] is None:
            yield at(name), "must not be null"
    if entity_type not in _WITHOUT_ID and not formats.is_iri(entity.get("id")):
        yield at("id"), "is required and must be an IRI"
    yield from _context(entity.get("@context"), at("@context"))
    for name, value in entity.items():
        if name in ("@context", "id", "type") or value is None:
            continue
        for message in alias_violations(entity_type, name, value):
            yield at(name), message
        if name == "otherIdentifiers":
            yield from _kind(value, "list:ref:SystemIdentifier", at(name))
        elif name in model:
            kind = model[name]
            if kind == "number" and defined_by(entity_type, name) in _INTEGER_TYPES:
                kind = "integer"  # the schema says xsd:long (a Frame's index), not decimal
            yield from _kind(value, kind, at(name))


def _kind(value: Any, kind: str, path: str) -> Iterator[Violation]:
    if kind.startswith("list:"):
        if not isinstance(value, list):
            yield path, "must be an array"
            return
        for index, item in enumerate(value):
            yield from _kind(item, kind[5:], f"{path}[{index}]")
        return
    if kind.startswith("ref:"):
        allowed = tuple(t for name in kind[4:].split("|") for t in GROUPS.get(name, (name,)))
        yield from _ref(value, allowed, path)
        return
    if kind.startswith("enum:"):
        if value not in ENUMS[kind[5:]]:
            yield path, f"unknown value {value!r}"
        return
    if not _SCALARS[kind](value):
        yield path, f"must be {kind}"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_SCALARS: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "integer": _is_int,
    # Caliper decimals are written with a decimal point: 50 is not a decimal, 50.0 is.
    "number": lambda v: isinstance(v, float),
    "lti_message_type": lambda v: v in _LTI_MESSAGE_TYPES,
    "boolean": lambda v: isinstance(v, bool),
    "datetime": formats.is_utc_timestamp,
    "duration": formats.is_duration,
    "object": lambda v: isinstance(v, dict),
    "any": lambda v: True,
}
