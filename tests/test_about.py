"""``companion --version``: the version and the build baked into a frozen build."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from companion.cli import main
from companion.system.about import build, version, version_line

REPO = Path(__file__).resolve().parents[1]


def test_a_checkout_says_its_version_and_build_dev(capsys: pytest.CaptureFixture[str]) -> None:
    expected = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    with pytest.raises(SystemExit) as ended:
        main(["--version"])
    assert ended.value.code == 0
    assert capsys.readouterr().out == f"companion {expected} (build dev)\n"


def test_a_frozen_build_says_what_was_baked_in(tmp_path: Path) -> None:
    baked = tmp_path / "_build.json"
    baked.write_text('{"version": "1.2.3", "build": "abc1234"}')
    assert (version(baked), build(baked)) == ("1.2.3", "abc1234")
    assert version_line(baked) == "companion 1.2.3 (build abc1234)"
    baked.write_text("not json")
    assert build(baked) == "dev"
