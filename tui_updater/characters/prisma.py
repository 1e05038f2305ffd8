"""Prisma's migration history: the ``_prisma_migrations`` table and a ``prisma/migrations`` folder.

The table is Prisma's, never created here. When it exists, a migration applied through
DATABASE_UPGRADE is recorded in it with the row ``prisma migrate deploy`` writes, inside the
migration's own transaction, so ``prisma migrate status`` sees it applied and a later deploy
skips it. As the schema engine writes it on SQLite (prisma-engines, sql-schema-connector and
quaint's SQLite value conversion):

- ``id``: a random UUID v4, hyphenated; ``migration_name``: the migration's directory name;
- ``checksum``: sha256 of the ``migration.sql`` bytes, lower-case hex (64 characters);
- ``started_at`` / ``finished_at``: integer epoch milliseconds (quaint binds a DateTime as
  ``timestamp_millis``), before the script runs and after it;
- ``logs`` and ``rolled_back_at``: NULL; ``applied_steps_count``: 1 (one script, one step).

Plain synchronous sqlite3, like characters/migration.py (run it in a worker thread).
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tui_updater.characters.sqlitecopy import open_database
from tui_updater.errors import InvalidParameters

TABLE = "_prisma_migrations"
SCRIPT_NAME = "migration.sql"
MAX_MIGRATIONS = 10_000


def checksum(script: bytes) -> str:
    """Prisma's checksum of a migration script: sha256 of its bytes, lower-case hex."""
    return hashlib.sha256(script).hexdigest()


def has_history(conn: sqlite3.Connection) -> bool:
    """Whether the database keeps Prisma's migration history."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)
    ).fetchone()
    return row is not None


@dataclass(frozen=True)
class History:
    """What ``_prisma_migrations`` says, by migration name."""

    present: bool
    finished: frozenset[str]  # applied: finished and not rolled back
    failed: frozenset[str]  # started, never finished, not rolled back (Prisma's P3009)


def read_history(conn: sqlite3.Connection) -> History:
    if not has_history(conn):
        return History(False, frozenset(), frozenset())
    rows = conn.execute(
        f'SELECT "migration_name", "finished_at" IS NOT NULL FROM "{TABLE}" '
        'WHERE "rolled_back_at" IS NULL'
    ).fetchall()
    finished = frozenset(str(name) for name, done in rows if done)
    failed = frozenset(str(name) for name, done in rows if not done) - finished
    return History(True, finished, failed)


def live_history(db_path: Path) -> History:
    conn = open_database(db_path)
    try:
        return read_history(conn)
    finally:
        conn.close()


@dataclass(frozen=True)
class MigrationFile:
    """One migration: its name (Prisma's), the file it comes from and its exact bytes."""

    name: str
    path: Path | None  # None: SQL text given inline
    script: bytes

    @property
    def checksum(self) -> str:
        return checksum(self.script)

    def text(self) -> str:
        try:
            return self.script.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InvalidParameters(
                "migrationScript",
                f"{self.path or self.name} is not UTF-8 text (invalid byte at offset {exc.start})",
            ) from None


def is_migration_dir(path: Path) -> bool:
    """A ``<timestamp>_<name>`` directory holding a ``migration.sql``."""
    return path.is_dir() and (path / SCRIPT_NAME).is_file()


def read_migration_dir(path: Path) -> MigrationFile:
    return MigrationFile(path.name, path / SCRIPT_NAME, _read(path / SCRIPT_NAME))


def read_folder(folder: Path) -> list[MigrationFile]:
    """The migrations of a ``prisma/migrations`` folder in the order Prisma applies them: by
    directory name. Entries without a ``migration.sql`` (``migration_lock.toml``) are skipped."""
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        raise InvalidParameters(
            "migrationScript", f"cannot read {folder}: {exc.strerror or exc}"
        ) from None
    found = [read_migration_dir(entry) for entry in entries if is_migration_dir(entry)]
    if not found:
        raise InvalidParameters(
            "migrationScript",
            f"{folder} holds no migrations (<timestamp>_<name>/{SCRIPT_NAME} directories)",
        )
    if len(found) > MAX_MIGRATIONS:
        raise InvalidParameters("migrationScript", f"{folder} holds more than {MAX_MIGRATIONS}")
    return found


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidParameters(
            "migrationScript", f"cannot read {path}: {exc.strerror or exc}"
        ) from None


def recorder(
    name: str, script_checksum: str, started_ms: int, clock: Callable[[], int]
) -> Callable[[sqlite3.Connection], str | None]:
    """A step for the migration's transaction, run after its statements: inserts the row
    ``prisma migrate deploy`` would have written and returns its id; does nothing (None) when
    the database has no ``_prisma_migrations``."""

    def record(conn: sqlite3.Connection) -> str | None:
        if not has_history(conn):
            return None
        row_id = str(uuid.uuid4())
        conn.execute(
            f'INSERT INTO "{TABLE}" ("id", "checksum", "finished_at", "migration_name", "logs", '
            '"rolled_back_at", "started_at", "applied_steps_count") '
            "VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)",
            (row_id, script_checksum, clock(), name, started_ms),
        )
        return row_id

    return record
