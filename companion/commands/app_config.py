"""``companion app-config``: print the app's registration manifest as JSON.

For Timeback's developer tooling: the app's name, Caliper sensor, LTI launch and login URLs,
and per course its subject(s), grade, sourcedIds per environment and daily goal, generated
from the lesson library and the configuration (course ids per environment are recorded by
``companion content push``), so registering the app does not mean retyping the catalogue.

The launch and login URLs are those of the app's loopback listener
(``companion.launch.registration.tool_urls`` on ``--port``, default the listener's
``DEFAULT_PORT``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from companion.config import Config, ConfigError, load_config
from companion.content import demo_lessons_path, load_library
from companion.core.caliper import DEFAULT_APP, AppInfo
from companion.core.catalogue import Catalogue
from companion.core.results import line_item_id
from companion.launch.listener import DEFAULT_PORT
from companion.launch.registration import tool_urls
from companion.session.library import DEFAULT_DAILY_GOAL_XP
from companion.store import paths
from companion.timeback import ENVIRONMENT_NAMES


def manifest(
    catalogue: Catalogue, config: Config, port: int = DEFAULT_PORT, app: AppInfo = DEFAULT_APP
) -> dict[str, Any]:
    """The registration manifest as a JSON-ready dict."""
    urls = tool_urls(port)
    courses = []
    for course in sorted(catalogue.courses, key=lambda c: c.id):
        lessons = catalogue.lessons_in_course(course.id)
        subjects = sorted({s for s in [course.subject, *(x.subject for x in lessons)] if s})
        courses.append({
            "id": course.id,
            "title": course.title,
            "subject": course.subject or (subjects[0] if len(subjects) == 1 else None),
            "subjects": subjects,
            "grade": course.grade,
            "sourcedIds": {env: config.course_ids(env).get(course.id)
                           for env in ENVIRONMENT_NAMES},
            "dailyGoalXp": int(DEFAULT_DAILY_GOAL_XP),
            "lessons": [
                {"id": lesson.id, "title": lesson.title, "order": lesson.order,
                 "subject": lesson.subject,
                 "expectedXp": (None if lesson.settings.expected_xp is None
                                else float(lesson.settings.expected_xp)),
                 "lineItemSourcedId": line_item_id(app.app_id, lesson.id)}
                for lesson in lessons
            ],
        })
    return {
        "name": app.app_name,
        "appId": app.app_id,
        "sensor": app.sensor,
        "launchUrl": urls.launch_url,
        "loginUrl": urls.login_url,
        "redirectUri": urls.redirect_uri,
        "environment": config.environment,
        "courses": courses,
    }


def register(subparsers: Any, name: str, help_text: str) -> None:
    """Add the ``app-config`` subcommand."""
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text,
                                                       description=__doc__)
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"the loopback listener's port (default {DEFAULT_PORT})")
    p.add_argument("--lessons", action="append", type=Path, default=None, metavar="DIR",
                   help="a lesson folder (repeatable; default: the demo lessons)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, *, stdout: TextIO | None = None,
        stderr: TextIO | None = None) -> int:
    """Print the manifest; 2 when the config file is malformed."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"error: {exc}", file=err)
        return 2
    library = load_library(list(args.lessons or [demo_lessons_path()]),
                           paths.data_dir() / "lesson-cache")
    for problem in library.errors:
        print(f"warning: {problem}", file=err)
    print(json.dumps(manifest(library.catalogue, config, args.port), indent=2,
                     ensure_ascii=False), file=out)
    return 0
