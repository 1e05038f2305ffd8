"""The claims table of tasks.db: which task will write which cells of a character.

A task claims the cells its unfinished items will write before any is worked, so two tasks never
write the same cell of the same character at once; a claim ends with its item or its task.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any, Protocol

from tui_updater.core.models import now_ms
from tui_updater.core.store import ClaimRequest

# One claim row per character and item holds all the columns it claims, apart by this (an
# older release kept a row per column: such a row reads as a claim of its one column). A cell
# has one owner because claiming checks every held cell first, inside the write transaction.
_CLAIMED_APART = "\x1f"
RELEASE_ITEM = "DELETE FROM claims WHERE task_id=? AND item_key=?"
RELEASE_TASK = "DELETE FROM claims WHERE task_id=?"


class _Writes(Protocol):
    async def _write(self, ops: list[Any]) -> list[int]: ...


class SqliteClaims:
    """Claims of SqliteTaskStore (a mixin: writes go through the store's group commit)."""

    async def claim(
        self: _Writes, task_id: str, scope: str, requests: Sequence[ClaimRequest]
    ) -> dict[str, str]:
        refused: dict[str, str] = {}
        stamp = now_ms()

        def take(conn: sqlite3.Connection) -> list[int]:
            wanted = [request for request in requests if request.columns]
            # Every cell of these characters another task holds, in one query, then matched
            # here: not a query per character. CROSS JOIN keeps the ids the outer loop (an index
            # lookup each); a plain JOIN lets SQLite scan every claim of the scope instead.
            ids = json.dumps(sorted({request.character_id for request in wanted}))
            held: dict[tuple[str, str], str] = {}
            for character_id, columns, holder in conn.execute(
                "SELECT claims.character_id, claims.column_name, claims.task_id "
                "FROM json_each(?) AS wanted CROSS JOIN claims "
                "ON claims.scope=? AND claims.character_id=wanted.value "
                "WHERE claims.task_id<>?",
                (ids, scope, task_id),
            ):
                for column in columns.split(_CLAIMED_APART):
                    held[(character_id, column)] = holder
            granted: list[tuple[str, str, str, str, str, int]] = []
            for request in wanted:
                holder = (
                    next(
                        (
                            held[cell]
                            for cell in ((request.character_id, c) for c in request.columns)
                            if cell in held
                        ),
                        None,
                    )
                    if held
                    else None
                )
                if holder is not None:
                    refused[request.item_key] = str(holder)
                    continue
                columns = _CLAIMED_APART.join(request.columns)
                granted.append(
                    (scope, request.character_id, columns, task_id, request.item_key, stamp)
                )
            conn.executemany("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?)", granted)
            return []

        if requests:
            await self._write([take])
        return refused

    async def release_claims(
        self: _Writes, task_id: str, item_keys: Sequence[str] | None = None
    ) -> None:
        if item_keys is None:
            await self._write([(RELEASE_TASK, [(task_id,)])])
        elif item_keys:
            await self._write([(RELEASE_ITEM, [(task_id, key) for key in item_keys])])
