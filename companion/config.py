"""The app's config file: ``config.toml`` in the per-user config folder.

``COMPANION_CONFIG_DIR`` overrides the folder (tests set it), else platformdirs'
``user_config_dir("timeback-companion")``. A missing file means defaults; a malformed one
raises ConfigError naming the file. Secrets never go here (they live in the OS keyring).

Example::

    environment = "staging"

    [environments.staging]
    caliper_base = "https://caliper-staging.alpha-1edtech.com"

    [environments.sandbox]
    base_url = "http://127.0.0.1:8787"

    [courses.staging]  # lesson-library course id -> Timeback course sourcedId
    demo-course-1 = "demo-course-1"

    [computer.staging]  # what this computer serves (written by the set-up dialog)
    school_id = "demo-school-1"
    class_ids = ["demo-class-1"]

    [report]  # the guide's report and how long journals are kept after delivery
    time_zone = "Europe/Paris"  # days of the report (default: this computer's zone)
    keep_journals_days = 90

The environments' names and URLs come from ``companion.core.environments``; this module
imports nothing of the app besides ``companion.core`` (and so no HTTP client): the app reads
its config before the first window shows.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import platformdirs
import tomli_w

from companion.core import environments
from companion.core.environments import (
    ENVIRONMENT_NAMES,
    SANDBOX_FIELDS,
    URL_FIELDS,
    Environment,
)

__all__ = [
    "ENVIRONMENT_NAMES",
    "SANDBOX_FIELDS",
    "URL_FIELDS",
    "ComputerSetup",
    "Config",
    "ConfigError",
    "Environment",
    "config_dir",
    "config_path",
    "load_config",
    "resolve_environment",
    "save_computer",
    "save_course_ids",
    "to_toml",
]

APP_NAME = "timeback-companion"
CONFIG_FILE = "config.toml"
DEFAULT_ENVIRONMENT = "sandbox"
DEFAULT_KEEP_JOURNALS_DAYS = 90


class ConfigError(Exception):
    """The config file is malformed; the message names the file."""


@dataclass(frozen=True)
class ComputerSetup:
    """What this computer serves in one environment: a school and some of its classes
    (no classes: all of the school's)."""

    school_id: str
    class_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    """What the config file says (defaults when there is no file)."""

    environment: str = DEFAULT_ENVIRONMENT
    url_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    path: Path | None = None
    # [courses.<env>]: the library's course id -> the course's sourcedId in that environment
    courses: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # [computer.<env>]: the school and classes this computer serves
    computers: Mapping[str, ComputerSetup] = field(default_factory=dict)
    # [report]: the report's time zone (None: this computer's) and journal keeping
    time_zone: str | None = None
    keep_journals_days: int = DEFAULT_KEEP_JOURNALS_DAYS

    def computer(self, name: str | None = None) -> ComputerSetup | None:
        """This computer's school and classes for environment ``name`` (None: not set up)."""
        return self.computers.get(name or self.environment)

    def course_ids(self, name: str | None = None) -> dict[str, str]:
        """The course sourcedIds recorded for environment ``name`` (default: the chosen one)."""
        return dict(self.courses.get(name or self.environment, {}))

    def environment_for(self, name: str | None = None) -> Environment:
        """The resolved URLs for ``name`` (default: the configured environment), with this
        file's overrides and then ``COMPANION_<ENV>_<FIELD>`` variables applied."""
        chosen = name or self.environment
        return resolve_environment(chosen, self.url_overrides.get(chosen, {}))


def resolve_environment(
    name: str,
    overrides: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Environment:
    """The environment ``name`` with config-file ``overrides`` then environment variables
    applied (``environ`` defaults to ``os.environ``). Unknown names raise ValueError."""
    return environments.resolve(name, overrides or {}, os.environ if environ is None else environ)


def config_dir() -> Path:
    """The per-user config folder."""
    override = os.environ.get("COMPANION_CONFIG_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def config_path() -> Path:
    """Where ``config.toml`` is (it may not exist)."""
    return config_dir() / CONFIG_FILE


def _is_url(value: str) -> bool:
    return value.startswith(("http://", "https://")) and len(value) > len("https://")


def _parse(data: Mapping[str, Any], where: Path) -> Config:
    def fail(problem: str) -> ConfigError:
        return ConfigError(f"{where}: {problem}")

    unknown = set(data) - {"environment", "environments", "courses", "computer", "report"}
    if unknown:
        raise fail(f"unknown setting(s): {', '.join(sorted(unknown))}")
    environment = data.get("environment", DEFAULT_ENVIRONMENT)
    if environment not in ENVIRONMENT_NAMES:
        raise fail(
            f"environment = {environment!r} is not one of {', '.join(ENVIRONMENT_NAMES)}"
        )
    sections = data.get("environments", {})
    if not isinstance(sections, dict):
        raise fail("[environments] must be a table")
    overrides: dict[str, dict[str, str]] = {}
    for name, section in sections.items():
        if name not in ENVIRONMENT_NAMES:
            raise fail(f"[environments.{name}] is not one of {', '.join(ENVIRONMENT_NAMES)}")
        if not isinstance(section, dict):
            raise fail(f"[environments.{name}] must be a table")
        allowed = SANDBOX_FIELDS if name == "sandbox" else URL_FIELDS
        for key, value in section.items():
            if key not in allowed:
                raise fail(
                    f"[environments.{name}] has unknown key {key!r} "
                    f"(allowed: {', '.join(allowed)})"
                )
            if not isinstance(value, str) or not _is_url(value):
                raise fail(f"[environments.{name}] {key} must be an http(s) URL, not {value!r}")
        overrides[name] = dict(section)
    courses = _parse_courses(data.get("courses", {}), fail)
    computers = _parse_computers(data.get("computer", {}), fail)
    time_zone, keep_days = _parse_report(data.get("report", {}), fail)
    return Config(environment=environment, url_overrides=overrides, path=where, courses=courses,
                  computers=computers, time_zone=time_zone, keep_journals_days=keep_days)


def _parse_report(section: Any, fail: Callable[[str], ConfigError]) -> tuple[str | None, int]:
    if not isinstance(section, dict):
        raise fail("[report] must be a table")
    unknown = set(section) - {"time_zone", "keep_journals_days"}
    if unknown:
        raise fail(f"[report] has unknown key(s): {', '.join(sorted(unknown))}")
    zone = section.get("time_zone")
    if zone is not None and (not isinstance(zone, str) or not zone.strip()):
        raise fail("[report] time_zone must be a time zone name such as \"Europe/Paris\"")
    days = section.get("keep_journals_days", DEFAULT_KEEP_JOURNALS_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise fail("[report] keep_journals_days must be a whole number of days, at least 1")
    return zone, days


def _parse_computers(
    sections: Any, fail: Callable[[str], ConfigError]
) -> dict[str, ComputerSetup]:
    if not isinstance(sections, dict):
        raise fail("[computer] must be a table")
    out: dict[str, ComputerSetup] = {}
    for name, section in sections.items():
        if name not in ENVIRONMENT_NAMES:
            raise fail(f"[computer.{name}] is not one of {', '.join(ENVIRONMENT_NAMES)}")
        if not isinstance(section, dict):
            raise fail(f"[computer.{name}] must be a table")
        unknown = set(section) - {"school_id", "class_ids"}
        if unknown:
            raise fail(f"[computer.{name}] has unknown key(s): {', '.join(sorted(unknown))}")
        school = section.get("school_id")
        if not isinstance(school, str) or not school:
            raise fail(f"[computer.{name}] school_id must be a non-empty string")
        classes = section.get("class_ids", [])
        if not isinstance(classes, list) or not all(isinstance(c, str) and c for c in classes):
            raise fail(f"[computer.{name}] class_ids must be a list of sourcedIds")
        out[name] = ComputerSetup(school, tuple(classes))
    return out


def _parse_courses(
    sections: Any, fail: Callable[[str], ConfigError]
) -> dict[str, dict[str, str]]:
    if not isinstance(sections, dict):
        raise fail("[courses] must be a table")
    courses: dict[str, dict[str, str]] = {}
    for name, section in sections.items():
        if name not in ENVIRONMENT_NAMES:
            raise fail(f"[courses.{name}] is not one of {', '.join(ENVIRONMENT_NAMES)}")
        if not isinstance(section, dict):
            raise fail(f"[courses.{name}] must be a table")
        for key, value in section.items():
            if not isinstance(value, str) or not value:
                raise fail(f"[courses.{name}] {key} must be a non-empty string (a sourcedId)")
        courses[name] = dict(section)
    return courses


def to_toml(config: Config) -> str:
    """The config as TOML text (what ``load_config`` reads back to an equal Config)."""
    data: dict[str, Any] = {"environment": config.environment}
    for title, tables in (("environments", config.url_overrides), ("courses", config.courses)):
        if tables:
            data[title] = {name: dict(sorted(tables[name].items())) for name in sorted(tables)}
    if config.computers:
        data["computer"] = {
            name: {"school_id": setup.school_id, "class_ids": list(setup.class_ids)}
            for name, setup in sorted(config.computers.items())
        }
    if config.time_zone is not None or config.keep_journals_days != DEFAULT_KEEP_JOURNALS_DAYS:
        report: dict[str, Any] = {"keep_journals_days": config.keep_journals_days}
        if config.time_zone is not None:
            report["time_zone"] = config.time_zone
        data["report"] = report
    return tomli_w.dumps(data)


def _write(config: Config, where: Path) -> None:
    """Write ``config`` to ``where`` through a temporary file (a crash leaves the old one)."""
    where.parent.mkdir(parents=True, exist_ok=True)
    temporary = where.with_name(where.name + ".tmp")
    temporary.write_text(to_toml(config), encoding="utf-8")
    os.replace(temporary, where)


def save_computer(
    env: str, school_id: str, class_ids: Sequence[str], path: Path | None = None
) -> Config:
    """Record the school and classes this computer serves in ``env`` and write the file
    (rewritten from what it means, like ``save_course_ids``)."""
    if env not in ENVIRONMENT_NAMES:
        raise ValueError(f"{env!r} is not one of {', '.join(ENVIRONMENT_NAMES)}")
    if not school_id:
        raise ValueError("school_id must not be empty")
    current = read_config_file(path or config_path())
    where = current.path or path or config_path()
    computers = dict(current.computers)
    computers[env] = ComputerSetup(school_id, tuple(class_ids))
    updated = replace(current, path=where, computers=computers)
    _write(updated, where)
    return updated


def save_course_ids(env: str, ids: Mapping[str, str], path: Path | None = None) -> Config:
    """Record course sourcedIds for ``env`` (merged into [courses.<env>]) and write the file.

    The file is rewritten from what it means (comments in it are not kept); written to a
    temporary file first and then renamed, so a crash leaves the old file whole.
    """
    if env not in ENVIRONMENT_NAMES:
        raise ValueError(f"{env!r} is not one of {', '.join(ENVIRONMENT_NAMES)}")
    current = read_config_file(path or config_path())
    where = current.path or path or config_path()
    courses = {name: dict(table) for name, table in current.courses.items()}
    courses[env] = {**courses.get(env, {}), **ids}
    updated = replace(current, path=where, courses=courses)
    _write(updated, where)
    return updated


def load_config(path: Path | None = None) -> Config:
    """Read the config file (default: ``config_path()``); defaults if it does not exist.

    Without ``path``, the machine-wide file narrows what it says (``machine_config``)."""
    user = read_config_file(path or config_path())
    if path is not None:
        return user
    from companion.machine_config import narrowed

    return narrowed(user)


def read_config_file(where: Path) -> Config:
    """The per-user file at ``where`` alone (what the app writes back to); defaults if it
    does not exist."""
    try:
        raw = where.read_bytes()
    except FileNotFoundError:
        return Config(path=where)
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read the config file: {exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 text: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}") from exc
    return _parse(data, where)
