"""Journaled inserts of new characters (card import) and their revert.

The one place the tool adds rows. Each insert is planned in the journal first (``column`` =
ROW_INSERTED, ``new_value`` = the row's content as JSON, id included), then written in one
``BEGIN IMMEDIATE`` transaction per batch. Revert deletes a row only while it still holds that
content (compare-and-set on every inserted column), so a row the site or another task changed
since is kept and reported. New ids follow the table's format: cuid-shaped text like the rows
already there (or UUIDs where the rows have UUIDs), the next integer for an INTEGER column;
the created-at and updated-at columns get the format their rows keep (timestamps.py).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sqlite3
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tui_updater.characters.schema import CharacterSchema, quote
from tui_updater.characters.timestamps import stamp_expression
from tui_updater.characters.writer import WritableDatabase, _in_transaction, _remove_files
from tui_updater.core.journal import ROW_INSERTED, JournalEntry, JournalState, SqlValue

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


@dataclass(frozen=True)
class CharacterInsert:
    """One new character: its content columns (real name → value; no id or timestamps)."""

    item_key: str
    values: Mapping[str, SqlValue]
    skip_duplicate: bool = True  # skip when a character of that name (and owner) exists
    owner_column: str | None = None  # scopes the duplicate check to one owner
    file_path: str | None = None  # a file created for this row (its avatar image)


@dataclass(frozen=True)
class InsertResult:
    item_key: str
    character_id: str | None
    applied: bool
    skipped: bool = False  # a duplicate, not inserted by choice
    reason: str | None = None


def _base36(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, rem = divmod(number, 36)
        chars.append(_BASE36[rem])
    return "".join(reversed(chars))


def new_cuid() -> str:
    """A new id shaped like Prisma's cuid(): ``c``, a base-36 time, then random base-36."""
    return "c" + _base36(time.time_ns() // 1_000_000, 8) + _base36(secrets.randbits(83), 16)


def _text_id_maker(conn: sqlite3.Connection, schema: CharacterSchema) -> Any:
    row = conn.execute(
        f"SELECT {schema.q('id')} FROM {schema.qtable} ORDER BY rowid DESC LIMIT 1"
    ).fetchone()
    if row is not None and _UUID.fullmatch(str(row[0])):
        return lambda: str(uuid.uuid4())
    return new_cuid


def _new_ids(conn: sqlite3.Connection, schema: CharacterSchema, count: int) -> list[str | int]:
    if schema.id_is_integer:
        top = conn.execute(f"SELECT IFNULL(MAX({schema.q('id')}), 0) FROM {schema.qtable}")
        start = int(top.fetchone()[0]) + 1
        return list(range(start, start + count))
    make = _text_id_maker(conn, schema)
    return [make() for _ in range(count)]


def _content(entry: JournalEntry) -> dict[str, SqlValue]:
    value: dict[str, SqlValue] = json.loads(str(entry.new_value))
    return value


def _holds(
    conn: sqlite3.Connection, schema: CharacterSchema, content: Mapping[str, SqlValue]
) -> str | None:
    """None when the row with ``content``'s id still holds exactly that content, else why not."""
    columns = [c for c in content if c in schema.declared_types]
    id_column = schema.column("id")
    row = conn.execute(
        f"SELECT {', '.join(quote(c) for c in columns)} FROM {schema.qtable} "
        f"WHERE {quote(id_column)} = ?",
        (content[id_column],),
    ).fetchone()
    if row is None:
        return "character no longer exists"
    changed = [c for c, now in zip(columns, row, strict=True) if now != content[c]]
    if len(columns) < len(content):
        changed.append("(columns removed)")
    return f"changed since the task inserted it: {', '.join(changed)}" if changed else None


def _duplicate(
    conn: sqlite3.Connection, schema: CharacterSchema, insert: CharacterInsert
) -> str | None:
    if not schema.has("name") or insert.values.get(schema.column("name")) is None:
        return None
    where = [f"{schema.q('name')} = ?"]
    params: list[Any] = [insert.values[schema.column("name")]]
    if insert.owner_column is not None:
        where.append(f"{quote(insert.owner_column)} IS ?")
        params.append(insert.values.get(insert.owner_column))
    if schema.has("isDeleted"):
        where.append(f"IFNULL({schema.q('isDeleted')}, 0) = 0")
    row = conn.execute(
        f"SELECT {schema.q('id')} FROM {schema.qtable} WHERE {' AND '.join(where)} LIMIT 1",
        params,
    ).fetchone()
    if row is None:
        return None
    return f"duplicate: a character named {params[0]!r} exists (id {row[0]})"


def _insert_sql(schema: CharacterSchema, columns: Sequence[str]) -> tuple[str, int]:
    """The INSERT of ``columns`` plus each present timestamp column; and how many of those."""
    names = [quote(c) for c in columns]
    values = ["?"] * len(columns)
    stamps = 0
    for logical in ("createdAt", "updatedAt"):
        if schema.has(logical) and schema.column(logical) not in columns:
            names.append(schema.q(logical))
            values.append(stamp_expression(schema, logical=logical, insert=True))
            stamps += 1
    sql = f"INSERT INTO {schema.qtable} ({', '.join(names)}) VALUES ({', '.join(values)})"
    return sql, stamps


async def _settle_earlier(
    db: WritableDatabase, task_id: str, keys: Sequence[str]
) -> dict[str, InsertResult]:
    """Inserts an earlier attempt planned or applied for these items: a row that is there with
    its content counts as inserted (never inserted twice); a planned one that is not, never
    happened (marked conflict, and the item inserts afresh)."""
    earlier = await db.journal.entries(
        task_id, states={JournalState.PLANNED, JournalState.APPLIED}, item_keys=keys
    )
    earlier = [e for e in earlier if e.inserted_row]
    if not earlier:
        return {}
    schema = db.schema

    def work(conn: sqlite3.Connection) -> list[str | None]:
        return [_holds(conn, schema, _content(e)) for e in earlier]

    reasons = await db.run(work)
    settled: dict[str, InsertResult] = {}
    applied_ids: list[int] = []
    lost_ids: list[int] = []
    for entry, reason in zip(earlier, reasons, strict=True):
        if reason is None or entry.state is JournalState.APPLIED:
            settled[entry.item_key] = InsertResult(entry.item_key, entry.character_id, True)
            if entry.state is JournalState.PLANNED and entry.entry_id is not None:
                applied_ids.append(entry.entry_id)
        elif entry.entry_id is not None:
            lost_ids.append(entry.entry_id)
    if applied_ids:
        await db.journal.mark(applied_ids, JournalState.APPLIED)
    if lost_ids:
        await db.journal.mark(lost_ids, JournalState.CONFLICT)
    return settled


async def insert_characters(
    db: WritableDatabase, task_id: str, inserts: Sequence[CharacterInsert]
) -> list[InsertResult]:
    """Plan, insert (one transaction) and mark a batch of new characters; one result each."""
    schema = db.schema
    settled = await _settle_earlier(db, task_id, [i.item_key for i in inserts])
    todo = [i for i in inserts if i.item_key not in settled]
    results: dict[str, InsertResult] = dict(settled)
    if todo:
        ids = await db.run(lambda conn: _new_ids(conn, schema, len(todo)))
        id_column = schema.column("id")
        contents = [{id_column: new_id, **i.values} for i, new_id in zip(todo, ids, strict=True)]
        entry_ids = await db.journal.plan(
            [
                JournalEntry(
                    task_id,
                    insert.item_key,
                    str(content[id_column]),
                    ROW_INSERTED,
                    None,
                    json.dumps(content, ensure_ascii=False),
                    file_path=insert.file_path,
                )
                for insert, content in zip(todo, contents, strict=True)
            ]
        )
        instant = db.clock()

        def work(conn: sqlite3.Connection) -> list[tuple[bool, str | None]]:
            def body() -> list[tuple[bool, str | None]]:
                outcome: list[tuple[bool, str | None]] = []
                for insert, content in zip(todo, contents, strict=True):
                    duplicate = _duplicate(conn, schema, insert) if insert.skip_duplicate else None
                    if duplicate is not None:
                        outcome.append((True, duplicate))
                        continue
                    sql, stamps = _insert_sql(schema, list(content))
                    try:
                        conn.execute(sql, [*content.values(), *([instant] * stamps)])
                    except sqlite3.IntegrityError as exc:
                        outcome.append((False, f"refused by the table: {exc}"))
                        continue
                    outcome.append((False, None))
                return outcome

            out: list[tuple[bool, str | None]] = _in_transaction(conn, body)
            return out

        outcomes = await db.write(work)
        applied: list[int] = []
        refused: list[int] = []
        for insert, content, entry_id, (was_duplicate, reason) in zip(
            todo, contents, entry_ids, outcomes, strict=True
        ):
            (refused if reason else applied).append(entry_id)
            results[insert.item_key] = InsertResult(
                insert.item_key,
                None if reason else str(content[id_column]),
                reason is None,
                skipped=was_duplicate,
                reason=reason,
            )
        if applied:
            await db.journal.mark(applied, JournalState.APPLIED)
        if refused:
            await db.journal.mark(refused, JournalState.CONFLICT)
    return [results[i.item_key] for i in inserts]


async def revert_inserts(db: WritableDatabase, task_id: str) -> dict[str, Any]:
    """Delete the rows a task inserted, newest first, each only while it holds the content the
    task inserted; the avatar files of deleted rows are removed. Report as writer.revert."""
    entries = await db.journal.entries(
        task_id,
        states={JournalState.PLANNED, JournalState.APPLIED, JournalState.REVERT_CONFLICT},
    )
    entries = [e for e in entries if e.inserted_row]
    entries.reverse()
    schema = db.schema

    def work(conn: sqlite3.Connection) -> list[str | None]:
        def body() -> list[str | None]:
            outcome: list[str | None] = []
            for entry in entries:
                content = _content(entry)
                reason = _holds(conn, schema, content)
                if reason is None:
                    conn.execute(
                        f"DELETE FROM {schema.qtable} WHERE {schema.q('id')} = ?",
                        (content[schema.column("id")],),
                    )
                elif entry.state is JournalState.PLANNED and reason.startswith("character no"):
                    reason = "never inserted"
                outcome.append(reason)
            return outcome

        out: list[str | None] = _in_transaction(conn, body)
        return out

    reasons = await db.write(work) if entries else []
    done = [e for e, r in zip(entries, reasons, strict=True) if r is None]
    never = [e for e, r in zip(entries, reasons, strict=True) if r == "never inserted"]
    lost = [
        (e, r)
        for e, r in zip(entries, reasons, strict=True)
        if r is not None and r != "never inserted"
    ]
    if done:
        await db.journal.mark([e.entry_id for e in done if e.entry_id], JournalState.REVERTED)
        files = [e.file_path for e in done if e.file_path]
        if files:
            await asyncio.to_thread(_remove_files, files)
    if never:
        await db.journal.mark([e.entry_id for e in never if e.entry_id], JournalState.CONFLICT)
    if lost:
        await db.journal.mark(
            [e.entry_id for e, _ in lost if e.entry_id], JournalState.REVERT_CONFLICT
        )
    return {
        "reverted": len(done),
        "skipped": [
            {"characterId": e.character_id, "column": "(row)", "reason": r}
            for e, r in lost
            if e.state is not JournalState.REVERT_CONFLICT
        ],
    }
