"""Plain sqlite3 primitives for backups and migrations: open with a busy timeout, copy a
database through the online backup API, and run the integrity check.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tui_updater.errors import CharacterDbError

BUSY_TIMEOUT_MS = 10_000


def open_database(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """An autocommit connection (isolation_level=None) with a 10 s busy timeout.

    Without ``create`` a missing file is an error instead of silently becoming an empty database.
    """
    if create:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    else:
        if not path.is_file():
            raise CharacterDbError(f"database file {path} does not exist")
        uri = path.resolve().as_uri() + "?mode=rw"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return conn


def copy_database(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """Copy every page of ``source`` into ``target`` in one backup step (a consistent snapshot).

    One step (pages=-1) holds a read transaction on the source for the whole copy, so a writer in
    another process cannot force a restart; in WAL mode it is not blocked either.
    """
    source.backup(target, pages=-1)


def integrity_problems(conn: sqlite3.Connection, *, quick: bool = False) -> list[str]:
    """The integrity check's complaints; an empty list means the database is ok."""
    pragma = "quick_check" if quick else "integrity_check"
    rows = conn.execute(f"PRAGMA {pragma}").fetchall()
    messages = [str(row[0]) for row in rows]
    return [] if messages == ["ok"] else messages


def check_file_integrity(path: Path) -> list[str]:
    """Open ``path`` read-only and return its integrity problems (empty when ok)."""
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        return [f"cannot open: {exc}"]
    try:
        return integrity_problems(conn)
    except sqlite3.Error as exc:
        return [f"not a usable SQLite database: {exc}"]
    finally:
        conn.close()
