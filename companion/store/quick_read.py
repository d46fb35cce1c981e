"""A read-only look at the roster cache for the first screen, with plain ``sqlite3`` (no
SQLAlchemy, no migrations, no writer thread), so that the sign-in window can show the
classes before the store proper opens.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from companion.core.signin_types import ClassInfo

log = logging.getLogger("companion.store")

_CLASSES_SQL = """
SELECT c.sourced_id, c.title,
       (SELECT count(*) FROM roster_enrollments e
          JOIN roster_users u ON u.sourced_id = e.user_sourced_id
         WHERE e.class_sourced_id = c.sourced_id AND e.role = 'student'
           AND e.status != 'tobedeleted' AND u.status != 'tobedeleted')
  FROM roster_classes c
 WHERE c.status != 'tobedeleted'
 ORDER BY c.title, c.sourced_id
"""


def quick_classes(path: Path, served: Sequence[str] = ()) -> list[ClassInfo]:
    """The cached classes (only ``served`` ones, if given), read-only; an empty list when
    there is no usable cache yet."""
    if not path.is_file():
        return []
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=0.2)
        try:
            rows = connection.execute(_CLASSES_SQL).fetchall()
        finally:
            connection.close()
    except sqlite3.Error as exc:
        log.info("no quick class list (%s); waiting for the store", exc)
        return []
    wanted = set(served)
    return [
        ClassInfo(str(sid), str(title or sid), int(count))
        for sid, title, count in rows
        if not wanted or sid in wanted
    ]
