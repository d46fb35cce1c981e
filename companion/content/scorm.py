"""SCORM 1.2 and 2004 manifests: what ``imsmanifest.xml`` says a package launches.

``read_manifest`` parses the manifest with defusedxml (no entity expansion, no external
entities, no network) and returns a ``Manifest``: its version, the default organization's
title and every item that launches a resource (``Sco``), in document order. Elements are
matched by local name, so that the many namespace spellings of real exports all read.

- The version comes from ``<metadata><schemaversion>`` ("1.2", "CAM 1.3" or "2004 2nd
  Edition", "2004 3rd Edition", "2004 4th Edition"); without one, from the namespaces: the
  1.2 ``adlcp_rootv1p2`` namespace is 1.2, the 2004 ``adlcp_v1p3`` namespace (shared by the
  2nd, 3rd and 4th editions) is taken as the earliest, "2004 2nd Edition".
- A resource's href has every ``xml:base`` above it applied (manifest, resources,
  resource), and the item's ``parameters`` appended as SCORM CAM section 3.4.1.10 says.
- ``masteryScore`` is a fraction from 0 to 1: SCORM 1.2's ``adlcp:masteryscore`` / 100, or
  SCORM 2004's primary objective ``minNormalizedMeasure`` when ``satisfiedByMeasure`` is
  true (1 when the element is missing, as IMS Simple Sequencing defaults it).

Standard library, defusedxml and ``companion.core`` only; no Qt.
"""

from __future__ import annotations

import posixpath
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Literal
from urllib.parse import unquote, urlsplit

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

MANIFEST_FILE = "imsmanifest.xml"
MAX_MANIFEST_BYTES = 8 * 1024 * 1024
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

Version = Literal["1.2", "2004 2nd Edition", "2004 3rd Edition", "2004 4th Edition"]
ScoType = Literal["sco", "asset"]

_SCHEMA_VERSIONS: dict[str, Version] = {
    "1.2": "1.2",
    "cam 1.3": "2004 2nd Edition",
    "2004 2nd edition": "2004 2nd Edition",
    "2004 3rd edition": "2004 3rd Edition",
    "2004 4th edition": "2004 4th Edition",
}


class ManifestProblem(ValueError):
    """Why a manifest cannot be used (a sentence for a guide)."""


@dataclass(frozen=True, slots=True)
class Sco:
    """One launchable item of the default organization.

    ``href`` is the launch address relative to the package root, with ``xml:base`` and the
    item's parameters applied; ``path`` is the file it names (decoded, no query or
    fragment). ``completion_threshold`` is 2004's ``adlcp:completionThreshold`` (None when
    the item sets none).
    """

    id: str
    title: str
    href: str
    path: str
    type: ScoType
    mastery_score: Fraction | None
    completion_threshold: Fraction | None = None
    launch_data: str = ""  # adlcp:datafromlms (1.2) / adlcp:dataFromLMS (2004)

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "href": self.href,
            "type": self.type,
            "masteryScore": fraction_json(self.mastery_score),
        }


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a package offers: its version, title and launchable items in order."""

    identifier: str
    version: Version | None
    title: str
    scos: tuple[Sco, ...]

    @property
    def api(self) -> Literal["1.2", "2004"] | None:
        """The run-time API the package expects (None when the version is unknown)."""
        if self.version is None:
            return None
        return "1.2" if self.version == "1.2" else "2004"

    @property
    def mastery_score(self) -> Fraction | None:
        """The first item's mastery score that has one."""
        return next((s.mastery_score for s in self.scos if s.mastery_score is not None), None)

    def to_json(self) -> dict[str, object]:
        return {
            "format": "scorm",
            "version": self.version,
            "title": self.title,
            "scos": [s.to_json() for s in self.scos],
            "masteryScore": fraction_json(self.mastery_score),
        }


@dataclass(frozen=True, slots=True)
class ScormLaunch:
    """How the session window starts one item of a SCORM package.

    ``href`` is the launch address relative to the bundle root (parameters included);
    ``api`` the run-time API the package looks for; ``sco_type`` "asset" for an item that
    does not talk to the API at all.
    """

    api: Literal["1.2", "2004"]
    href: str
    sco_id: str
    sco_type: Literal["sco", "asset"]
    mastery_score: Fraction | None
    version: str
    completion_threshold: Fraction | None = None
    launch_data: str = ""


def fraction_json(value: Fraction | None) -> float | int | None:
    """A fraction as a JSON number with no rounding noise (0.8, not 0.8000000000000002)."""
    if value is None:
        return None
    if value.denominator == 1:
        return int(value)
    return float(Decimal(value.numerator) / Decimal(value.denominator))


def read_manifest(data: bytes) -> Manifest:
    """Parse ``imsmanifest.xml``'s bytes; raises ManifestProblem."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise ManifestProblem(f"{MANIFEST_FILE} is too large")
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise ManifestProblem(f"{MANIFEST_FILE} uses XML features that are refused "
                              f"({type(exc).__name__})") from None
    except ET.ParseError as exc:
        raise ManifestProblem(f"{MANIFEST_FILE} is not well-formed XML ({exc})") from None
    if _local(root.tag) != "manifest":
        raise ManifestProblem(f"{MANIFEST_FILE} does not hold a <manifest>")
    version = _version(root)
    resources = _resources(root)
    organization = _default_organization(root)
    if organization is None:
        raise ManifestProblem("nothing to launch: the manifest has no organization")
    title = _title(organization) or root.get("identifier", "") or "Untitled package"
    collection = _sequencing_collection(root)
    scos: list[Sco] = []
    for item in _items(organization):
        ref = item.get("identifierref")
        if not ref:
            continue
        resource = resources.get(ref)
        if resource is None:
            raise ManifestProblem(f"item {item.get('identifier', '?')!r} points to resource "
                                  f"{ref!r}, which the manifest does not define")
        scos.append(_sco(item, resource, version, collection))
    if not scos:
        raise ManifestProblem("nothing to launch: no item of the default organization "
                              "points to a resource")
    return Manifest(root.get("identifier", "").strip(), version, title, tuple(scos))


# --------------------------------------------------------------------------- parts


def _local(tag: object) -> str:
    """An element's or attribute's name without its namespace, lower-cased."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1].lower()


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in element if _local(c.tag) == name]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next(iter(_children(element, name)), None)


def _attr(element: ET.Element, name: str) -> str | None:
    """An attribute by local name (any namespace, any case)."""
    for key, value in element.attrib.items():
        if key != XML_BASE and _local(key) == name:
            return value
    return None


def _title(element: ET.Element) -> str:
    title = _child(element, "title")
    return " ".join((title.text or "").split()) if title is not None else ""


def _version(root: ET.Element) -> Version | None:
    metadata = _child(root, "metadata")
    schema_version = _child(metadata, "schemaversion") if metadata is not None else None
    if schema_version is not None and (schema_version.text or "").strip():
        text = " ".join((schema_version.text or "").split()).lower()
        known = _SCHEMA_VERSIONS.get(text)
        if known is None:
            raise ManifestProblem(f"unknown SCORM schemaversion {schema_version.text!r}")
        return known
    namespaces = {e.tag.split("}", 1)[0][1:].lower() for e in root.iter()
                  if isinstance(e.tag, str) and e.tag.startswith("{")}
    for e in root.iter():
        namespaces.update(k.split("}", 1)[0][1:].lower() for k in e.attrib if k.startswith("{"))
    if any("adlcp_rootv1p2" in ns for ns in namespaces):
        return "1.2"
    if any(ns.endswith(("adlcp_v1p3", "imsss", "adlseq_v1p3", "adlnav_v1p3"))
           for ns in namespaces):
        return "2004 2nd Edition"
    return None


def _default_organization(root: ET.Element) -> ET.Element | None:
    organizations = _child(root, "organizations")
    if organizations is None:
        return None
    choices = _children(organizations, "organization")
    default = organizations.get("default")
    for organization in choices:
        if default and organization.get("identifier") == default:
            return organization
    return choices[0] if choices else None


def _items(element: ET.Element) -> list[ET.Element]:
    """Every item under ``element``, in document order."""
    out: list[ET.Element] = []
    for item in _children(element, "item"):
        out.append(item)
        out.extend(_items(item))
    return out


def _resources(root: ET.Element) -> dict[str, tuple[ET.Element, str]]:
    """Resources by identifier, each with the xml:base that applies to its href."""
    base = root.get(XML_BASE, "")
    out: dict[str, tuple[ET.Element, str]] = {}
    for resources in _children(root, "resources"):
        outer = _join_base(base, resources.get(XML_BASE, ""))
        for resource in _children(resources, "resource"):
            identifier = resource.get("identifier")
            if identifier:
                out[identifier] = (resource, _join_base(outer, resource.get(XML_BASE, "")))
    return out


def _join_base(base: str, more: str) -> str:
    if not more:
        return base
    if urlsplit(more).scheme or more.startswith("/"):
        return more
    if base and not base.endswith("/"):
        base += "/"
    return base + more


def _with_parameters(href: str, parameters: str) -> str:
    """``href`` with an item's ``parameters`` appended (SCORM CAM 3.4.1.10)."""
    parameters = parameters.strip().lstrip("?&")
    if not parameters:
        return href
    if parameters.startswith("#"):
        return href if "#" in href else href + parameters
    return href + ("&" if "?" in href else "?") + parameters


def _sco(
    item: ET.Element,
    resource_and_base: tuple[ET.Element, str],
    version: Version | None,
    collection: dict[str, ET.Element],
) -> Sco:
    resource, base = resource_and_base
    identifier = item.get("identifier", "").strip()
    if not identifier:
        raise ManifestProblem("an item that launches a resource has no identifier")
    href = (resource.get("href") or "").strip()
    if not href:
        raise ManifestProblem(f"item {identifier!r} points to resource "
                              f"{resource.get('identifier')!r}, which has no href to launch")
    full = _join_base(base, href) if not urlsplit(href).scheme else href
    parts = urlsplit(full)
    if parts.scheme or parts.netloc or full.startswith("/"):
        raise ManifestProblem(f"item {identifier!r} launches {full!r}, which is not a file "
                              "inside the package")
    path = posixpath.normpath(unquote(parts.path))
    if path.startswith("../") or path == "..":
        raise ManifestProblem(f"item {identifier!r} launches {full!r}, which is outside "
                              "the package")
    kind = (_attr(resource, "scormtype") or "asset").strip().lower()
    sco_type: ScoType = "sco" if kind == "sco" else "asset"
    return Sco(
        id=identifier,
        title=_title(item) or identifier,
        href=_with_parameters(full, item.get("parameters", "")),
        path=path,
        type=sco_type,
        mastery_score=_mastery(item, identifier, version, collection),
        completion_threshold=_completion_threshold(item, identifier),
        launch_data=_launch_data(item),
    )


def _launch_data(item: ET.Element) -> str:
    element = _child(item, "datafromlms")
    return (element.text or "").strip()[:4096] if element is not None else ""


def _mastery(
    item: ET.Element, identifier: str, version: Version | None, collection: dict[str, ET.Element]
) -> Fraction | None:
    if version is None or version == "1.2":
        element = _child(item, "masteryscore")
        if element is None or not (element.text or "").strip():
            return None
        score = _number(element.text or "", f"item {identifier!r}: adlcp:masteryscore")
        if not 0 <= score <= 100:
            raise ManifestProblem(f"item {identifier!r}: adlcp:masteryscore must be from 0 "
                                  f"to 100, not {(element.text or '').strip()!r}")
        return score / 100
    objective = _primary_objective(item, collection)
    if objective is None:
        return None
    if (objective.get("satisfiedByMeasure") or "").strip().lower() not in ("true", "1"):
        return None
    measure = _child(objective, "minnormalizedmeasure")
    if measure is None or not (measure.text or "").strip():
        return Fraction(1)
    value = _number(measure.text or "", f"item {identifier!r}: minNormalizedMeasure")
    if not -1 <= value <= 1:
        raise ManifestProblem(f"item {identifier!r}: minNormalizedMeasure must be from -1 to "
                              f"1, not {(measure.text or '').strip()!r}")
    return max(value, Fraction(0))


def _sequencing_collection(root: ET.Element) -> dict[str, ET.Element]:
    out: dict[str, ET.Element] = {}
    for collection in _children(root, "sequencingcollection"):
        for sequencing in _children(collection, "sequencing"):
            if sequencing.get("ID"):
                out[sequencing.get("ID", "")] = sequencing
    return out


def _primary_objective(item: ET.Element, collection: dict[str, ET.Element]) -> ET.Element | None:
    sequencing = _child(item, "sequencing")
    if sequencing is None:
        return None
    for source in (sequencing, collection.get(sequencing.get("IDRef", ""))):
        if source is None:
            continue
        objectives = _child(source, "objectives")
        primary = _child(objectives, "primaryobjective") if objectives is not None else None
        if primary is not None:
            return primary
    return None


def _completion_threshold(item: ET.Element, identifier: str) -> Fraction | None:
    element = _child(item, "completionthreshold")
    if element is None:
        return None
    text = element.get("minProgressMeasure") or (element.text or "").strip()  # 4th / 3rd ed.
    if not text:
        return None
    value = _number(text, f"item {identifier!r}: completionThreshold")
    if not 0 <= value <= 1:
        raise ManifestProblem(f"item {identifier!r}: completionThreshold must be from 0 to 1")
    return value


def _number(text: str, what: str) -> Fraction:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ManifestProblem(f"{what} is not a number: {text.strip()!r}") from None
    if not value.is_finite():
        raise ManifestProblem(f"{what} is not a number: {text.strip()!r}")
    return Fraction(value)
