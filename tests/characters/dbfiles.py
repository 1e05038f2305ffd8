"""Character databases of other shapes than the demo one, built for tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any


def make_db(
    path: Path,
    create_sql: str,
    rows: list[dict[str, Any]],
    *,
    table: str = "Character",
    wal: bool = False,
) -> Path:
    """Create a database with one table and rows (dicts of column → value)."""
    conn = sqlite3.connect(path)
    try:
        if wal:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(create_sql)
        for row in rows:
            cols = ", ".join(f'"{c}"' for c in row)
            marks = ", ".join("?" for _ in row)
            conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', list(row.values()))
        conn.commit()
    finally:
        conn.close()
    return path


ISO_TABLE = """CREATE TABLE "Character" (
    "id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "description" TEXT NOT NULL,
    "personality" TEXT, "backstory" TEXT, "mbtiType" TEXT, "avatar" TEXT,
    "avatarStatus" TEXT DEFAULT 'PENDING', "fullDescription" TEXT, "speakingStyle" TEXT,
    "scenario" TEXT, "exampleDialogs" TEXT, "updated_at" DATETIME NOT NULL)"""

INTEGER_TABLE = """CREATE TABLE characters (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, description TEXT,
    personality TEXT, background TEXT, mbti_type TEXT, avatar TEXT, avatar_status TEXT,
    full_description TEXT, speaking_style TEXT, scenario TEXT, example_dialogs TEXT,
    is_deleted INTEGER DEFAULT 0, updatedAt INTEGER)"""

NO_MBTI_TABLE = """CREATE TABLE "Character" (
    "id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL, "description" TEXT NOT NULL,
    "avatar" TEXT, "updated_at" DATETIME NOT NULL)"""


def iso_db(path: Path) -> Path:
    """TEXT ids, ISO-8601 text timestamps (as Prisma driver adapters write them)."""
    return make_db(
        path,
        ISO_TABLE,
        [
            {"id": "a1", "name": "Alice", "description": "A calm and logical planner.",
             "updated_at": "2024-05-01T10:00:00.000Z"},
            {"id": "b2", "name": "Bob", "description": "A cheerful baker.", "mbtiType": "ESFJ",
             "avatar": "/x.png", "avatarStatus": "COMPLETED",
             "updated_at": "2024-05-02T10:00:00.000Z"},
        ],
    )  # fmt: skip


def integer_db(path: Path) -> Path:
    """INTEGER ids, snake_case columns, `background`, epoch-second `updatedAt`, a deleted row."""
    return make_db(
        path,
        INTEGER_TABLE,
        [
            {"name": "Ivy", "description": "A shy gardener who loves quiet mornings.",
             "updatedAt": 1_700_000_000},
            {"name": "Max", "description": "A bold pilot.", "mbti_type": "ESTP",
             "updatedAt": 1_700_000_100},
            {"name": "Gone", "description": "Deleted.", "is_deleted": 1, "updatedAt": 1_700_000_200},
        ],
        table="characters",
    )  # fmt: skip


def no_mbti_db(path: Path) -> Path:
    return make_db(
        path,
        NO_MBTI_TABLE,
        [{"id": "x1", "name": "X", "description": "x", "updated_at": 1_714_000_000_000}],
    )


def master(path: Path) -> list[tuple[Any, ...]]:
    """sqlite_master of a database, to show nothing was created."""
    conn = sqlite3.connect(path)
    try:
        return sorted(
            conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        )
    finally:
        conn.close()


def row(path: Path, table: str, id_col: str, id_value: Any) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        found = conn.execute(
            f'SELECT * FROM "{table}" WHERE "{id_col}" = ?', (id_value,)
        ).fetchone()
        return dict(found)
    finally:
        conn.close()


def typeof(path: Path, table: str, column: str, id_col: str, id_value: Any) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(
            conn.execute(
                f'SELECT typeof("{column}") FROM "{table}" WHERE "{id_col}" = ?', (id_value,)
            ).fetchone()[0]
        )
    finally:
        conn.close()


def execute(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    """A write by "the site": another connection, committed."""
    conn = sqlite3.connect(path)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()
