"""Hand-written SCORM 1.2 and 2004 packages for the content and session tests.

``manifest_12`` and ``manifest_2004`` write manifests the way authoring tools do (namespaces,
``adlcp:scormtype`` / ``adlcp:scormType``, mastery scores, sequencing); ``write_package``
puts a manifest and its pages in a folder, ``zip_package`` zips one.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from xml.sax.saxutils import quoteattr

NS_12 = (
    'xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" '
    'xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
NS_2004 = (
    'xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" '
    'xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" '
    'xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3" '
    'xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3" '
    'xmlns:imsss="http://www.imsglobal.org/xsd/imsss" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)
PAGE = "<!DOCTYPE html><html><head><title>SCO</title></head><body><p>SCO</p></body></html>"


def item_12(ident: str, ref: str, title: str, mastery: str | None = None,
            parameters: str | None = None, launch_data: str | None = None) -> str:
    params = f" parameters={quoteattr(parameters)}" if parameters is not None else ""
    score = f"<adlcp:masteryscore>{mastery}</adlcp:masteryscore>" if mastery is not None else ""
    data = (f"<adlcp:datafromlms>{launch_data}</adlcp:datafromlms>"
            if launch_data is not None else "")
    return (f'<item identifier="{ident}" identifierref="{ref}"{params}>'
            f"<title>{title}</title>{score}{data}</item>")


def resource_12(ident: str, href: str, kind: str = "sco", base: str | None = None) -> str:
    xml_base = f' xml:base="{base}"' if base is not None else ""
    return (f'<resource identifier="{ident}" type="webcontent" adlcp:scormtype="{kind}" '
            f'href="{href}"{xml_base}><file href="{href}"/></resource>')


def manifest_12(items: str, resources: str, *, schemaversion: str | None = "1.2",
                title: str = "Fractions", identifier: str = "com.example.fractions",
                resources_base: str | None = None) -> str:
    meta = (f"<metadata><schema>ADL SCORM</schema><schemaversion>{schemaversion}"
            "</schemaversion></metadata>" if schemaversion is not None else "")
    base = f' xml:base="{resources_base}"' if resources_base is not None else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest identifier="{identifier}" '
            f'version="1" {NS_12}>{meta}<organizations default="org1">'
            f'<organization identifier="org1"><title>{title}</title>{items}</organization>'
            f"</organizations><resources{base}>{resources}</resources></manifest>")


def item_2004(ident: str, ref: str, title: str, min_measure: str | None = None,
              by_measure: bool = True, threshold: str | None = None) -> str:
    seq = ""
    if min_measure is not None:
        seq = ('<imsss:sequencing><imsss:objectives>'
               f'<imsss:primaryObjective objectiveID="{ident}-obj" '
               f'satisfiedByMeasure="{"true" if by_measure else "false"}">'
               f"<imsss:minNormalizedMeasure>{min_measure}</imsss:minNormalizedMeasure>"
               "</imsss:primaryObjective></imsss:objectives></imsss:sequencing>")
    completion = (f'<adlcp:completionThreshold completedByMeasure="true" '
                  f'minProgressMeasure="{threshold}"/>' if threshold is not None else "")
    return (f'<item identifier="{ident}" identifierref="{ref}"><title>{title}</title>'
            f"{completion}{seq}</item>")


def resource_2004(ident: str, href: str, kind: str = "sco") -> str:
    return (f'<resource identifier="{ident}" type="webcontent" adlcp:scormType="{kind}" '
            f'href="{href}"><file href="{href}"/></resource>')


def manifest_2004(items: str, resources: str, *,
                  schemaversion: str | None = "2004 4th Edition",
                  title: str = "Cells", identifier: str = "org.example.cells") -> str:
    meta = (f"<metadata><schema>ADL SCORM</schema><schemaversion>{schemaversion}"
            "</schemaversion></metadata>" if schemaversion is not None else "")
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest identifier="{identifier}" '
            f'version="1" {NS_2004}>{meta}<organizations default="ORG">'
            f'<organization identifier="OTHER"><title>Not this one</title>'
            f'<item identifier="x" identifierref="r1"><title>x</title></item></organization>'
            f'<organization identifier="ORG"><title>{title}</title>{items}</organization>'
            f"</organizations><resources>{resources}</resources></manifest>")


def write_package(folder: Path, manifest: str, pages: dict[str, str] | None = None) -> Path:
    """A package folder with ``manifest`` and ``pages`` (path → text; PAGE by default)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "imsmanifest.xml").write_text(manifest, encoding="utf-8")
    for name, text in (pages or {}).items():
        file = folder / name
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
    return folder


def zip_package(folder: Path, path: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(folder).as_posix())
    return path


def single_12(folder: Path, mastery: str | None = "80", page: str = PAGE) -> Path:
    """A one-SCO SCORM 1.2 package with a mastery score."""
    return write_package(
        folder,
        manifest_12(item_12("item1", "res1", "Adding fractions", mastery),
                    resource_12("res1", "index.html")),
        {"index.html": page},
    )


def multi_2004(folder: Path, pages: dict[str, str] | None = None) -> Path:
    """A three-SCO SCORM 2004 4th edition package (a course)."""
    items = (item_2004("i1", "r1", "What is a cell", "0.7")
             + item_2004("i2", "r2", "Cell parts")
             + item_2004("i3", "r3", "Quiz", "0.95"))
    resources = (resource_2004("r1", "one/index.html") + resource_2004("r2", "two.html")
                 + resource_2004("r3", "quiz/q.html"))
    default = {"one/index.html": PAGE, "two.html": PAGE, "quiz/q.html": PAGE}
    return write_package(folder, manifest_2004(items, resources), pages or default)
