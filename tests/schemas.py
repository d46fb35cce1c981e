"""JSON Schema validators for the component schemas of Timeback's OpenAPI files.

``validator(shared, "TimebackTimeSpentEvent")`` returns a Draft 2020-12 validator (the
dialect of OpenAPI 3.1) for ``#/components/schemas/TimebackTimeSpentEvent`` of
``reference/timeback/timeback-events-api.yaml``, with every ``$ref`` into the same file
resolved and the formats date-time, uri and email checked (each only when jsonschema has
the library it needs). OpenAPI's ``discriminator`` and ``example`` are ignored as unknown
keywords; ``const`` and type lists are plain JSON Schema.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

EVENTS_API = "timeback-events-api.yaml"
CHECKED_FORMATS = ("date-time", "uri", "email")


def validator(shared: Path, name: str, spec: str = EVENTS_API) -> Draft202012Validator:
    """A validator for the component schema ``name`` of ``reference/timeback/<spec>``."""
    path = (shared / "reference" / "timeback" / spec).resolve()
    registry, base = _registry(path)
    schemas = registry.contents(base).get("components", {}).get("schemas", {})
    if name not in schemas:
        raise KeyError(f"{spec} has no component schema {name!r}")
    schema = {"$ref": f"{base}#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=registry, format_checker=format_checker())


def validate(shared: Path, name: str, instance: Any, spec: str = EVENTS_API) -> None:
    """Raise AssertionError listing every way ``instance`` breaks schema ``name``."""
    errors = sorted(validator(shared, name, spec).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        lines = [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors]
        raise AssertionError(f"{name} schema violations:\n" + "\n".join(lines))


def format_checker() -> FormatChecker:
    """A FormatChecker for the formats of CHECKED_FORMATS that this installation can check."""
    available = FormatChecker().checkers
    return FormatChecker(formats=[f for f in CHECKED_FORMATS if f in available])


@cache
def _registry(path: Path) -> tuple[Registry[Any], str]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as fh:
        document = yaml.load(fh, Loader=loader)
    base = path.as_uri()
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource(base, resource)
    return registry, base
