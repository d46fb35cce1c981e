"""``companion content push [--env E] [--dry-run] [--url URL]``: the lessons' line items.

(``content check``, ``content import`` and ``content list`` live in ``content_library``.)

Creates or updates, with PUT and deterministic sourcedIds, one AssessmentLineItem per lesson
of the lesson library (shared by every class of the course; the library is the demo lessons,
or the ``--lessons`` folders, and the lessons imported on this computer), and reports what
it created, changed or left alone; running it again changes nothing. ``--dry-run`` shows
the plan and writes nothing. After a push the course ids are recorded in the config file
([courses.<env>], read by ``companion app-config``) and results held on this computer for a
missing line item are released for delivery.

For the sandbox, the server's address comes from ``--url``, ``COMPANION_SANDBOX_URL`` or the
sandbox ``base_url`` setting, as for ``companion doctor``.
Exit status: 0 done, 1 Timeback or the database failed, 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import httpx

from companion.commands._sandbox import SANDBOX_URL_VAR, given_sandbox_url
from companion.commands.content_library import register_actions
from companion.config import Config, ConfigError, load_config, save_course_ids
from companion.content import demo_lessons_path, load_library
from companion.core.caliper import DEFAULT_APP
from companion.core.catalogue import Catalogue
from companion.core.clock import utc_now
from companion.core.results import line_item_change, line_item_payload
from companion.store import paths
from companion.store.db import Database, StoreError
from companion.store.lease import Lease
from companion.store.results import release_held
from companion.sync.results import deliver_results
from companion.sync.worker import LEASE_NAME
from companion.timeback import (
    Environment,
    GradebookClient,
    NotFoundError,
    TimebackError,
    auth_for,
    env_var_name,
    gradebook_client,
    sandbox_environment,
)

NO_SANDBOX = (
    "no sandbox address: start it with `companion sandbox`, then pass --url URL "
    f"(or set {SANDBOX_URL_VAR})"
)


@dataclass(frozen=True)
class Step:
    """One lesson's line item: what push does (or did) with it."""

    lesson_id: str
    line_item_id: str
    title: str
    change: str  # create | update | unchanged


def course_sourced_ids(catalogue: Catalogue, config: Config, env: str) -> dict[str, str]:
    """Each library course's sourcedId in ``env``: the configured one, else its own id."""
    known = config.course_ids(env)
    return {course.id: known.get(course.id, course.id) for course in catalogue.courses}


def push_line_items(
    client: GradebookClient,
    catalogue: Catalogue,
    course_ids: dict[str, str],
    *,
    app_id: str = DEFAULT_APP.app_id,
    dry_run: bool = False,
) -> list[Step]:
    """Compare each lesson's line item with the server's and PUT the missing or changed."""
    steps: list[Step] = []
    for course in sorted(catalogue.courses, key=lambda c: c.id):
        for lesson in catalogue.lessons_in_course(course.id):
            desired = line_item_payload(app_id, lesson, course_ids[course.id], course.title)
            try:
                existing: dict[str, Any] | None = client.get_line_item(desired["sourcedId"])
            except NotFoundError:
                existing = None
            change = line_item_change(desired, existing)
            if change != "unchanged" and not dry_run:
                client.put_line_item(desired)
            steps.append(Step(lesson.id, desired["sourcedId"], lesson.title, change))
    return steps


def register(subparsers: Any, name: str, help_text: str) -> None:
    """Add ``content`` with its ``push`` action."""
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text,
                                                       description=help_text)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    push = actions.add_parser("push", help="create or update one line item per lesson",
                              description=__doc__)
    push.add_argument("--env", choices=list(paths.ENVIRONMENTS), default=argparse.SUPPRESS,
                      help="Timeback environment (default: the configured one)")
    push.add_argument("--dry-run", action="store_true", help="show the plan, write nothing")
    push.add_argument("--url", default=None,
                      help=f"base URL of a running sandbox (or set {SANDBOX_URL_VAR})")
    push.add_argument("--lessons", action="append", type=Path, default=None, metavar="DIR",
                      help="a lesson folder (repeatable; default: the demo lessons)")
    push.set_defaults(func=run)
    register_actions(actions)
    p.set_defaults(func=lambda args: _usage(p))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_usage(sys.stderr)
    return 2


def resolve(
    env_name: str, config: Config, url: str | None, environ: dict[str, str]
) -> Environment | str:
    """The environment to push to, or the message saying why there is none."""
    if url and env_name != "sandbox":
        return f"--url is only for the sandbox, not {env_name}"
    if env_name == "sandbox":
        chosen = given_sandbox_url(url, environ)
        if chosen:
            return sandbox_environment(chosen)
        if not ("base_url" in config.url_overrides.get("sandbox", {})
                or environ.get(env_var_name("sandbox", "base_url"))):
            return NO_SANDBOX
    try:
        return config.environment_for(env_name)
    except ValueError as exc:
        return str(exc)


def run(
    args: argparse.Namespace,
    *,
    transport: httpx.BaseTransport | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    now: datetime | None = None,
) -> int:
    """Push the line items; print one line per lesson and a summary."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"error: {exc}", file=err)
        return 2
    env_name: str = getattr(args, "env", None) or config.environment
    environment = resolve(env_name, config, args.url, dict(os.environ))
    if isinstance(environment, str):
        print(f"error: {environment}", file=err)
        return 2
    folders: list[Path] = list(args.lessons or [demo_lessons_path()])
    if paths.library_dir().is_dir():  # lessons added with `companion content import`
        folders.append(paths.library_dir())
    library = load_library(list(folders), paths.data_dir() / "lesson-cache")
    for problem in library.errors:
        print(f"warning: {problem}", file=err)
    catalogue = library.catalogue
    course_ids = course_sourced_ids(catalogue, config, env_name)
    try:
        with gradebook_client(environment, auth_for(environment), transport=transport) as client:
            steps = push_line_items(client, catalogue, course_ids, dry_run=args.dry_run)
            print(report(steps, args.dry_run, env_name), file=out)
            if args.dry_run:
                return 0
            save_course_ids(env_name, course_ids)
            return _release(env_name, now or utc_now(), client, out, err)
    except TimebackError as exc:
        print(f"error: {exc}", file=err)
        return 1


def report(steps: list[Step], dry_run: bool, env_name: str) -> str:
    """One line per lesson and a summary line."""
    verbs = ({"create": "would create", "update": "would update", "unchanged": "unchanged"}
             if dry_run else {"create": "created", "update": "updated", "unchanged": "unchanged"})
    lines = [f"{verbs[s.change]:<13} {s.line_item_id}  {s.lesson_id}  {s.title}" for s in steps]
    counts = {change: sum(s.change == change for s in steps)
              for change in ("create", "update", "unchanged")}
    summary = (f"{env_name}: {counts['create']} {verbs['create']}, "
               f"{counts['update']} {verbs['update']}, {counts['unchanged']} unchanged")
    return "\n".join([*lines, summary + (" (dry run: nothing written)" if dry_run else "")])


def _release(env_name: str, now: datetime, client: GradebookClient, out: TextIO,
             err: TextIO) -> int:
    """Results held for missing line items on this computer are delivered now: here, when
    no app holds the delivery lease, else by the app's worker (they are due at once)."""
    path = paths.database_path(env_name)
    if not path.exists():
        return 0
    try:
        with Database.open(path, env_name) as db:
            released = release_held(db, now)
            if not released:
                return 0
            lease = Lease(db, LEASE_NAME, ttl_s=30)
            if not lease.try_acquire():
                print(f"{released} held result(s) released; the running app delivers them "
                      "now", file=out)
                return 0
            try:
                counts = deliver_results(db, client, now)
            finally:
                lease.release()
    except (StoreError, OSError) as exc:
        print(f"error: could not release held results: {exc}", file=err)
        return 1
    left = released - counts.sent
    line = f"{counts.sent} held result(s) delivered"
    if left:
        line += f"; {left} still waiting: {counts.error or 'see `companion outbox list`'}"
    print(line, file=out)
    return 0
