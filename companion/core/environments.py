"""Timeback environments: their names and the base URLs of sandbox, staging and production.

The one place that names the environments; it imports nothing of the app, so the config,
the clients and the windows all take the names from here. Every URL can be overridden,
first by the config file and then by environment variables named
``COMPANION_<ENV>_<FIELD>``, e.g. ``COMPANION_STAGING_CALIPER_BASE`` (both passed in as
mappings: ``companion.config.resolve_environment`` reads the real ones). Hosts have moved
before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

ENVIRONMENT_NAMES: tuple[str, ...] = ("sandbox", "staging", "production")
URL_FIELDS: tuple[str, ...] = (
    "token_url",
    "oneroster_base",
    "caliper_base",
    "lti_issuer",
    "lti_jwks_url",
    "lti_auth_url",
)
# The sandbox runs on loopback; ``base_url`` sets its token, OneRoster and Caliper URLs at once.
SANDBOX_FIELDS: tuple[str, ...] = ("base_url", *URL_FIELDS)
DEFAULT_SANDBOX_BASE = "http://127.0.0.1:8787"


@dataclass(frozen=True)
class Environment:
    """Where one Timeback environment lives.

    ``token_url`` is the full OAuth2 token endpoint; ``oneroster_base`` and ``caliper_base``
    are host roots to which API paths are appended. The LTI values may be unknown (None).
    """

    name: str
    token_url: str
    oneroster_base: str
    caliper_base: str
    lti_issuer: str | None = None
    lti_jwks_url: str | None = None
    lti_auth_url: str | None = None  # the platform's OIDC authorization endpoint

    @property
    def uses_keyring(self) -> bool:
        """Whether credentials come from the OS keyring (not for the sandbox)."""
        return self.name != "sandbox"


def sandbox_environment(base_url: str = DEFAULT_SANDBOX_BASE) -> Environment:
    """The sandbox: one loopback server serving token, OneRoster and Caliper."""
    base = base_url.rstrip("/")
    return Environment(
        name="sandbox",
        token_url=f"{base}/oauth2/token",
        oneroster_base=base,
        caliper_base=base,
        lti_issuer=base,
        lti_jwks_url=f"{base}/.well-known/jwks.json",
        lti_auth_url=f"{base}/lti/authorize",
    )


# The integration guide gives the Cognito IdP hosts (token endpoint /oauth2/token) and the
# API hosts; it does not give LTI issuer or JWKS values, so those stay unset.
DEFAULTS: Mapping[str, Environment] = {
    "sandbox": sandbox_environment(),
    "staging": Environment(
        name="staging",
        token_url="https://alpha-auth-development-idp.auth.us-west-2.amazoncognito.com/oauth2/token",
        oneroster_base="https://api.staging.alpha-1edtech.com",
        caliper_base="https://caliper-staging.alpha-1edtech.com",
    ),
    "production": Environment(
        name="production",
        token_url="https://alpha-auth-production-idp.auth.us-west-2.amazoncognito.com/oauth2/token",
        oneroster_base="https://api.alpha-1edtech.com",
        caliper_base="https://caliper.alpha-1edtech.com",
    ),
}


def env_var_name(environment: str, field: str) -> str:
    """The environment variable that overrides ``field`` of ``environment``."""
    return f"COMPANION_{environment.upper()}_{field.upper()}"


def _apply(env: Environment, overrides: Mapping[str, str]) -> Environment:
    if env.name == "sandbox" and "base_url" in overrides:
        env = sandbox_environment(overrides["base_url"])
    values = {k: v.rstrip("/") if k != "token_url" else v
              for k, v in overrides.items() if k in URL_FIELDS}
    return replace(env, **values) if values else env


def resolve(name: str, overrides: Mapping[str, str], environ: Mapping[str, str]) -> Environment:
    """The environment ``name`` with config-file ``overrides`` then the variables in
    ``environ`` applied. Unknown names or settings raise ValueError."""
    if name not in DEFAULTS:
        raise ValueError(
            f"unknown Timeback environment {name!r}; expected one of {', '.join(ENVIRONMENT_NAMES)}"
        )
    fields = SANDBOX_FIELDS if name == "sandbox" else URL_FIELDS
    unknown = set(overrides) - set(fields)
    if unknown:
        raise ValueError(f"unknown setting(s) for {name}: {', '.join(sorted(unknown))}")
    env = _apply(DEFAULTS[name], overrides)
    from_vars = {f: environ[env_var_name(name, f)] for f in fields
                 if environ.get(env_var_name(name, f))}
    return _apply(env, from_vars)
