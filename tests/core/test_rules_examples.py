"""The worked examples of learning-rules.md, replayed through `summarize`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from companion.core.journal import parse_jsonl
from companion.core.rules import summarize
from tests.conftest import SHARED


def _names() -> list[str]:
    # Collection needs the names before fixtures exist; the test itself reads via `shared`.
    found = sorted(p.stem for p in (SHARED / "spec" / "examples").glob("*.jsonl"))
    return found or ["(no examples found)"]


@pytest.mark.parametrize("name", _names())
def test_example_matches_expected(shared: Path, name: str) -> None:
    folder = shared / "spec" / "examples"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    journal = folder / f"{name}.jsonl"
    assert journal.is_file(), f"missing example {journal}"
    got = summarize(list(parse_jsonl(journal.read_text(encoding="utf-8").splitlines())))
    want = expected[name]
    # section 5: the keys after the examples' own (who scored the answers) follow them
    assert set(got) == set(want) | {"appScored", "contentScored"}
    assert got["appScored"] + got["contentScored"] == got["questions"]
    for key, value in want.items():
        if key.endswith("Seconds"):
            assert got[key] == pytest.approx(value, abs=0.0005), key
        else:
            assert got[key] == value, key


def test_every_example_has_an_expectation(shared: Path) -> None:
    folder = shared / "spec" / "examples"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    names = {p.stem for p in folder.glob("*.jsonl")}
    assert names, "no example journals"
    assert names == set(expected)
