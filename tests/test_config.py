"""config.toml written by ``to_toml`` reads back to the same settings; names come from core."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from companion import config as config_module
from companion.config import ComputerSetup, Config, load_config, resolve_environment, to_toml
from companion.core import environments


def _round_trip(config: Config, tmp_path: Path) -> Config:
    where = tmp_path / "config.toml"
    where.write_text(to_toml(config), encoding="utf-8")
    return load_config(where)


@pytest.mark.parametrize(
    "config",
    [
        Config(),
        Config(
            environment="staging",
            url_overrides={
                "staging": {
                    "caliper_base": "https://caliper.moved.test",
                    "token_url": "https://idp.test/oauth2/token",
                },
                "sandbox": {"base_url": "http://127.0.0.1:9999"},
            },
            courses={
                "staging": {"math g3": 'tb "3"', "demo-course-1": "tb-demo", "é": "ü"},
                "production": {"a.b": "c"},
            },
            computers={
                "staging": ComputerSetup("school-1", ("class-a", "class b")),
                "production": ComputerSetup("school-2"),
            },
            time_zone="Europe/Paris",
            keep_journals_days=30,
        ),
        Config(keep_journals_days=7),
        Config(time_zone="America/New_York"),
    ],
)
def test_what_is_written_reads_back_equal(config: Config, tmp_path: Path) -> None:
    back = _round_trip(config, tmp_path)
    assert back.environment == config.environment
    assert back.url_overrides == config.url_overrides
    assert back.courses == config.courses
    assert back.computers == config.computers
    assert (back.time_zone, back.keep_journals_days) == (
        config.time_zone,
        config.keep_journals_days,
    )


def test_defaults_write_only_the_environment() -> None:
    assert tomllib.loads(to_toml(Config())) == {"environment": "sandbox"}


def test_the_names_are_core_ones_and_config_needs_no_client() -> None:
    assert config_module.ENVIRONMENT_NAMES is environments.ENVIRONMENT_NAMES
    assert config_module.URL_FIELDS is environments.URL_FIELDS
    assert config_module.SANDBOX_FIELDS is environments.SANDBOX_FIELDS
    resolved = resolve_environment("staging", {"caliper_base": "https://c.test/"}, environ={})
    assert resolved.caliper_base == "https://c.test"
    assert resolved.oneroster_base == environments.DEFAULTS["staging"].oneroster_base
