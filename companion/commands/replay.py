"""`companion replay FILE [--json]`: summarise an exported journal (learning-rules.md §5).

Exit status 0 on success; 2 with ``FILE:LINE: reason`` (or ``FILE: reason``) on stderr when
the file cannot be read or is not a valid, closed journal.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from companion.core.journal import JournalError, Line, parse_jsonl, validate_run
from companion.core.rules import Classification, classify, explain, score, summarize
from companion.core.words import TIME_KINDS, TimeKind, kind_of


class ReplayError(Exception):
    """A journal file that cannot be replayed; ``str()`` is the message for stderr."""


def time_by_kind(classification: Classification) -> dict[TimeKind, int]:
    """Milliseconds per kind of time, in the one word list's order (core.words)."""
    out: dict[TimeKind, int] = dict.fromkeys(TIME_KINDS, 0)
    for segment in classification.segments:
        out[kind_of(segment)] += segment.end - segment.start
    return out


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser], name: str,
             help_text: str) -> None:
    """Add the `replay` subcommand."""
    p = subparsers.add_parser(name, help=help_text, description=help_text)
    p.add_argument("file", metavar="FILE", help="a journal in JSON Lines (section 1)")
    p.add_argument("--json", action="store_true", help="print the section-5 JSON object")
    p.set_defaults(func=run)


def load_journal(path: Path) -> list[Line]:
    """Read and check a closed journal; raises ReplayError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReplayError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise ReplayError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ReplayError(f"{path}: cannot read ({exc.strerror or exc})") from None
    raw = text.splitlines()
    # file line numbers of the non-blank lines, which are the journal's lines
    numbers = [no for no, line in enumerate(raw, start=1) if line.strip()]
    try:
        lines = list(parse_jsonl(raw))
    except JournalError as exc:
        raise ReplayError(_where(path, exc.line_no) + exc.reason) from None
    try:
        validate_run(lines)
    except JournalError as exc:
        line_no = numbers[exc.line_no - 1] if 0 < exc.line_no <= len(numbers) else 0
        raise ReplayError(_where(path, line_no) + exc.reason) from None
    if lines[-1].kind != "end":
        raise ReplayError(_where(path, numbers[-1]) + "the journal has no 'end' line")
    return lines


def _where(path: Path, line_no: int) -> str:
    return f"{path}:{line_no}: " if line_no else f"{path}: "


def run(args: argparse.Namespace) -> int:
    """Print the replay of ``args.file``; 2 when the journal is not valid."""
    path = Path(args.file)
    try:
        lines = load_journal(path)
    except ReplayError as exc:
        print(f"companion replay: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summarize(lines)))
        return 0
    classification = classify(lines)
    result = score(lines, classification)
    summary = summarize(lines)
    print(f"Lesson {summary['lesson']} (attempt {result.attempt})")
    print("Time: " + ", ".join(
        f"{kind} {ms / 1000:g} s" for kind, ms in time_by_kind(classification).items()))
    for text in explain(result):
        print(text)
    return 0
