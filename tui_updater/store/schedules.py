"""tasks.db's schedules table and the per-item usage history budgets estimate from; mixed into
SqliteTaskStore, so they share its connection and group commit."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from tui_updater.core.models import TokenUsage
from tui_updater.core.schedules import ScheduleRecord
from tui_updater.store.rows import Rows

SCHEDULES = Rows("schedules", ScheduleRecord)
# Past tasks a type's usage per item is averaged over (the newest that spent anything).
USAGE_HISTORY_TASKS = 50


class ScheduleRows:
    """Schedules as rows (SqliteTaskStore's ``_fetch``/``_write`` underneath)."""

    _fetch: Callable[..., Any]
    _write: Callable[..., Any]

    async def save_schedule(self, schedule: ScheduleRecord) -> None:
        await self._write([(SCHEDULES.upsert, [SCHEDULES.row(schedule)])])

    async def get_schedule(self, schedule_id: str) -> ScheduleRecord | None:
        rows = await self._fetch("SELECT * FROM schedules WHERE schedule_id=?", (schedule_id,))
        return SCHEDULES.record(rows[0]) if rows else None

    async def list_schedules(self) -> list[ScheduleRecord]:
        rows = await self._fetch("SELECT * FROM schedules ORDER BY created_at_ms, schedule_id")
        return [SCHEDULES.record(row) for row in rows]

    async def delete_schedule(self, schedule_id: str) -> bool:
        def delete(conn: sqlite3.Connection) -> list[int]:
            return [
                conn.execute("DELETE FROM schedules WHERE schedule_id=?", (schedule_id,)).rowcount
            ]

        (deleted,) = await self._write([delete])
        return bool(deleted > 0)

    async def usage_per_item(self, type_name: str) -> TokenUsage | None:
        rows = await self._fetch(
            "SELECT SUM(prompt_tokens) AS p, SUM(completion_tokens) AS c, SUM(requests) AS r, "
            "SUM(done + failed) AS n FROM (SELECT * FROM tasks WHERE type=? AND requests > 0 "
            "AND done + failed > 0 AND status IN ('COMPLETED','FAILED','CANCELLED') "
            "ORDER BY created_at_ms DESC LIMIT ?)",
            (type_name, USAGE_HISTORY_TASKS),
        )
        row = rows[0] if rows else None
        if row is None or not row["n"]:
            return None
        items = int(row["n"])
        return TokenUsage(
            prompt_tokens=-(-int(row["p"]) // items),
            completion_tokens=-(-int(row["c"]) // items),
            requests=max(1, -(-int(row["r"]) // items)),
        )
