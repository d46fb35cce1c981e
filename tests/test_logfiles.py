"""Log files: rotated in the log folder, and never a secret, token, PIN or answer text."""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Iterator
from pathlib import Path

import pytest

from companion import logfiles

SECRET = "s3cr3t-Client-Value"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzdHUtMSJ9.c2lnbmF0dXJl"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    handler = logfiles.setup(folder=tmp_path)
    yield tmp_path / logfiles.LOG_FILE
    logging.getLogger("companion").removeHandler(handler)
    handler.close()


def written(path: Path) -> str:
    for handler in logging.getLogger("companion").handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_secrets_pins_and_answers_never_reach_the_file(log_file: Path) -> None:
    log = logging.getLogger("companion.sync")
    log.info("token request client_id=abc client_secret=%s", SECRET)
    log.info("sent with headers {'Authorization': 'Bearer %s'}", TOKEN)
    log.warning("id token %s refused", TOKEN)
    log.info('payload {"pin": "4812", "answer": "seven plus six", "item": "q1"}')
    log.info("guide_pin=9999 new_pin=2468 for stu-1")
    try:
        raise ValueError(f"server said: access_token={TOKEN}")
    except ValueError:
        log.exception("delivery failed")
    text = written(log_file)
    for leaked in (SECRET, TOKEN, "4812", "seven plus six", "9999", "2468"):
        assert leaked not in text
    assert "client_id=abc" in text and '"item": "q1"' in text and "for stu-1" in text
    assert text.count(logfiles.REDACTED) >= 7
    assert "delivery failed" in text and "ValueError" in text


def test_files_rotate_and_old_ones_are_dropped(log_file: Path) -> None:
    handler = next(h for h in logging.getLogger("companion").handlers
                   if isinstance(h, logging.handlers.RotatingFileHandler))
    handler.maxBytes = 500
    log = logging.getLogger("companion.store")
    for n in range(400):
        log.info("line %d of the rotation check", n)
    files = sorted(p.name for p in log_file.parent.iterdir())
    assert files[0] == logfiles.LOG_FILE
    assert len(files) == 1 + logfiles.BACKUPS
    assert written(log_file).strip().endswith("line 399 of the rotation check")


def test_the_folder_can_be_chosen(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COMPANION_LOG_DIR", str(tmp_path / "logs"))
    assert logfiles.log_dir() == tmp_path / "logs"
