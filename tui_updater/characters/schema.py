"""Introspection of the character table: logical field → real column, id storage (timestamps: timestamps.py).

Synchronous and side-effect free (reads only), so a migration can validate a database with it.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tui_updater.errors import CharacterDbError, MissingColumn

# Integer ids as SQLite stores them: ASCII digits (no "1_000", no other scripts' digits), int64.
_INTEGER_TEXT = re.compile(r"[+-]?0*[0-9]{1,19}")
SQLITE_INT_MIN, SQLITE_INT_MAX = -(2**63), 2**63 - 1

if TYPE_CHECKING:
    from tui_updater.config import CharacterSettings

TABLE_CANDIDATES: tuple[str, ...] = ("Character", "characters", "character")

# Logical name → column names tried in order (matched case-insensitively).
LOGICAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id",),
    "name": ("name",),
    "description": ("description",),
    "fullDescription": ("fullDescription", "full_description"),
    "personality": ("personality",),
    "backstory": ("backstory", "background"),
    "speakingStyle": ("speakingStyle", "speaking_style"),
    "scenario": ("scenario",),
    "exampleDialogs": ("exampleDialogs", "example_dialogs", "exampleDialogues"),
    "firstMessage": ("firstMessage", "first_message"),
    "mbtiType": ("mbtiType", "mbti_type", "mbti"),
    "avatar": ("avatar",),
    "avatarStatus": ("avatarStatus", "avatar_status"),
    "language": ("language",),
    "tags": ("tags",),
    "updatedAt": ("updated_at", "updatedAt"),
    "createdAt": ("created_at", "createdAt"),
    "isDeleted": ("isDeleted", "is_deleted"),
}

# Column definition suggested in the migration hint when a logical field is missing.
_SUGGESTED_DEFINITION: dict[str, tuple[str, str]] = {
    "fullDescription": ("fullDescription", "TEXT"),
    "personality": ("personality", "TEXT"),
    "backstory": ("backstory", "TEXT"),
    "speakingStyle": ("speakingStyle", "TEXT"),
    "scenario": ("scenario", "TEXT"),
    "exampleDialogs": ("exampleDialogs", "TEXT"),
    "firstMessage": ("firstMessage", "TEXT"),
    "mbtiType": ("mbtiType", "TEXT"),
    "avatar": ("avatar", "TEXT"),
    "avatarStatus": ("avatarStatus", "TEXT DEFAULT 'PENDING'"),
    "language": ("language", "TEXT DEFAULT 'zh-CN'"),
    "tags": ("tags", "TEXT DEFAULT '[]'"),
    "updatedAt": ("updated_at", "DATETIME"),
    "createdAt": ("created_at", "DATETIME"),
    "isDeleted": ("isDeleted", "BOOLEAN NOT NULL DEFAULT false"),
}


def quote(name: str) -> str:
    """An SQL identifier, double-quoted."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class CharacterSchema:
    """What the tool knows about the character table of one database."""

    table: str
    columns: Mapping[str, str]  # logical → real column
    declared_types: Mapping[str, str]  # real column → declared type (upper case)
    id_is_integer: bool = False
    misconfigured: Mapping[str, str] = field(default_factory=dict)  # logical → absent override

    @property
    def all_columns(self) -> tuple[str, ...]:
        return tuple(self.declared_types)

    @property
    def qtable(self) -> str:
        return quote(self.table)

    def has(self, logical: str) -> bool:
        return logical in self.columns

    def column(self, logical: str) -> str:
        """The real column of a logical field; MissingColumn when absent."""
        real = self.columns.get(logical)
        if real is None:
            raise self.missing(logical)
        return real

    def q(self, logical: str) -> str:
        """The quoted real column of a logical field."""
        return quote(self.column(logical))

    def require(self, *logical: str, purpose: str = "") -> None:
        """Raise MissingColumn for the first logical field without a real column."""
        for name in logical:
            if name not in self.columns:
                raise self.missing(name, purpose=purpose)

    def missing(self, logical: str, *, purpose: str = "") -> MissingColumn:
        why = f"needed for {purpose}; " if purpose else ""
        if logical in self.misconfigured:
            real = self.misconfigured[logical]
            return MissingColumn(
                self.table,
                real,
                f"{why}characters.columns maps {logical!r} to {real!r}, which does not exist",
            )
        real, definition = _SUGGESTED_DEFINITION.get(logical, (logical, "TEXT"))
        hint = (
            f"{why}add it with a migration: "
            f"ALTER TABLE {quote(self.table)} ADD COLUMN {quote(real)} {definition};"
        )
        return MissingColumn(self.table, real, hint)

    def id_value(self, key: str | int) -> str | int | None:
        """An id in the column's storage type; None when it cannot be one ('abc', or an integer
        past SQLite's signed 64-bit range, for an INTEGER column)."""
        if self.id_is_integer:
            if isinstance(key, bool):
                return None
            if isinstance(key, int):
                number = key
            else:
                text = str(key).strip()
                if not _INTEGER_TEXT.fullmatch(text):
                    return None
                number = int(text)
            return number if SQLITE_INT_MIN <= number <= SQLITE_INT_MAX else None
        return str(key)


def find_table(conn: sqlite3.Connection, configured: str | None) -> str:
    """The character table's real name; CharacterDbError when there is none."""
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    names = {str(row[0]).lower(): str(row[0]) for row in rows}
    wanted = (configured,) if configured else TABLE_CANDIDATES
    for candidate in wanted:
        real = names.get(candidate.lower())
        if real is not None:
            return real
    looked = ", ".join(wanted)
    raise CharacterDbError(
        f"no character table in this database (looked for {looked}); "
        "set characters.table in config.toml if it has another name"
    )


def read_schema(
    conn: sqlite3.Connection, overrides: CharacterSettings | None = None
) -> CharacterSchema:
    """Introspect the character table; configured table and column overrides win."""
    table = find_table(conn, getattr(overrides, "table", None))
    info = conn.execute(f"PRAGMA table_info({quote(table)})").fetchall()
    declared = {str(row[1]): str(row[2] or "").upper() for row in info}
    by_lower = {name.lower(): name for name in declared}
    columns: dict[str, str] = {}
    for logical, candidates in LOGICAL_COLUMNS.items():
        for candidate in candidates:
            real = by_lower.get(candidate.lower())
            if real is not None:
                columns[logical] = real
                break
    misconfigured: dict[str, str] = {}
    for logical, real_name in dict(getattr(overrides, "columns", None) or {}).items():
        real = by_lower.get(str(real_name).lower())
        if real is None:
            columns.pop(logical, None)
            misconfigured[logical] = str(real_name)
        else:
            columns[logical] = real
    if "id" not in columns:
        raise MissingColumn(table, "id", "the character table needs a primary key column")
    id_type = declared[columns["id"]]
    return CharacterSchema(
        table=table,
        columns=columns,
        declared_types=declared,
        id_is_integer="INT" in id_type,
        misconfigured=misconfigured,
    )
