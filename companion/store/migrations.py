"""The numbered schema steps, oldest first.

Step 1 creates the frozen version-1 schema (``schema_v1.V1_DDL``). Each later step is
plain SQL (or a small function) that moves a database from version N-1 to N, runs in its
own ``BEGIN IMMEDIATE`` transaction, and has a test that upgrades a version-1 database
made from the frozen DDL and keeps every run and pending event
(``tests/store/test_migrations.py``). A step is never edited once released; the models in
``tables``/``run_tables``/``pins``/``launch_tables`` must describe the schema the last step
leaves (a test compares them).
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.engine import Connection

from companion.store.schema_v1 import V1_DDL

Migration = tuple[int, Callable[[Connection], None]]
"""A forward migration step: the schema version it produces and what it runs."""


def run_script(conn: Connection, script: str) -> None:
    """Run each ``;``-separated statement of ``script`` on ``conn`` (inside its transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            conn.exec_driver_sql(statement)


def sql_step(script: str) -> Callable[[Connection], None]:
    """A migration step that runs the SQL statements of ``script``."""

    def step(conn: Connection) -> None:
        run_script(conn, script)

    return step


# Step 2: what a SCORM package keeps between attempts (suspend_data and location, per
# student and lesson: ``content_resume``) and the package's own session_time, kept with the
# run and never used for time (``runs.content_session_time``).
CONTENT_RESUME_DDL = """
ALTER TABLE runs ADD COLUMN content_session_time VARCHAR;
CREATE TABLE content_resume (
    student_id VARCHAR NOT NULL,
    lesson_id VARCHAR NOT NULL,
    suspend_data VARCHAR NOT NULL,
    location VARCHAR NOT NULL,
    updated_at VARCHAR NOT NULL,
    PRIMARY KEY (student_id, lesson_id)
)
"""

MIGRATIONS: tuple[Migration, ...] = (
    (1, sql_step(V1_DDL)),
    (2, sql_step(CONTENT_RESUME_DDL)),
)
