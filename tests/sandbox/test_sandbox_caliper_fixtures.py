"""The sandbox's Caliper validator against the 1EdTech Caliper 1.2 conformance fixtures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from companion.sandbox import caliper_rules
from companion.sandbox.validation import validate_envelope
from tests.conftest import SHARED

FIXTURES = SHARED / "conformance/caliper/fixtures/v1p2"


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*.json"))


def _problems(path: Path) -> list[Any]:
    """Validate a fixture as the kind its file name says (envelope, event or entity)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return ["not JSON"]
    name = path.name
    if name.startswith("caliperEnvelope"):
        return list(validate_envelope(data))
    if name.startswith("caliperEvent"):
        return caliper_rules.check_event(data)
    if name.startswith(("caliperEntity", "caliperIdentifier")):
        return caliper_rules.check_entity(data)
    pytest.skip(f"{name} is not an envelope, event or entity")
    return []


@pytest.mark.parametrize("name", _names(FIXTURES))
def test_valid_fixture_is_accepted(shared: Path, name: str) -> None:
    path = shared / "conformance/caliper/fixtures/v1p2" / name
    assert _problems(path) == []


@pytest.mark.parametrize("name", _names(FIXTURES / "commonErrorFixtures"))
def test_error_fixture_is_rejected(shared: Path, name: str) -> None:
    path = shared / "conformance/caliper/fixtures/v1p2/commonErrorFixtures" / name
    assert _problems(path) != []


def test_fixture_folders_are_not_empty(shared: Path) -> None:
    folder = shared / "conformance/caliper/fixtures/v1p2"
    assert len(_names(folder)) > 50
    assert len(_names(folder / "commonErrorFixtures")) > 100
