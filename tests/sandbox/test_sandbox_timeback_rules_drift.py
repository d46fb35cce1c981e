"""The sandbox's Timeback rules must say what timeback-events-api.yaml says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from companion.sandbox.timeback_rules import SCHEMAS

NAMES = ["TimebackTimeSpentEvent", "TimebackActivityCompletedEvent", "TimebackUser",
         "TimebackActivityContext", "TimebackActivityMetric", "TimeSpentMetric", "Envelope",
         "TimebackActivityMetricsCollection", "TimebackTimeSpentMetricsCollection"]


@pytest.fixture(scope="module")
def yaml_schemas(shared: Path) -> dict[str, Any]:
    text = (shared / "reference/timeback/timeback-events-api.yaml").read_text(encoding="utf-8")
    schemas: dict[str, Any] = yaml.safe_load(text)["components"]["schemas"]
    return schemas


@pytest.mark.parametrize("name", NAMES)
def test_required_lists_match(yaml_schemas: dict[str, Any], name: str) -> None:
    assert set(SCHEMAS[name].required) == set(yaml_schemas[name].get("required", []))


@pytest.mark.parametrize("name", NAMES)
def test_consts_match(yaml_schemas: dict[str, Any], name: str) -> None:
    expected = {prop: spec["const"] for prop, spec in yaml_schemas[name]["properties"].items()
                if "const" in spec}
    assert dict(SCHEMAS[name].consts) == expected


@pytest.mark.parametrize("name", NAMES)
def test_enums_match(yaml_schemas: dict[str, Any], name: str) -> None:
    expected = {prop: tuple(spec["enum"])
                for prop, spec in yaml_schemas[name]["properties"].items() if "enum" in spec}
    assert {k: tuple(v) for k, v in SCHEMAS[name].enums.items()} == expected


@pytest.mark.parametrize("name", NAMES)
def test_every_yaml_property_is_known(yaml_schemas: dict[str, Any], name: str) -> None:
    rule = SCHEMAS[name]
    known = set(rule.kinds) | set(rule.consts) | set(rule.enums)
    assert set(yaml_schemas[name]["properties"]) - known == set()
