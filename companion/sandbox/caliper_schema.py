"""Caliper 1.2 validation with the official 1EdTech JSON Schemas (shipped in
``caliper_schemas/``, see its README for where they come from and the one patched file).

The schemas are draft-04 with 1EdTech's conventions: each file's ``id`` is a type name and
``$ref``s are bare type names (``"Person"``) or ``CaliperTypeDefinitions#/...``. Every file
is registered under its ``id``, so that those references resolve inside the registry and
nothing is fetched. Formats (``date-time``, ``uri``, ...) are checked.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

ENVELOPE = "Envelope"
_ENVELOPE_FILE = "Envelope.caliperbootcamp-0a2d118c.json"

Violation = tuple[str, str]


@cache
def registry() -> Registry[Any]:
    """Every shipped schema, by its ``id`` (the type name it describes)."""
    folder = resources.files("companion.sandbox") / "caliper_schemas"
    pairs = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".json"):
            continue
        contents = json.loads(entry.read_text(encoding="utf-8"))
        name = ENVELOPE if entry.name == _ENVELOPE_FILE else str(contents["id"])
        pairs.append((name, DRAFT4.create_resource(contents)))
    return Registry().with_resources(pairs)


def type_names() -> frozenset[str]:
    """The types the schemas describe (events, entities, the envelope and helpers)."""
    return frozenset(str(uri) for uri in registry())


@cache
def _validator(type_name: str) -> Draft4Validator:
    return Draft4Validator({"$ref": type_name}, registry=registry(),
                           format_checker=Draft4Validator.FORMAT_CHECKER)


def schema_violations(data: Any, type_name: str) -> list[Violation]:
    """(field path, message) for every way ``data`` breaks the schema of ``type_name``.

    Unknown types are reported as such (the caller decides whether that is an error).
    """
    if type_name not in type_names():
        return [("type", f"no Caliper 1.2 schema for type {type_name!r}")]
    out: list[Violation] = []
    for error in _validator(type_name).iter_errors(data):
        path = ".".join(str(part) for part in error.absolute_path)
        out.append((path, _message(error)))
    return out


def _message(error: Any) -> str:
    """The most specific reason (an ``anyOf`` failure names its best sub-error)."""
    best = error
    while best.context:
        best = min(best.context, key=lambda e: (-len(e.absolute_path), str(e.message)))
    return str(best.message)


@cache
def alternatives(type_name: str, prop: str) -> tuple[str, ...]:
    """The entity types the schema of ``type_name`` allows as the value of ``prop`` (its
    ``anyOf`` of ``$ref``s, or the ``$ref`` itself, for one value or an array of them); ()
    when the property takes no entity or is unknown."""
    resource = registry().get(type_name)
    if resource is None:
        return ()
    spec = (resource.contents.get("properties") or {}).get(prop)
    if not isinstance(spec, dict):
        return ()
    if spec.get("type") == "array" and isinstance(spec.get("items"), dict):
        spec = spec["items"]
    options = spec.get("anyOf", [spec])
    refs = [o["$ref"] for o in options if isinstance(o, dict) and "$ref" in o]
    return tuple(r for r in refs if "#" not in r)


@cache
def defined_by(type_name: str, prop: str) -> str | None:
    """The XML Schema datatype the schema of ``type_name`` gives ``prop`` (its
    ``definedBy``, e.g. ``http://www.w3.org/2001/XMLSchema#long``), or None."""
    resource = registry().get(type_name)
    if resource is None:
        return None
    spec = (resource.contents.get("properties") or {}).get(prop)
    value = spec.get("definedBy") if isinstance(spec, dict) else None
    return value if isinstance(value, str) else None


@cache
def _aliases(type_name: str) -> dict[str, dict[str, Any]]:
    """Properties whose schema key differs from the name instances use, which the schema
    gives as the property's ``title`` (``orderedSelection`` titled ``isOrderedSelection``):
    instance name -> the property's schema."""
    resource = registry().get(type_name)
    properties = (resource.contents.get("properties") or {}) if resource is not None else {}
    return {spec["title"]: spec for key, spec in properties.items()
            if isinstance(spec, dict) and isinstance(spec.get("title"), str)
            and spec["title"] != key and spec["title"] not in properties}


def alias_violations(type_name: str, name: str, value: Any) -> list[str]:
    """Messages for ``value`` of the property instances call ``name`` when the schema
    knows it under another key (see ``_aliases``); [] when there is no such property."""
    spec = _aliases(type_name).get(name)
    if spec is None:
        return []
    validator = Draft4Validator(spec, registry=registry(),
                                format_checker=Draft4Validator.FORMAT_CHECKER)
    return [_message(error) for error in validator.iter_errors(value)]


# --- the entity model, read from the schemas ------------------------------------------------
#
# Kinds: "string", "integer", "number" (a decimal: written with a point), "boolean",
# "datetime", "duration", "object", "any", "enum:<key>" (values in ``enums()``),
# "ref:<Type>|<Type>..." (an IRI string, or an entity of one of the types) and "list:<kind>".

_XSD = "http://www.w3.org/2001/XMLSchema#"
_SCALARS = {"string": "string", "anyURI": "string", "boolean": "boolean",
            "dateTime": "datetime", "duration": "duration", "decimal": "number",
            "float": "number", "double": "number", "long": "integer", "int": "integer",
            "integer": "integer", "nonNegativeInteger": "integer",
            "positiveInteger": "integer"}
_ENUMS: dict[str, tuple[str, ...]] = {}


def _resolve(ref: str) -> dict[str, Any] | None:
    """The schema a ``$ref`` names: a type's file, or a fragment of one."""
    name, _, fragment = ref.partition("#")
    resource = registry().get(name)
    if resource is None:
        return None
    node: Any = resource.contents
    for part in (p for p in fragment.split("/") if p):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _kind(spec: Any, key: str, depth: int = 0) -> str:
    if not isinstance(spec, dict) or depth > 4:
        return "any"
    if spec.get("type") == "array":
        return "list:" + _kind(spec.get("items", {}), key, depth + 1)
    if isinstance(spec.get("$ref"), str):
        ref = spec["$ref"]
        target = _resolve(ref)
        if "#" in ref:
            return _kind(target, key, depth + 1)
        if target is not None and "enum" in target:
            return _kind(target, ref, depth + 1)
        if ref.endswith("extensions"):
            return "object"
        return f"ref:{ref}"
    refs = [o["$ref"] for o in spec.get("anyOf", []) if isinstance(o, dict)
            and isinstance(o.get("$ref"), str) and "#" not in o["$ref"]]
    if refs:
        return "ref:" + "|".join(refs)
    if isinstance(spec.get("enum"), list):
        _ENUMS[key] = tuple(str(v) for v in spec["enum"])
        return f"enum:{key}"
    defined = spec.get("definedBy")
    if isinstance(defined, str) and defined.startswith(_XSD) and spec.get("type") != "object":
        return _SCALARS.get(defined.removeprefix(_XSD), "any")
    plain = {"string": "string", "boolean": "boolean", "integer": "integer",
             "number": "number", "object": "object"}
    kind = spec.get("type")
    return plain.get(kind, "any") if isinstance(kind, str) else "any"


@cache
def entity_model() -> dict[str, dict[str, str]]:
    """Property kinds per entity type, read from the schemas (the name instances use for
    a property: its ``title`` when the key differs, as ``isOrderedSelection``)."""
    model: dict[str, dict[str, str]] = {}
    for uri in registry():
        name = str(uri)
        contents = registry()[name].contents
        properties = contents.get("properties") if isinstance(contents, dict) else None
        if not isinstance(properties, dict) or name.endswith("Event") or name in (
            "Envelope", "CaliperData"
        ):
            continue
        kinds = {}
        for key, spec in properties.items():
            title = spec.get("title") if isinstance(spec, dict) else None
            used = title if isinstance(title, str) and title not in properties else key
            kinds[used] = _kind(spec, f"{name}.{used}")
        model[name] = kinds
    return model


def enums() -> dict[str, tuple[str, ...]]:
    """The enumerations the model's "enum:<key>" kinds name."""
    entity_model()
    return dict(_ENUMS)
