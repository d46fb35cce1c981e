"""The `companion` command line: a thin dispatcher over `companion.commands.*`.

With no subcommand it starts the desktop app (`companion.app.run_app`).

Each subcommand lives in its own module exposing ``register(subparsers)`` which adds its
parser and sets ``func`` (called with the parsed namespace, returning an exit status).
Modules are imported only when their command runs, so that startup stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

URL_SCHEME = "timeback-companion"

# command name -> (module under companion.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "replay": ("replay", "summarise an exported journal (learning-rules.md section 5)"),
    "audit": ("audit", "recompute stored runs from their journals and compare with the outbox"),
    "export-journal": ("export_journal", "write a run's journal in the replay format"),
    "sandbox": ("sandbox", "run the local Timeback-compatible sandbox server"),
    "setup": ("setup", "store and verify Timeback credentials for an environment"),
    "sync": ("sync", "deliver pending learning events to Timeback now"),
    "doctor": ("doctor", "check configuration, credentials, network, roster and outbox"),
    "outbox": ("outbox", "list, show and retry undeliverable (dead) events"),
    "content": ("content", "add, check and list lessons; push their line items to Timeback"),
    "report": ("report", "write the guide's report for a range of days as CSV or PDF"),
    "app-config": ("app_config", "print the app's registration manifest"),
    "preview": ("preview", "open a lesson with no student and report what it does"),
    "service": ("service", "run the machine service (headless, as its own OS account)"),
}


class _VersionAction(argparse.Action):
    """``--version``: print ``companion <version> (build <hash>)``, read only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        from companion.system.about import version_line

        print(version_line())
        parser.exit()


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="companion",
        description="Timeback Companion: focused learning time, XP and mastery, kept offline.",
    )
    parser.add_argument(
        "--env",
        choices=["sandbox", "staging", "production"],
        default=None,
        help="Timeback environment (default: sandbox, or the configured one)",
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="print the version and build and exit",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="run the app offscreen through a scripted demo lesson and report the result",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = _command_named(argv)
    for name, (module, help_text) in COMMANDS.items():
        if name == wanted:
            mod = importlib.import_module(f"companion.commands.{module}")
            mod.register(sub, name, help_text)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _command_named(argv: Sequence[str]) -> str | None:
    """The subcommand in ``argv``, found by a first parse that knows the global options."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--env")
    pre.add_argument("--self-test", action="store_true")
    pre.add_argument("command", nargs="?")
    known, _ = pre.parse_known_args(list(argv))
    name: str | None = known.command
    return name if name in COMMANDS else None


def without_links(argv: Sequence[str]) -> list[str]:
    """``argv`` less any `timeback-companion://` link: the app reads those itself."""
    return [a for a in argv if not a.lower().startswith(f"{URL_SCHEME}:")]


def main(argv: Sequence[str] | None = None) -> int:
    args_list = without_links(sys.argv[1:] if argv is None else argv)
    parser = build_parser(args_list)
    args = parser.parse_args(args_list)
    if args.command is None:
        import faulthandler

        from companion.app import run_app  # the desktop app: Qt is imported only here

        if sys.stderr is not None:
            faulthandler.enable()  # a native crash prints every thread's Python stack
        if not args.self_test:
            _ensure_install_id()

        app_status: int = run_app(args.env, self_test=args.self_test)
        return app_status
    func = getattr(args, "func", None)
    if func is None:
        parser.error(f"unknown command {args.command!r}")
    status: int = func(args)
    return status


def _ensure_install_id() -> None:
    """Make this computer's install id on its first start (``system.install_identity``)."""
    from companion.store.paths import data_dir
    from companion.system.install_identity import install_id

    try:
        install_id(data_dir())
    except OSError as exc:  # a data folder we cannot write is said when the app opens it
        print(f"warning: no install id ({exc})", file=sys.stderr)


def entry() -> int:
    """The `companion` program: log to the rotated files, then ``main``."""
    from companion import logfiles

    try:
        logfiles.setup()
    except OSError as exc:  # a log folder we cannot write is no reason not to run
        print(f"warning: no log file ({exc})", file=sys.stderr)
    _use_machine_proxy()
    return main()


def _use_machine_proxy() -> None:
    """The machine-wide file's proxy, for every HTTP client and the web engine."""
    import contextlib
    import os

    from companion.config import ConfigError
    from companion.machine_config import apply_proxy, load_machine_config, machine_config_path

    # a malformed file is said where the configuration is read (the app, doctor)
    with contextlib.suppress(ConfigError):
        apply_proxy(load_machine_config(machine_config_path()), os.environ)


if __name__ == "__main__":
    sys.exit(entry())
