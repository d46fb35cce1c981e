"""Schema version 1, frozen as it was first released (commit 53cac6f).

Never edit this text: every later change is a numbered step in
``companion.store.migrations``. Tests build version-1 databases from this DDL (not from
today's models) to prove that each step upgrades them and keeps every run and event.
"""

from __future__ import annotations

V1_DDL = """
CREATE TABLE store_meta (
    "key" VARCHAR NOT NULL,
    value VARCHAR NOT NULL,
    PRIMARY KEY ("key")
);

CREATE TABLE lease (
    name VARCHAR NOT NULL,
    holder_id VARCHAR NOT NULL,
    pid INTEGER NOT NULL,
    host VARCHAR NOT NULL,
    acquired_at FLOAT NOT NULL,
    heartbeat_at FLOAT NOT NULL,
    expires_at FLOAT NOT NULL,
    PRIMARY KEY (name)
);

CREATE TABLE outbox (
    id INTEGER NOT NULL,
    event_id VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    payload VARCHAR NOT NULL,
    size_bytes INTEGER NOT NULL,
    state VARCHAR NOT NULL,
    attempts INTEGER NOT NULL,
    last_error VARCHAR,
    run_id VARCHAR,
    job_id VARCHAR,
    created_at VARCHAR NOT NULL,
    updated_at VARCHAR NOT NULL,
    next_attempt_at VARCHAR NOT NULL,
    acked_at VARCHAR,
    settle_until VARCHAR,
    PRIMARY KEY (id),
    UNIQUE (event_id)
);

CREATE INDEX ix_outbox_run_id ON outbox (run_id);

CREATE INDEX ix_outbox_state ON outbox (state);

CREATE INDEX ix_outbox_kind ON outbox (kind);

CREATE INDEX ix_outbox_next_attempt_at ON outbox (next_attempt_at);

CREATE TABLE roster_orgs (
    sourced_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    date_last_modified VARCHAR,
    name VARCHAR NOT NULL,
    type VARCHAR,
    identifier VARCHAR,
    parent_id VARCHAR,
    raw_json VARCHAR NOT NULL,
    PRIMARY KEY (sourced_id)
);

CREATE TABLE roster_courses (
    sourced_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    date_last_modified VARCHAR,
    title VARCHAR NOT NULL,
    course_code VARCHAR,
    org_id VARCHAR,
    raw_json VARCHAR NOT NULL,
    PRIMARY KEY (sourced_id)
);

CREATE TABLE roster_classes (
    sourced_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    date_last_modified VARCHAR,
    title VARCHAR NOT NULL,
    class_code VARCHAR,
    class_type VARCHAR,
    course_sourced_id VARCHAR,
    school_sourced_id VARCHAR,
    raw_json VARCHAR NOT NULL,
    PRIMARY KEY (sourced_id)
);

CREATE INDEX ix_roster_classes_school_sourced_id ON roster_classes (school_sourced_id);

CREATE TABLE roster_users (
    sourced_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    date_last_modified VARCHAR,
    given_name VARCHAR NOT NULL,
    family_name VARCHAR NOT NULL,
    middle_name VARCHAR,
    preferred_first_name VARCHAR,
    preferred_last_name VARCHAR,
    email VARCHAR,
    username VARCHAR,
    enabled_user VARCHAR NOT NULL,
    identifier VARCHAR,
    user_master_identifier VARCHAR,
    primary_org_id VARCHAR,
    role VARCHAR,
    roles_json VARCHAR NOT NULL,
    org_ids_json VARCHAR NOT NULL,
    raw_json VARCHAR NOT NULL,
    PRIMARY KEY (sourced_id)
);

CREATE INDEX ix_roster_users_email ON roster_users (email);

CREATE TABLE roster_enrollments (
    sourced_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    date_last_modified VARCHAR,
    role VARCHAR NOT NULL,
    "primary" VARCHAR,
    user_sourced_id VARCHAR NOT NULL,
    class_sourced_id VARCHAR NOT NULL,
    school_sourced_id VARCHAR,
    begin_date VARCHAR,
    end_date VARCHAR,
    raw_json VARCHAR NOT NULL,
    PRIMARY KEY (sourced_id)
);

CREATE INDEX ix_roster_enrollments_user_sourced_id ON roster_enrollments (user_sourced_id);

CREATE INDEX ix_roster_enrollments_class_sourced_id ON roster_enrollments (class_sourced_id);

CREATE TABLE launch_nonces (
    state VARCHAR NOT NULL,
    nonce VARCHAR NOT NULL,
    purpose VARCHAR NOT NULL,
    created_at VARCHAR NOT NULL,
    expires_at VARCHAR NOT NULL,
    used_at VARCHAR,
    data_json VARCHAR NOT NULL,
    PRIMARY KEY (state)
);

CREATE UNIQUE INDEX ix_launch_nonces_nonce ON launch_nonces (nonce);

CREATE TABLE pins (
    user_id VARCHAR NOT NULL,
    salt BLOB,
    hash BLOB,
    n INTEGER NOT NULL,
    r INTEGER NOT NULL,
    p INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    locked_until VARCHAR,
    updated_at VARCHAR,
    PRIMARY KEY (user_id)
);

CREATE TABLE lessons (
    id VARCHAR NOT NULL,
    title VARCHAR NOT NULL,
    course_id VARCHAR NOT NULL,
    course_title VARCHAR NOT NULL,
    subject VARCHAR NOT NULL,
    grade VARCHAR,
    sort_order INTEGER NOT NULL,
    settings_json VARCHAR NOT NULL,
    PRIMARY KEY (id)
);

CREATE INDEX ix_lessons_course_id ON lessons (course_id);

CREATE TABLE progress (
    student_id VARCHAR NOT NULL,
    lesson_id VARCHAR NOT NULL,
    mastered BOOLEAN NOT NULL,
    attempts INTEGER NOT NULL,
    best_accuracy FLOAT,
    total_xp VARCHAR NOT NULL,
    mastered_at VARCHAR,
    PRIMARY KEY (student_id, lesson_id)
);

CREATE TABLE runs (
    run_id VARCHAR NOT NULL,
    student_id VARCHAR NOT NULL,
    lesson_id VARCHAR NOT NULL,
    attempt INTEGER NOT NULL,
    anchor VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    completed BOOLEAN,
    abandoned BOOLEAN,
    xp VARCHAR,
    end_ms INTEGER,
    reported_until_ms INTEGER NOT NULL,
    events_pending_reason VARCHAR,
    created_at VARCHAR NOT NULL,
    closed_at VARCHAR,
    PRIMARY KEY (run_id)
);

CREATE INDEX ix_runs_state ON runs (state);

CREATE INDEX ix_runs_lesson_id ON runs (lesson_id);

CREATE INDEX ix_runs_student_id ON runs (student_id);

CREATE TABLE journal_lines (
    run_id VARCHAR NOT NULL,
    seq INTEGER NOT NULL,
    t_ms INTEGER NOT NULL,
    kind VARCHAR NOT NULL,
    data VARCHAR NOT NULL,
    PRIMARY KEY (run_id, seq),
    FOREIGN KEY(run_id) REFERENCES runs (run_id)
);
"""
