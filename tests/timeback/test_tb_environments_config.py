"""Environments: real defaults, config-file overrides, environment variables; config.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.config import Config, ConfigError, config_path, load_config, resolve_environment
from companion.timeback import DEFAULTS, env_var_name


def test_real_defaults() -> None:
    staging, production = DEFAULTS["staging"], DEFAULTS["production"]
    assert staging.token_url == (
        "https://alpha-auth-development-idp.auth.us-west-2.amazoncognito.com/oauth2/token")
    assert (staging.oneroster_base, staging.caliper_base) == (
        "https://api.staging.alpha-1edtech.com", "https://caliper-staging.alpha-1edtech.com")
    assert production.token_url == (
        "https://alpha-auth-production-idp.auth.us-west-2.amazoncognito.com/oauth2/token")
    assert (production.oneroster_base, production.caliper_base) == (
        "https://api.alpha-1edtech.com", "https://caliper.alpha-1edtech.com")
    assert production.lti_issuer is None and production.uses_keyring
    assert not DEFAULTS["sandbox"].uses_keyring


def test_env_var_beats_config_beats_default() -> None:
    env = resolve_environment(
        "staging",
        {"caliper_base": "https://from-config.test/", "oneroster_base": "https://or.test"},
        environ={env_var_name("staging", "caliper_base"): "https://from-env.test"},
    )
    assert env_var_name("staging", "caliper_base") == "COMPANION_STAGING_CALIPER_BASE"
    assert env.caliper_base == "https://from-env.test"
    assert env.oneroster_base == "https://or.test"
    assert env.token_url == DEFAULTS["staging"].token_url


def test_sandbox_base_url_sets_every_url() -> None:
    env = resolve_environment("sandbox", {"base_url": "http://127.0.0.1:9999/"}, environ={})
    assert (env.token_url, env.oneroster_base, env.caliper_base) == (
        "http://127.0.0.1:9999/oauth2/token", "http://127.0.0.1:9999", "http://127.0.0.1:9999")
    via_env = resolve_environment("sandbox", environ={"COMPANION_SANDBOX_BASE_URL":
                                                      "http://127.0.0.1:1234"})
    assert via_env.caliper_base == "http://127.0.0.1:1234"


def test_real_environment_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANION_PRODUCTION_TOKEN_URL", "https://idp.moved.test/oauth2/token")
    assert resolve_environment("production").token_url == "https://idp.moved.test/oauth2/token"


def test_unknown_environment_or_key() -> None:
    with pytest.raises(ValueError):
        resolve_environment("dev")
    with pytest.raises(ValueError):
        resolve_environment("staging", {"base_url": "https://x.test"})


def test_missing_file_means_defaults() -> None:
    config = load_config()
    assert config.environment == "sandbox" and config.path == config_path()
    assert config_path().parent == Path(__import__("os").environ["COMPANION_CONFIG_DIR"])


def test_config_file_is_read() -> None:
    config_path().parent.mkdir(parents=True)
    config_path().write_text(
        'environment = "staging"\n[environments.staging]\n'
        'caliper_base = "https://caliper.moved.test"\n', encoding="utf-8")
    config = load_config()
    assert config.environment == "staging"
    assert config.environment_for().caliper_base == "https://caliper.moved.test"
    assert config.environment_for("production").caliper_base == (
        "https://caliper.alpha-1edtech.com")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("environment = ", "not valid TOML"),
     ('environment = "dev"', "is not one of"),
     ('colour = "blue"', "unknown setting"),
     ('[environments.staging]\ncaliper = "https://x.test"', "unknown key"),
     ('[environments.staging]\ncaliper_base = "ftp://x"', "http(s) URL"),
     ('[environments.mars]\ncaliper_base = "https://x.test"', "is not one of"),
     ("environments = 3", "must be a table")],
)
def test_malformed_file_names_the_file(text: str, problem: str) -> None:
    config_path().parent.mkdir(parents=True)
    config_path().write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config()
    assert str(config_path()) in str(info.value) and problem in str(info.value)


def test_defaults_object() -> None:
    assert Config().environment_for().name == "sandbox"
