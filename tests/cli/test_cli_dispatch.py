"""The command line finds its subcommand past the global options and leaves links alone."""

from __future__ import annotations

import pytest

from companion.cli import _command_named, build_parser, without_links


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["--env", "sandbox", "setup"], "setup"),  # an option's value is not a command
        (["--env", "staging", "sync", "--once"], "sync"),
        (["replay", "sandbox", "--json"], "replay"),  # a file named like a command
        (["--self-test"], None),
        ([], None),
    ],
)
def test_the_subcommand_is_found_after_global_options(
    argv: list[str], command: str | None
) -> None:
    assert _command_named(argv) == command


def test_a_link_is_taken_out_before_parsing() -> None:
    argv = ["--env", "sandbox", "timeback-companion://open?lesson=demo-math-drill"]
    kept = without_links(argv)
    assert kept == ["--env", "sandbox"]
    args = build_parser(kept).parse_args(kept)
    assert (args.command, args.env, args.self_test) == (None, "sandbox", False)


def test_the_chosen_subcommand_gets_its_own_options() -> None:
    argv = ["--env", "staging", "export-journal", "--run", "r1"]
    args = build_parser(argv).parse_args(argv)
    assert (args.command, args.env, args.run) == ("export-journal", "staging", "r1")
