"""Log files: rotated, in the per-user log folder, with secrets taken out before writing.

``COMPANION_LOG_DIR`` overrides the folder, else platformdirs'
``user_log_dir("timeback-companion")``. Files rotate at ``MAX_BYTES`` and ``BACKUPS`` old
ones are kept. Whatever a message holds, the formatter removes what looks like a secret:
bearer and basic credentials, JSON web tokens, and the values of keys such as
``client_secret``, ``access_token``, ``pin`` or ``answer`` (a student's answer text never
belongs in a log).
"""

from __future__ import annotations

import logging
import os
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

import platformdirs

from companion.config import APP_NAME

LOG_FILE = "companion.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
REDACTED = "[redacted]"

_SECRET_KEYS = (
    "client_secret", "secret", "password", "passwd", "access_token", "refresh_token",
    "id_token", "token", "authorization", "assertion", "code_verifier", "pin", "guide_pin",
    "new_pin", "pin_hash", "hash", "salt", "answer", "response", "value_text",
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    (
        re.compile(
            r"(?i)([\"']?\b(?:" + "|".join(_SECRET_KEYS) + r")\b[\"']?\s*[:=]\s*)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,&;}\]]+)"
        ),
        r"\1" + REDACTED,
    ),
)


def redact(text: str) -> str:
    """``text`` with anything that looks like a secret, PIN or answer replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (message, arguments and traceback) has secrets removed."""

    def format(self, record: logging.LogRecord) -> str:
        """The formatted record, redacted."""
        return redact(super().format(record))


def log_dir() -> Path:
    """The per-user log folder."""
    override = os.environ.get("COMPANION_LOG_DIR")
    return Path(override) if override else Path(platformdirs.user_log_dir(APP_NAME))


def setup(level: int = logging.INFO, folder: Path | None = None) -> RotatingFileHandler:
    """Send the ``companion`` loggers to the rotated file (once; again moves the file)."""
    where = folder or log_dir()
    where.mkdir(parents=True, exist_ok=True)
    if os.name == "posix":
        os.chmod(where, 0o700)
    logger = logging.getLogger("companion")
    for old in [h for h in logger.handlers if isinstance(h, RotatingFileHandler)]:
        logger.removeHandler(old)
        old.close()
    handler = RotatingFileHandler(where / LOG_FILE, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                  encoding="utf-8", delay=True)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
    return handler
