"""Read-only pages of the character table for the characters screen: search, filters, sort.

Every page is one hop to the connection's thread: a COUNT and a LIMIT/OFFSET select, so the
screen never loads the table (100,000 rows cost what one page costs, plus the count's scan).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from tui_updater.characters.db import SUMMARY_FIELDS, CharacterDb, is_empty
from tui_updater.characters.schema import CharacterSchema
from tui_updater.core.journal import JournalEntry
from tui_updater.core.service import (
    CharacterChangeEntry,
    CharacterDetail,
    CharacterPage,
    CharacterQuery,
    CharacterRow,
)
from tui_updater.errors import CharacterNotFound, InvalidParameters

THIN_DESCRIPTION_CHARS = 80  # a description shorter than this reads as a stub
_LIKE_ESCAPE = "\\"


def _like(text: str) -> str:
    escaped = text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


HISTORY_ENTRIES = 200


class ChangeLog(Protocol):
    """The journal reads the character view needs (the task store provides them)."""

    async def character_entries(
        self, character_id: str, *, limit: int = HISTORY_ENTRIES
    ) -> list[JournalEntry]: ...

    async def entry(self, entry_id: int) -> JournalEntry | None: ...


def _shown(value: Any) -> Any:
    return f"<{len(value)} bytes>" if isinstance(value, bytes) else value


class CharacterBrowser:
    """Pages of characters from the open CharacterDb (its schema names the real columns), one
    character with its history, and the revert of one change."""

    def __init__(
        self, db: CharacterDb, *, changes: ChangeLog, avatar_dir: Path | None = None
    ) -> None:
        self._db = db
        self._changes = changes
        self._avatar_dir = avatar_dir

    async def detail(self, character_id: str) -> CharacterDetail:
        schema = self._db.schema
        id_value = schema.id_value(character_id)
        sql = f"SELECT * FROM {schema.qtable} WHERE {schema.q('id')} = ?"

        def work(conn: sqlite3.Connection) -> dict[str, Any] | None:
            cursor = conn.execute(sql, (id_value,))
            row = cursor.fetchone()
            if row is None:
                return None
            return {d[0]: _shown(v) for d, v in zip(cursor.description, row, strict=True)}

        fields = None if id_value is None else await self._db.run(work)
        if fields is None:
            raise CharacterNotFound(f"no character with id {character_id!r}")
        name_col = schema.column("name") if schema.has("name") else schema.column("id")
        entries = await self._changes.character_entries(str(character_id))
        return CharacterDetail(
            str(character_id),
            str(fields.get(name_col) or ""),
            fields,
            self._avatar_file(
                fields.get(schema.column("avatar")) if schema.has("avatar") else None
            ),
            tuple(
                CharacterChangeEntry(
                    e.entry_id or 0,
                    e.task_id,
                    e.column,
                    _shown(e.old_value),
                    _shown(e.new_value),
                    e.state.value,
                    e.created_at_ms,
                )
                for e in entries
            ),
        )

    def _avatar_file(self, value: Any) -> str | None:
        """The stored avatar's file: the site keeps a public path, the file is in avatar_dir."""
        if not value or self._avatar_dir is None:
            return None
        candidate = self._avatar_dir / PurePosixPath(str(value)).name
        return str(candidate) if candidate.is_file() else None

    async def revert_change(self, entry_id: int) -> dict[str, Any]:
        entry = await self._changes.entry(entry_id)
        if entry is None:
            raise InvalidParameters("entryId", f"no journal entry {entry_id}")
        reason = await self._db.writer.revert_entry(entry)
        return {"entryId": entry_id, "reverted": reason is None, "reason": reason}

    def _where(self, schema: CharacterSchema, query: CharacterQuery) -> tuple[str, list[Any]]:
        conditions: list[str] = []
        params: list[Any] = []
        if schema.has("isDeleted"):
            conditions.append(f"IFNULL({schema.q('isDeleted')}, 0) = 0")
        if query.search:
            searched = [schema.q(f) for f in ("name", "description") if schema.has(f)]
            if searched:
                conditions.append(
                    "("
                    + " OR ".join(f"{col} LIKE ? ESCAPE '{_LIKE_ESCAPE}'" for col in searched)
                    + ")"
                )
                params += [_like(query.search)] * len(searched)
        for name in query.filters:
            conditions.append(self._filter_sql(schema, name))
        if query.language is not None:
            if schema.has("language"):
                conditions.append(f"{schema.q('language')} = ?")
                params.append(query.language)
            else:
                conditions.append("0")  # no language column: no character has that language
        return " AND ".join(conditions) or "1", params

    def _filter_sql(self, schema: CharacterSchema, name: str) -> str:
        empty = self._db._empty_sql
        if name == "missingAvatar":
            return empty("avatar") if schema.has("avatar") else "1"
        if name == "noMbti":
            return empty("mbtiType") if schema.has("mbtiType") else "1"
        if name == "thinDescription":
            if not schema.has("description"):
                return "1"
            col = schema.q("description")
            return f"({empty('description')} OR length(trim({col})) < {THIN_DESCRIPTION_CHARS})"
        raise ValueError(f"unknown character filter {name!r}")

    def _order(self, schema: CharacterSchema, sort: str) -> str:
        descending = sort.startswith("-")
        field = sort.lstrip("+-")
        key = schema.q(field) if schema.has(field) else schema.q("id")
        direction = "DESC" if descending else "ASC"
        # NULLs last either way; the id breaks ties so pages never overlap or skip rows
        return f"{key} IS NULL, {key} {direction}, {schema.q('id')} {direction}"

    async def page(self, query: CharacterQuery) -> CharacterPage:
        schema = self._db.schema
        where, params = self._where(schema, query)
        shown = ("id", "name", "language", "mbtiType", "avatarStatus", "updatedAt")
        checked = [f for f in SUMMARY_FIELDS if schema.has(f)]
        logical = list(dict.fromkeys([*shown, *checked]))
        columns = [schema.q(f) if schema.has(f) else "NULL" for f in logical]
        select = (
            f"SELECT {', '.join(columns)} FROM {schema.qtable} WHERE {where} "
            f"ORDER BY {self._order(schema, query.sort)} LIMIT ? OFFSET ?"
        )
        count = f"SELECT COUNT(*) FROM {schema.qtable} WHERE {where}"

        def work(conn: sqlite3.Connection) -> tuple[int, list[Any]]:
            total = int(conn.execute(count, params).fetchone()[0])
            rows = conn.execute(select, [*params, query.limit, query.offset]).fetchall()
            return total, rows

        total, rows = await self._db.run(work)
        return CharacterPage(
            tuple(self._row(dict(zip(logical, row, strict=True)), checked) for row in rows),
            total,
            query.offset,
        )

    @staticmethod
    def _row(values: dict[str, Any], checked: list[str]) -> CharacterRow:
        def text(name: str) -> str | None:
            value = values.get(name)
            return None if value is None or not str(value).strip() else str(value)

        return CharacterRow(
            str(values["id"]),
            text("name") or "",
            text("language"),
            None if (mbti := text("mbtiType")) is None else mbti.strip().upper(),
            text("avatarStatus"),
            not is_empty("avatar", values.get("avatar")),
            tuple(f for f in checked if is_empty(f, values.get(f))),
            text("updatedAt"),
        )

    async def ids(self, query: CharacterQuery) -> list[str]:
        schema = self._db.schema
        where, params = self._where(schema, query)
        sql = (
            f"SELECT {schema.q('id')} FROM {schema.qtable} WHERE {where} "
            f"ORDER BY {self._order(schema, query.sort)}"
        )
        rows = await self._db.run(lambda conn: conn.execute(sql, params).fetchall())
        return [str(row[0]) for row in rows]
