"""SCORM manifests: versions, items in order, xml:base, parameters, mastery scores, refusals."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from companion.content.scorm import ManifestProblem, fraction_json, read_manifest
from tests.content.scorm_factory import (
    item_12,
    item_2004,
    manifest_12,
    manifest_2004,
    resource_12,
    resource_2004,
)


def _one_12(**kwargs: object) -> bytes:
    item_args = {k: kwargs.pop(k) for k in ("mastery", "parameters") if k in kwargs}
    res_args = {k: kwargs.pop(k) for k in ("base",) if k in kwargs}
    href = str(kwargs.pop("href", "index.html"))
    return manifest_12(item_12("i1", "r1", "One", **item_args),  # type: ignore[arg-type]
                       resource_12("r1", href, **res_args), **kwargs).encode()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("schemaversion", "version"),
    [("1.2", "1.2"), (None, "1.2")],
)
def test_scorm_12_version_from_schemaversion_or_namespace(
    schemaversion: str | None, version: str
) -> None:
    manifest = read_manifest(_one_12(schemaversion=schemaversion))
    assert manifest.version == version
    assert manifest.api == "1.2"


@pytest.mark.parametrize(
    ("schemaversion", "version"),
    [
        ("CAM 1.3", "2004 2nd Edition"),
        ("2004 3rd Edition", "2004 3rd Edition"),
        ("2004 4th Edition", "2004 4th Edition"),
        (None, "2004 2nd Edition"),
    ],
)
def test_scorm_2004_editions(schemaversion: str | None, version: str) -> None:
    xml = manifest_2004(item_2004("i1", "r1", "A"), resource_2004("r1", "a.html"),
                        schemaversion=schemaversion)
    manifest = read_manifest(xml.encode())
    assert manifest.version == version
    assert manifest.api == "2004"


def test_unknown_schemaversion_is_refused() -> None:
    with pytest.raises(ManifestProblem, match=r"unknown SCORM schemaversion '1.1'"):
        read_manifest(_one_12(schemaversion="1.1"))


def test_items_in_document_order_of_the_default_organization() -> None:
    items = (item_2004("i1", "r1", "First")
             + '<item identifier="folder"><title>Unit</title>'
             + item_2004("i2", "r2", "Nested") + "</item>"
             + item_2004("i3", "r1", "Third"))
    resources = resource_2004("r1", "a.html") + resource_2004("r2", "b.html", "asset")
    manifest = read_manifest(manifest_2004(items, resources, title="Cell biology").encode())
    assert manifest.title == "Cell biology"
    assert [(s.id, s.title, s.href, s.type) for s in manifest.scos] == [
        ("i1", "First", "a.html", "sco"),
        ("i2", "Nested", "b.html", "asset"),
        ("i3", "Third", "a.html", "sco"),
    ]


def test_without_a_default_the_first_organization_is_used() -> None:
    xml = manifest_2004(item_2004("i1", "r1", "A"), resource_2004("r1", "a.html"))
    xml = xml.replace('<organizations default="ORG">', "<organizations>")
    manifest = read_manifest(xml.encode())
    assert manifest.title == "Not this one"
    assert [s.id for s in manifest.scos] == ["x"]


def test_xml_base_of_manifest_resources_and_resource_is_applied() -> None:
    xml = manifest_12(item_12("i1", "r1", "One"),
                      resource_12("r1", "start%20here.html", base="lesson1/"),
                      resources_base="content")
    xml = xml.replace("<manifest ", '<manifest xml:base="pkg/" ', 1)
    sco = read_manifest(xml.encode()).scos[0]
    assert sco.href == "pkg/content/lesson1/start%20here.html"
    assert sco.path == "pkg/content/lesson1/start here.html"


@pytest.mark.parametrize(
    ("href", "parameters", "launch"),
    [
        ("a.html", "?page=2", "a.html?page=2"),
        ("a.html", "&page=2", "a.html?page=2"),
        ("a.html?x=1", "page=2", "a.html?x=1&page=2"),
        ("a.html?x=1", "?page=2", "a.html?x=1&page=2"),
        ("a.html", "#part2", "a.html#part2"),
        ("a.html#top", "#part2", "a.html#top"),
        ("a.html", "", "a.html"),
    ],
)
def test_item_parameters_are_appended_as_the_cam_says(
    href: str, parameters: str, launch: str
) -> None:
    sco = read_manifest(_one_12(href=href, parameters=parameters)).scos[0]
    assert sco.href == launch
    assert sco.path == "a.html"


@pytest.mark.parametrize(("text", "fraction", "as_json"),
                         [("80", Fraction(4, 5), "0.8"), ("85.5", Fraction(171, 200), "0.855"),
                          ("100", Fraction(1), "1"), ("0", Fraction(0), "0"),
                          ("70.0", Fraction(7, 10), "0.7")])
def test_scorm_12_mastery_score_is_a_fraction(text: str, fraction: Fraction, as_json: str) -> None:
    manifest = read_manifest(_one_12(mastery=text))
    assert manifest.scos[0].mastery_score == fraction
    assert json.dumps(manifest.to_json()["masteryScore"]) == as_json


def test_scorm_12_mastery_score_out_of_range_is_refused() -> None:
    with pytest.raises(ManifestProblem, match=r"masteryscore must be from 0 to 100"):
        read_manifest(_one_12(mastery="120"))
    with pytest.raises(ManifestProblem, match=r"is not a number"):
        read_manifest(_one_12(mastery="high"))


def test_scorm_2004_mastery_from_the_primary_objective() -> None:
    items = (item_2004("i1", "r1", "A", "0.7")
             + item_2004("i2", "r1", "B", "0.6", by_measure=False)
             + item_2004("i3", "r1", "C", "0.95", threshold="0.75")
             + item_2004("i4", "r1", "D"))
    manifest = read_manifest(manifest_2004(items, resource_2004("r1", "a.html")).encode())
    assert [s.mastery_score for s in manifest.scos] == [
        Fraction(7, 10), None, Fraction(19, 20), None]
    assert manifest.scos[2].completion_threshold == Fraction(3, 4)
    obj = manifest.to_json()
    assert obj["masteryScore"] == 0.7
    assert [s["masteryScore"] for s in obj["scos"]] == [0.7, None, 0.95, None]  # type: ignore[attr-defined,index]


def test_launch_data_from_the_lms() -> None:
    xml = manifest_12(item_12("i1", "r1", "One", launch_data=" page=4 "),
                      resource_12("r1", "a.html"))
    assert read_manifest(xml.encode()).scos[0].launch_data == "page=4"


def test_scorm_2004_satisfied_by_measure_without_a_measure_is_one() -> None:
    item = item_2004("i1", "r1", "A", "x").replace(
        "<imsss:minNormalizedMeasure>x</imsss:minNormalizedMeasure>", "")
    manifest = read_manifest(manifest_2004(item, resource_2004("r1", "a.html")).encode())
    assert manifest.scos[0].mastery_score == 1


def test_scorm_2004_objective_from_the_sequencing_collection() -> None:
    item = ('<item identifier="i1" identifierref="r1"><title>A</title>'
            '<imsss:sequencing IDRef="common"/></item>')
    xml = manifest_2004(item, resource_2004("r1", "a.html")).replace(
        "</manifest>",
        '<imsss:sequencingCollection><imsss:sequencing ID="common"><imsss:objectives>'
        '<imsss:primaryObjective satisfiedByMeasure="true">'
        "<imsss:minNormalizedMeasure>0.8</imsss:minNormalizedMeasure>"
        "</imsss:primaryObjective></imsss:objectives></imsss:sequencing>"
        "</imsss:sequencingCollection></manifest>")
    assert read_manifest(xml.encode()).scos[0].mastery_score == Fraction(4, 5)


def test_the_top_mastery_score_is_the_first_item_that_has_one() -> None:
    items = item_12("a", "r1", "A") + item_12("b", "r1", "B", "75") + item_12("c", "r1", "C", "90")
    manifest = read_manifest(manifest_12(items, resource_12("r1", "a.html")).encode())
    assert manifest.to_json()["masteryScore"] == 0.75


def test_fraction_json_has_no_rounding_noise() -> None:
    assert fraction_json(Fraction(3, 10)) == 0.3
    assert json.dumps(fraction_json(Fraction(7, 100))) == "0.07"
    assert fraction_json(None) is None


@pytest.mark.parametrize(
    ("xml", "problem"),
    [
        (b"<manifest><organizations>", "not well-formed XML"),
        (b"<?xml version='1.0'?><notamanifest/>", "does not hold a <manifest>"),
        (b'<!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><manifest>&b;</manifest>',
         "refused"),
        (b'<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><manifest>&x;</manifest>',
         "refused"),
    ],
)
def test_malformed_and_hostile_manifests_are_refused(xml: bytes, problem: str) -> None:
    with pytest.raises(ManifestProblem, match=problem):
        read_manifest(xml)


def test_nothing_to_launch_is_refused() -> None:
    no_org = manifest_12("", resource_12("r1", "a.html")).replace(
        '<organization identifier="org1"><title>Fractions</title></organization>', "")
    with pytest.raises(ManifestProblem, match=r"nothing to launch: the manifest has no organ"):
        read_manifest(no_org.encode())
    folder_only = manifest_12('<item identifier="f"><title>Empty</title></item>',
                              resource_12("r1", "a.html"))
    with pytest.raises(ManifestProblem, match=r"nothing to launch: no item"):
        read_manifest(folder_only.encode())


def test_item_pointing_to_a_missing_resource_is_refused() -> None:
    xml = manifest_12(item_12("i1", "nope", "One"), resource_12("r1", "a.html"))
    with pytest.raises(ManifestProblem, match=r"item 'i1' points to resource 'nope'"):
        read_manifest(xml.encode())


@pytest.mark.parametrize("href", ["https://example.com/a.html", "/etc/passwd", "../up.html",
                                  "a/../../up.html"])
def test_launch_outside_the_package_is_refused(href: str) -> None:
    with pytest.raises(ManifestProblem, match=r"item 'i1' launches"):
        read_manifest(_one_12(href=href))
