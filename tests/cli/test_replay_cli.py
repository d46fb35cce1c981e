"""`companion replay FILE [--json]` on the worked examples and on bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from companion.cli import main


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "journal.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


START = '{"t": 0, "kind": "start", "lesson": "L1"}\n'


def test_json_output_of_every_example(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = shared / "spec" / "examples"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    for journal in sorted(folder.glob("*.jsonl")):
        assert main(["replay", str(journal), "--json"]) == 0
        out = capsys.readouterr().out
        assert out.count("\n") == 1, "one line of JSON"
        got = json.loads(out)
        want = expected[journal.stem]
        assert list(got) == [
            "lesson", "activeSeconds", "inactiveSeconds", "wasteSeconds", "unknownSeconds",
            "questions", "correct", "accuracy", "xp", "mastered", "completed", "abandoned",
            "appScored", "contentScored",
        ]
        for key, value in want.items():
            if key.endswith("Seconds"):
                assert got[key] == pytest.approx(value, abs=0.0005), (journal.stem, key)
            else:
                assert got[key] == value, (journal.stem, key)


def test_human_summary(shared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = shared / "spec" / "examples" / "08-second-attempt.jsonl"
    assert main(["replay", str(journal)]) == 0
    out = capsys.readouterr().out
    assert "focused 380 s" in out  # the one word list (core.words)
    assert "9 of 10 correct (90 %)" in out
    assert "×0.5 (attempt 2)" in out
    assert "= 2.0" in out
    assert "Mastered: yes" in out


@pytest.mark.parametrize(
    ("text", "line_no", "reason"),
    [
        (START + '{"t": 1, "kind": "input"\n{"t": 2, "kind": "end"}\n', 2, "not valid JSON"),
        (START + '{"t": 1, "kind": "wiggle"}\n{"t": 2, "kind": "end"}\n', 2, "unknown kind"),
        (START + '{"t": 1, "kind": "input"}\n', 2, "no 'end' line"),
        (START + '{"t": 1, "kind": "focus"}\n{"t": 2, "kind": "end"}\n', 2, "'focused'"),
        (START + '{"t": 5, "kind": "input"}\n{"t": 2, "kind": "end"}\n', 3, "backwards"),
        (START + '{"t": 1.0001, "kind": "input"}\n{"t": 2, "kind": "end"}\n', 2, "decimals"),
        ('{"t": 0, "kind": "input"}\n{"t": 2, "kind": "end"}\n', 1, "begin with a 'start'"),
        (START + '{"t": 1, "kind": "end"}\n{"t": 2, "kind": "input"}\n', 2, "after 'end'"),
        # blank lines do not shift the reported line number
        (START + '\n\n{"t": 1, "kind": "end"}\n{"t": 2, "kind": "end"}\n', 4, "after 'end'"),
    ],
)
def test_bad_journal_exits_2_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line_no: int, reason: str
) -> None:
    path = _write(tmp_path, text)
    assert main(["replay", str(path), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}:{line_no}: " in captured.err
    assert reason in captured.err


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "absent.jsonl"
    assert main(["replay", str(path)]) == 2
    assert f"{path}: file not found" in capsys.readouterr().err


def test_empty_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "\n")
    assert main(["replay", str(path)]) == 2
    assert "begin with a 'start'" in capsys.readouterr().err
