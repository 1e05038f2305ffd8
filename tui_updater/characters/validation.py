"""Checks a database must pass after a migration: integrity, no new foreign-key violations, and
the character table still readable with every field the tool could use before.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import computed_field

from tui_updater.characters.schema import quote, read_schema
from tui_updater.characters.sqlitecopy import integrity_problems
from tui_updater.core.record import Record
from tui_updater.errors import CharacterDbError

ALWAYS_REQUIRED: tuple[str, ...] = ("id", "name")


@dataclass(frozen=True)
class Baseline:
    """The state before a migration that validation compares against."""

    fk_violations: Counter[tuple[str, str]] = field(default_factory=Counter)
    character_fields: tuple[str, ...] = ()  # logical fields resolvable before; () = no table


class ValidationReport(Record):
    integrity: str = "ok"
    foreign_keys: str = "ok"
    character_table: str = "ok"
    problems: tuple[str, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def ok(self) -> bool:
        return not self.problems


def foreign_key_violations(conn: sqlite3.Connection) -> Counter[tuple[str, str]]:
    """Violations counted per (child table, parent table)."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in conn.execute("PRAGMA foreign_key_check"):
        counts[(str(row[0]), str(row[2]))] += 1
    return counts


def character_fields(conn: sqlite3.Connection, overrides: Any) -> tuple[str, ...]:
    """Logical character fields resolvable now; () when there is no character table."""
    try:
        schema = read_schema(conn, overrides)
    except CharacterDbError:
        return ()
    return tuple(schema.columns)


def take_baseline(conn: sqlite3.Connection, overrides: Any) -> Baseline:
    return Baseline(foreign_key_violations(conn), character_fields(conn, overrides))


def new_fk_violations(conn: sqlite3.Connection, baseline: Baseline) -> list[str]:
    """Violations beyond those that already existed, as 'child → parent: n' lines."""
    now = foreign_key_violations(conn)
    return [
        f"{child} → {parent}: {count - baseline.fk_violations.get((child, parent), 0)} row(s)"
        for (child, parent), count in sorted(now.items())
        if count > baseline.fk_violations.get((child, parent), 0)
    ]


def check_character_table(conn: sqlite3.Connection, overrides: Any, baseline: Baseline) -> str:
    """'ok', 'no character table' or the reason the table is no longer usable."""
    if not baseline.character_fields:
        return "no character table"
    try:
        schema = read_schema(conn, overrides)
        wanted = tuple(dict.fromkeys([*ALWAYS_REQUIRED, *baseline.character_fields]))
        schema.require(*wanted, purpose="the updater")
        columns = ", ".join(quote(schema.column(name)) for name in wanted)
        conn.execute(f"SELECT {columns} FROM {schema.qtable} LIMIT 1").fetchall()
    except CharacterDbError as exc:
        return str(exc)
    except sqlite3.Error as exc:
        return f"character table unreadable: {exc}"
    return "ok"


def validate_database(
    conn: sqlite3.Connection,
    overrides: Any,
    baseline: Baseline,
    *,
    quick: bool = False,
    check_characters: bool = True,
) -> ValidationReport:
    """Run every check on ``conn`` (inside or outside a transaction) and report."""
    problems: list[str] = []
    integrity = integrity_problems(conn, quick=quick)
    if integrity:
        problems.append("integrity check failed: " + "; ".join(integrity[:5]))
    violations = new_fk_violations(conn, baseline)
    if violations:
        problems.append("new foreign-key violations: " + "; ".join(violations))
    table_state = "skipped"
    if check_characters:
        table_state = check_character_table(conn, overrides, baseline)
        if table_state not in ("ok", "no character table"):
            problems.append(table_state)
    return ValidationReport(
        integrity="ok" if not integrity else "; ".join(integrity[:5]),
        foreign_keys="ok" if not violations else "; ".join(violations),
        character_table=table_state,
        problems=tuple(problems),
    )
