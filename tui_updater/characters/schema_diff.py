"""Schema snapshots of an SQLite database (tables, columns, indexes, triggers, views), their
difference, and a fingerprint that tells whether a migration has been applied.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from tui_updater.core.record import Record


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    not_null: bool
    default: str | None
    primary_key: int

    def describe(self) -> str:
        text = self.type or "(no type)"
        if self.not_null:
            text += " NOT NULL"
        if self.default is not None:
            text += f" DEFAULT {self.default}"
        if self.primary_key:
            text += " PRIMARY KEY"
        return text


@dataclass(frozen=True)
class SchemaSnapshot:
    """The user-visible schema; ``sqlite_*`` internals are left out."""

    tables: dict[str, dict[str, ColumnInfo]] = field(default_factory=dict)
    indexes: dict[str, str] = field(default_factory=dict)  # name → sql ('' for automatic)
    triggers: dict[str, str] = field(default_factory=dict)
    views: dict[str, str] = field(default_factory=dict)


class SchemaDiff(Record):
    tables_added: list[str] = field(default_factory=list)
    tables_removed: list[str] = field(default_factory=list)
    columns_added: list[dict[str, str]] = field(default_factory=list)
    columns_removed: list[dict[str, str]] = field(default_factory=list)
    columns_changed: list[dict[str, str]] = field(default_factory=list)
    indexes_added: list[str] = field(default_factory=list)
    indexes_removed: list[str] = field(default_factory=list)
    triggers_added: list[str] = field(default_factory=list)
    triggers_removed: list[str] = field(default_factory=list)
    views_added: list[str] = field(default_factory=list)
    views_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(self.to_json().values())


def _user_objects(conn: sqlite3.Connection) -> list[tuple[str, str, str, str]]:
    rows = conn.execute(
        "SELECT type, name, tbl_name, COALESCE(sql, '') FROM sqlite_master "
        "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    ).fetchall()
    return sorted((str(t), str(n), str(tb), str(s)) for t, n, tb, s in rows)


def snapshot_schema(conn: sqlite3.Connection) -> SchemaSnapshot:
    """Read the schema of the connection's main database."""
    snapshot = SchemaSnapshot()
    for kind, name, _table, sql in _user_objects(conn):
        if kind == "table":
            columns: dict[str, ColumnInfo] = {}
            for row in conn.execute("SELECT * FROM pragma_table_info(?)", (name,)):
                info = ColumnInfo(str(row[1]), str(row[2] or ""), bool(row[3]), row[4], int(row[5]))
                columns[info.name] = info
            snapshot.tables[name] = columns
        elif kind == "index":
            snapshot.indexes[name] = sql
        elif kind == "trigger":
            snapshot.triggers[name] = sql
        elif kind == "view":
            snapshot.views[name] = sql
    return snapshot


def schema_fingerprint(conn: sqlite3.Connection) -> str:
    """sha256 of the sorted schema text; equal fingerprints mean the same schema."""
    digest = hashlib.sha256()
    for row in _user_objects(conn):
        digest.update("\x1f".join(row).encode("utf-8"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def _added_removed(before: dict[str, Any], after: dict[str, Any]) -> tuple[list[str], list[str]]:
    return sorted(set(after) - set(before)), sorted(set(before) - set(after))


def diff_schemas(before: SchemaSnapshot, after: SchemaSnapshot) -> SchemaDiff:
    """What changed from ``before`` to ``after``; columns of added/removed tables are not listed."""
    tables_added, tables_removed = _added_removed(before.tables, after.tables)
    diff = SchemaDiff(tables_added=tables_added, tables_removed=tables_removed)
    for table in sorted(set(before.tables) & set(after.tables)):
        old_cols, new_cols = before.tables[table], after.tables[table]
        added, removed = _added_removed(old_cols, new_cols)
        diff.columns_added.extend(
            {"table": table, "column": c, "type": new_cols[c].describe()} for c in added
        )
        diff.columns_removed.extend(
            {"table": table, "column": c, "type": old_cols[c].describe()} for c in removed
        )
        for column in sorted(set(old_cols) & set(new_cols)):
            if old_cols[column] != new_cols[column]:
                diff.columns_changed.append(
                    {
                        "table": table,
                        "column": column,
                        "before": old_cols[column].describe(),
                        "after": new_cols[column].describe(),
                    }
                )
    for kind in ("indexes", "triggers", "views"):
        old, new = getattr(before, kind), getattr(after, kind)
        added, removed = _added_removed(old, new)
        changed = sorted(n for n in set(old) & set(new) if old[n] != new[n])
        # A redefined object shows as removed and added again.
        getattr(diff, f"{kind}_added").extend(sorted([*added, *changed]))
        getattr(diff, f"{kind}_removed").extend(sorted([*removed, *changed]))
    return diff
