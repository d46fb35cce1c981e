"""The machine-wide configuration: one file per computer, written by its administrator.

Where it is:

- Linux: ``/etc/timeback-companion/config.toml``
- Windows: ``%ProgramData%\\Timeback Companion\\config.toml``
- macOS: ``/Library/Application Support/Timeback Companion/config.toml``

``COMPANION_MACHINE_CONFIG`` names another file. With ``COMPANION_CONFIG_DIR`` set (tests,
support work on a copied folder) no machine-wide file is read unless
``COMPANION_MACHINE_CONFIG`` names one. A missing file means the per-user file alone
decides; a malformed one raises ConfigError naming it.

It has the per-user file's settings (``environment``, ``[environments.<env>]`` URLs,
``[computer.<env>]`` school and classes, ``[courses.<env>]``, ``[report]``) and one of its
own::

    [network]  # the school's web proxy for Timeback (the clients use the system settings)
    proxy = "http://proxy.school.example:3128"
    no_proxy = "localhost,127.0.0.1"

Per-user settings may narrow it, never widen it (``narrow``): what the machine file sets
wins; the per-user file cannot choose another environment, other URLs, another school or
a class the machine does not serve, but it may choose a subset of the machine's classes.
A per-user value that is not allowed is left out with a warning in the log.
"""

from __future__ import annotations

import logging
import os
import sys
import tomllib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from companion.config import ComputerSetup, Config, ConfigError, _is_url, _parse

log = logging.getLogger(__name__)

MACHINE_CONFIG_ENV = "COMPANION_MACHINE_CONFIG"
FILE_NAME = "config.toml"
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy")
NO_PROXY_VARIABLES = ("NO_PROXY", "no_proxy")


@dataclass(frozen=True)
class MachineConfig:
    """What the machine-wide file says, and which of its settings it actually set."""

    path: Path
    config: Config
    sets_environment: bool = False
    sets_time_zone: bool = False
    sets_keep_journals_days: bool = False
    proxy: str | None = None
    no_proxy: str | None = None
    # per environment, the URL fields the file names
    url_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def system_path(platform: str = sys.platform, environ: Mapping[str, str] = os.environ) -> Path:
    """The system's place for the machine-wide file on ``platform``."""
    if platform == "win32":
        base = environ.get("ProgramData") or environ.get("PROGRAMDATA") or r"C:\ProgramData"
        return Path(base) / "Timeback Companion" / FILE_NAME
    if platform == "darwin":
        return Path("/Library/Application Support/Timeback Companion") / FILE_NAME
    return Path("/etc/timeback-companion") / FILE_NAME


def machine_config_path(environ: Mapping[str, str] = os.environ) -> Path | None:
    """The machine-wide file to read, or None when none is to be read."""
    chosen = environ.get(MACHINE_CONFIG_ENV)
    if chosen:
        return Path(chosen)
    if environ.get("COMPANION_CONFIG_DIR"):
        return None
    return system_path(environ=environ)


def load_machine_config(path: Path | None) -> MachineConfig | None:
    """Read the machine-wide file at ``path``; None if there is none."""
    if path is None:
        return None
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the machine-wide config file: {exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    network = data.pop("network", {})
    proxy, no_proxy = _parse_network(network, path)
    config = _parse(data, path)
    report = data.get("report", {})
    return MachineConfig(
        path=path,
        config=config,
        sets_environment="environment" in data,
        sets_time_zone="time_zone" in report,
        sets_keep_journals_days="keep_journals_days" in report,
        proxy=proxy,
        no_proxy=no_proxy,
        url_overrides=config.url_overrides,
    )


def _parse_network(section: Any, where: Path) -> tuple[str | None, str | None]:
    if not isinstance(section, dict):
        raise ConfigError(f"{where}: [network] must be a table")
    unknown = set(section) - {"proxy", "no_proxy"}
    if unknown:
        raise ConfigError(f"{where}: [network] has unknown key(s): {', '.join(sorted(unknown))}")
    proxy = section.get("proxy")
    if proxy is not None and (not isinstance(proxy, str) or not _is_url(proxy)):
        raise ConfigError(f"{where}: [network] proxy must be an http(s) URL, not {proxy!r}")
    no_proxy = section.get("no_proxy")
    if no_proxy is not None and not isinstance(no_proxy, str):
        raise ConfigError(f"{where}: [network] no_proxy must be a string of host names")
    return proxy, no_proxy


def _classes(user: ComputerSetup | None, machine: ComputerSetup, env: str) -> ComputerSetup:
    """The machine's school, with the user's classes where they are a subset of its own."""
    if user is None:
        return machine
    if user.school_id != machine.school_id:
        log.warning(
            "per-user [computer.%s] school %r left out: this computer serves %r",
            env,
            user.school_id,
            machine.school_id,
        )
        return machine
    if not machine.class_ids:  # the machine serves every class of the school
        return user
    allowed = [c for c in user.class_ids if c in machine.class_ids]
    dropped = [c for c in user.class_ids if c not in machine.class_ids]
    if dropped:
        log.warning(
            "per-user [computer.%s] classes %s left out: this computer does not serve them",
            env,
            ", ".join(dropped),
        )
    if not allowed:  # no classes means all of the school's: that would widen
        return machine
    return ComputerSetup(machine.school_id, tuple(allowed))


def narrow(user: Config, machine: MachineConfig | None) -> Config:
    """``user`` as the machine-wide file allows it (``user`` itself without one).

    The result keeps the per-user file's ``path`` (where the app writes what it records).
    """
    if machine is None:
        return user
    mine = machine.config
    environment = user.environment
    if machine.sets_environment and user.environment != mine.environment:
        if user.path is not None and user.path.exists():
            log.warning(
                "per-user environment %r left out: this computer uses %r",
                user.environment,
                mine.environment,
            )
        environment = mine.environment
    # URLs: the machine's, never the user's (unless the user's say exactly the same)
    for env, fields in user.url_overrides.items():
        if dict(fields) != dict(machine.url_overrides.get(env, {})):
            log.warning(
                "per-user [environments.%s] URLs left out: only the machine-wide "
                "configuration may set URLs",
                env,
            )
    computers = dict(user.computers)
    for env, setup in mine.computers.items():
        computers[env] = _classes(user.computers.get(env), setup, env)
    courses = {env: dict(table) for env, table in user.courses.items()}
    for env, table in mine.courses.items():
        courses[env] = {**courses.get(env, {}), **table}
    return replace(
        user,
        environment=environment,
        url_overrides={env: dict(fields) for env, fields in machine.url_overrides.items()},
        computers=computers,
        courses=courses,
        time_zone=mine.time_zone if machine.sets_time_zone else user.time_zone,
        keep_journals_days=(
            mine.keep_journals_days if machine.sets_keep_journals_days else user.keep_journals_days
        ),
    )


def narrowed(user: Config, environ: Mapping[str, str] = os.environ) -> Config:
    """``user`` narrowed by this computer's machine-wide file (``config.load_config``)."""
    return narrow(user, load_machine_config(machine_config_path(environ)))


def apply_proxy(machine: MachineConfig | None, environ: MutableMapping[str, str]) -> bool:
    """Put the machine's proxy into ``environ`` (the variables the HTTP clients and the web
    engine read); True if it set one. The machine's setting wins over the user's."""
    if machine is None or machine.proxy is None:
        return False
    for name in PROXY_VARIABLES:
        environ[name] = machine.proxy
    if machine.no_proxy is not None:
        for name in NO_PROXY_VARIABLES:
            environ[name] = machine.no_proxy
    return True
