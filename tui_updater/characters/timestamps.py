"""The updated-at value a write stores: the format of the value it replaces, decided per row by
the UPDATE itself, so it is never a guess made when the database was opened.

The rule (README, "How your data is kept safe"):

1. An INTEGER or REAL value stays a number: epoch milliseconds when it is at least 1e11 (1973 in
   ms, the year 5138 in seconds), epoch seconds otherwise.
2. A TEXT value stays ISO-8601 text spelled like it: ``T`` or space between date and time, with or
   without milliseconds, ending ``Z``, ``+00:00`` or nothing.
3. A NULL takes the format of the newest non-NULL value of the column (highest rowid), read by
   the same statement, so a row the site added a moment ago counts.
4. A column with no value at all follows its declared type: one containing ``INT`` gets epoch
   milliseconds; any other (Prisma's ``DATETIME``, ``TEXT``) gets Prisma 7's default
   ``2026-12-01T12:05:12.807+00:00``: Prisma 7 is what creates such tables today, and Prisma 6
   never leaves a row's ``@updatedAt`` NULL.

SQLite orders every INTEGER before every TEXT, so a value in the other format hides the row from
Prisma's ``updatedAt >= …`` filters; that is why the format is kept per row.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tui_updater.characters.schema import CharacterSchema, quote

# 1e11: below it a number is seconds (up to the year 5138), at or above it milliseconds.
_MS_THRESHOLD = "100000000000"


def instant_of(value: object) -> int | None:
    """The instant (epoch ms) an updated-at value stands for, in whichever format it is stored;
    None for NULL or a value that is no timestamp."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value) if abs(value) >= int(_MS_THRESHOLD) else int(value * 1000)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    return None


def stamp_instant(schema: CharacterSchema, now_ms: int) -> int | None:
    """The parameter the updated-at assignment binds: ``now_ms``, or None when the table has
    no updated-at column (then nothing is stamped)."""
    return now_ms if schema.has("updatedAt") else None


def _iso(sample: str, ms: str) -> str:
    """``ms`` as ISO text spelled like the text ``sample`` (both SQL expressions)."""
    seconds = f"({ms}) / 1000"
    return (
        f"strftime('%Y-%m-%d', {seconds}, 'unixepoch')"
        f" || CASE WHEN substr({sample}, 11, 1) = ' ' THEN ' ' ELSE 'T' END"
        f" || strftime('%H:%M:%S', {seconds}, 'unixepoch')"
        f" || CASE WHEN instr(substr({sample}, 20), '.') > 0"
        f" THEN '.' || printf('%03d', ({ms}) % 1000) ELSE '' END"
        f" || CASE WHEN {sample} LIKE '%Z' THEN 'Z'"
        f" WHEN {sample} LIKE '%+00:00' THEN '+00:00' ELSE '' END"
    )


def _empty_column(declared: str, ms: str) -> str:
    if "INT" in declared:
        return ms
    return _iso("'2026-12-01T12:05:12.807+00:00'", ms)


def stamp_expression(
    schema: CharacterSchema, *, logical: str = "updatedAt", insert: bool = False
) -> str:
    """The SQL value for a timestamp column (updated-at unless ``logical`` says otherwise) in an
    UPDATE of ``schema``'s table, or in an INSERT's VALUES with ``insert`` (no current value:
    rules 3 and 4), with one ``?`` (the write's instant in epoch ms) — the rule above."""
    column = schema.column(logical)
    current = "NULL" if insert else f"{schema.qtable}.{quote(column)}"
    newest = (
        f"(SELECT nb.{quote(column)} FROM {schema.qtable} AS nb "
        f"WHERE nb.{quote(column)} IS NOT NULL ORDER BY nb.rowid DESC LIMIT 1)"
    )
    sample = f"coalesce({current}, n.newest)"
    number = f"CASE WHEN abs({sample}) >= {_MS_THRESHOLD} THEN n.ms ELSE n.ms / 1000 END"
    declared = schema.declared_types.get(column, "")
    return (
        f"(SELECT CASE typeof({sample}) "
        f"WHEN 'integer' THEN {number} WHEN 'real' THEN {number} "
        f"WHEN 'text' THEN {_iso(sample, 'n.ms')} "
        f"ELSE {_empty_column(declared, 'n.ms')} END "
        f"FROM (SELECT ? AS ms, {newest} AS newest) AS n)"
    )


def stamp_assignment(schema: CharacterSchema) -> str:
    """``"updated_at" = <stamp_expression>`` for an UPDATE's SET list."""
    return f"{schema.q('updatedAt')} = {stamp_expression(schema)}"
