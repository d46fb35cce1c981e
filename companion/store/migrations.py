"""The numbered schema steps, oldest first.

Step 1 creates the frozen version-1 schema (``schema_v1.V1_DDL``). Each later step is
plain SQL (or a small function) that moves a database from version N-1 to N, runs in its
own ``BEGIN IMMEDIATE`` transaction, and has a test that upgrades a version-1 database
made from the frozen DDL and keeps every run and pending event
(``tests/store/test_migrations.py``). A step is never edited once released; the models in
``tables``/``run_tables``/``pins``/``launch_tables``/``remote_tables`` must describe the
schema the last step leaves (a test compares them).
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


RUN_SUMMARIES = """
CREATE TABLE run_summaries (
    run_id VARCHAR NOT NULL,
    student_id VARCHAR NOT NULL,
    lesson_id VARCHAR NOT NULL,
    attempt INTEGER NOT NULL,
    started_at VARCHAR NOT NULL,
    closed_at VARCHAR NOT NULL,
    focused_ms INTEGER NOT NULL,
    idle_ms INTEGER NOT NULL,
    away_ms INTEGER NOT NULL,
    off_task_ms INTEGER NOT NULL,
    not_seen_ms INTEGER NOT NULL,
    questions INTEGER NOT NULL,
    correct INTEGER NOT NULL,
    xp VARCHAR NOT NULL,
    completed BOOLEAN NOT NULL,
    abandoned BOOLEAN NOT NULL,
    mastered BOOLEAN NOT NULL,
    explanation VARCHAR NOT NULL,
    journal_removed_at VARCHAR,
    PRIMARY KEY (run_id),
    FOREIGN KEY(run_id) REFERENCES runs (run_id)
);
CREATE INDEX ix_run_summaries_student_id ON run_summaries (student_id);
CREATE INDEX ix_run_summaries_started_at ON run_summaries (started_at);
CREATE TABLE run_answers (
    run_id VARCHAR NOT NULL,
    item VARCHAR NOT NULL,
    position INTEGER NOT NULL,
    correct BOOLEAN NOT NULL,
    PRIMARY KEY (run_id, item),
    FOREIGN KEY(run_id) REFERENCES runs (run_id)
)
"""
"""Step 3: per-run summaries and per-question results. Runs closed before this step get
their summary from ``session.closing.backfill_summaries`` (it needs the rules, which a
step must not)."""

# Step 4: what a SCORM package keeps between attempts (suspend_data and location, per
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

OUTBOX_STATES_V2 = """
CREATE TABLE outbox_v2 (
    id INTEGER NOT NULL,
    event_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    payload VARCHAR NOT NULL,
    size_bytes INTEGER NOT NULL,
    state VARCHAR(9) NOT NULL CHECK (state IN
        ('pending', 'in_flight', 'settling', 'held', 'delivered', 'refused')),
    attempts INTEGER NOT NULL,
    last_error VARCHAR,
    run_id VARCHAR,
    job_id VARCHAR,
    created_at VARCHAR NOT NULL,
    updated_at VARCHAR NOT NULL,
    next_attempt_at VARCHAR NOT NULL,
    acked_at VARCHAR,
    settle_until VARCHAR,
    hold_reason VARCHAR,
    PRIMARY KEY (id),
    UNIQUE (event_id)
);
INSERT INTO outbox_v2 (id, event_id, kind, payload, size_bytes, state, attempts, last_error,
    run_id, job_id, created_at, updated_at, next_attempt_at, acked_at, settle_until,
    hold_reason)
SELECT id, event_id, kind, payload, size_bytes,
    CASE
        WHEN state = 'acked' THEN 'delivered'
        WHEN state = 'dead' THEN 'refused'
        WHEN state = 'in_flight' AND settle_until IS NOT NULL THEN 'settling'
        WHEN state = 'pending' AND kind = 'gradebook.result'
             AND last_error LIKE 'line item missing:%' THEN 'held'
        ELSE state
    END,
    attempts, last_error, run_id, job_id, created_at, updated_at, next_attempt_at, acked_at,
    settle_until,
    CASE
        WHEN state = 'pending' AND kind = 'gradebook.result'
             AND last_error LIKE 'line item missing:%' THEN last_error
    END
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v2 RENAME TO outbox;
CREATE INDEX ix_outbox_run_id ON outbox (run_id);
CREATE INDEX ix_outbox_state ON outbox (state);
CREATE INDEX ix_outbox_kind ON outbox (kind);
CREATE INDEX ix_outbox_next_attempt_at ON outbox (next_attempt_at)
"""
"""Step 5: the outbox's states named in a checked column (settling and held are states of
their own, not in_flight with a deadline or pending with a fixed error text; acked is
delivered, dead is refused), and a readable ``hold_reason`` for held rows."""

REMOTE_RESULTS_DDL = """
CREATE TABLE remote_results (
    sourced_id VARCHAR NOT NULL,
    student_id VARCHAR NOT NULL,
    lesson_id VARCHAR NOT NULL,
    run_id VARCHAR,
    attempt INTEGER NOT NULL,
    score FLOAT,
    questions INTEGER,
    correct INTEGER,
    xp VARCHAR,
    mastered BOOLEAN NOT NULL,
    completed BOOLEAN NOT NULL,
    is_attempt BOOLEAN NOT NULL,
    score_date VARCHAR,
    source VARCHAR,
    fetched_at VARCHAR NOT NULL,
    PRIMARY KEY (sourced_id)
);
CREATE INDEX ix_remote_results_student_id ON remote_results (student_id);
CREATE INDEX ix_remote_results_score_date ON remote_results (score_date)
"""
"""Step 6: the results of the students' other computers, as last read from the gradebook
(``remote_tables.RemoteResultRow``), so the guide's report includes them, marked."""

MIGRATIONS: tuple[Migration, ...] = (
    (1, sql_step(V1_DDL)),
    # The lease holder's process start token, so that a lease held by a process that is
    # gone is taken over at once (issue 11). Old rows keep NULL: only their pid is checked.
    (2, sql_step("ALTER TABLE lease ADD COLUMN pid_start VARCHAR")),
    (3, sql_step(RUN_SUMMARIES)),
    (4, sql_step(CONTENT_RESUME_DDL)),
    (5, sql_step(OUTBOX_STATES_V2)),
    (6, sql_step(REMOTE_RESULTS_DDL)),
)
