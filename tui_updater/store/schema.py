"""tasks.db schema and its versioned migrations (PRAGMA user_version)."""

from __future__ import annotations

import sqlite3

from tui_updater.errors import ConfigError

# Each entry upgrades the schema from version i to i+1. Append; never edit a released step.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE tasks (
        task_id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        priority INTEGER NOT NULL,
        status TEXT NOT NULL,
        data TEXT NOT NULL,
        progress REAL NOT NULL DEFAULT 0,
        message TEXT,
        result TEXT,
        error TEXT,
        attempt INTEGER NOT NULL DEFAULT 1,
        created_at_ms INTEGER NOT NULL,
        started_at_ms INTEGER,
        finished_at_ms INTEGER,
        updated_at_ms INTEGER NOT NULL,
        total INTEGER NOT NULL DEFAULT 0,
        done INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        prompt_tokens INTEGER NOT NULL DEFAULT 0,
        completion_tokens INTEGER NOT NULL DEFAULT 0,
        requests INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX tasks_status ON tasks(status, priority DESC, created_at_ms);
    CREATE INDEX tasks_created ON tasks(created_at_ms);
    CREATE TABLE items (
        task_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        key TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        result TEXT,
        updated_at_ms INTEGER NOT NULL,
        retryable INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (task_id, seq)
    ) WITHOUT ROWID;
    CREATE TABLE logs (
        id INTEGER PRIMARY KEY,
        task_id TEXT,
        timestamp_ms INTEGER NOT NULL,
        level TEXT NOT NULL,
        message TEXT NOT NULL
    );
    CREATE INDEX logs_task ON logs(task_id, id);
    -- old_value/new_value have no declared type so SQLite keeps each value's own storage class.
    CREATE TABLE journal (
        entry_id INTEGER PRIMARY KEY,
        task_id TEXT NOT NULL,
        item_key TEXT NOT NULL,
        character_id TEXT NOT NULL,
        column_name TEXT NOT NULL,
        old_value,
        new_value,
        state TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL
    );
    CREATE INDEX journal_task ON journal(task_id, item_key);
    """,
    """
    CREATE TABLE engine_state (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # Character claims, an item's values first seen, and the journal's updated-at evidence and
    # the files the tool created.
    """
    CREATE TABLE claims (
        scope TEXT NOT NULL,
        character_id TEXT NOT NULL,
        column_name TEXT NOT NULL,
        task_id TEXT NOT NULL,
        item_key TEXT NOT NULL,
        claimed_at_ms INTEGER NOT NULL,
        PRIMARY KEY (scope, character_id, column_name)
    ) WITHOUT ROWID;
    CREATE INDEX claims_task ON claims(task_id, item_key);
    ALTER TABLE items ADD COLUMN first_seen TEXT;
    ALTER TABLE journal ADD COLUMN updated_before;
    ALTER TABLE journal ADD COLUMN updated_to;
    ALTER TABLE journal ADD COLUMN file_path TEXT;
    """,
    # The character database each task belongs to (path and identity).
    """
    ALTER TABLE tasks ADD COLUMN database TEXT;
    ALTER TABLE tasks ADD COLUMN database_identity TEXT;
    CREATE INDEX tasks_database ON tasks(database, status);
    """,
    # Review mode: proposals wait here (never in the site's database) until accepted or rejected.
    """
    CREATE TABLE proposals (
        proposal_id INTEGER PRIMARY KEY,
        task_id TEXT NOT NULL,
        item_key TEXT NOT NULL,
        character_id TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        changes TEXT NOT NULL,
        files TEXT,
        status TEXT NOT NULL,
        edited INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL,
        UNIQUE (task_id, item_key)
    );
    """,
    # When a task's changes were reverted as a whole.
    """
    ALTER TABLE tasks ADD COLUMN reverted_at_ms INTEGER;
    """,
    # Schedules (rules): a task type + parameters + a trigger + an optional per-day budget.
    """
    CREATE TABLE schedules (
        schedule_id TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        data TEXT NOT NULL,
        priority INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        cron TEXT,
        every_minutes INTEGER,
        max_tokens INTEGER,
        max_cost REAL,
        enabled INTEGER NOT NULL DEFAULT 1,
        updated_at_ms INTEGER NOT NULL DEFAULT 0,
        last_run_ms INTEGER,
        next_run_ms INTEGER,
        last_task_id TEXT,
        message TEXT NOT NULL DEFAULT '',
        tasks_created INTEGER NOT NULL DEFAULT 0,
        created_tasks TEXT NOT NULL DEFAULT '{}'
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring tasks.db to SCHEMA_VERSION; refuse a newer file written by a later release."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise ConfigError(
            f"tasks.db schema version {version} is newer than this release understands "
            f"({SCHEMA_VERSION}); upgrade tavern-updater-tui or use another --state-dir"
        )
    for step in range(version, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[step]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION


def _statements(script: str) -> list[str]:
    out, buffer = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                out.append(buffer.strip())
            buffer = ""
    return out
