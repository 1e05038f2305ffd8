"""The proposals table of tasks.db: a review-mode task's results until they are settled."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Sequence
from typing import Any, Protocol

from tui_updater.core.models import now_ms
from tui_updater.core.proposals import (
    REVIEW_PENDING_KEY,
    ProposalRecord,
    ProposalStatus,
)
from tui_updater.store.rows import Rows

PROPOSALS = Rows("proposals", ProposalRecord)
_INSERT = PROPOSALS.insert.replace("INSERT INTO", "INSERT OR IGNORE INTO", 1)
_UPDATE = (
    "UPDATE proposals SET changes=:changes, status=:status, edited=:edited, error=:error, "
    "updated_at_ms=:updated_at_ms WHERE proposal_id=:proposal_id AND task_id=:task_id"
)
_PENDING = ProposalStatus.PENDING.value


class _Writes(Protocol):
    async def _write(self, ops: list[Any]) -> list[int]: ...

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]: ...


def _count_pending(conn: sqlite3.Connection, task_id: str) -> int:
    (count,) = conn.execute(
        "SELECT COUNT(*) FROM proposals WHERE task_id=? AND status=?", (task_id, _PENDING)
    ).fetchone()
    return int(count)


def _set_review_pending(conn: sqlite3.Connection, task_id: str) -> int:
    """Write the task result's count of waiting proposals (and say so in its message)."""
    count = _count_pending(conn, task_id)
    message = f"{count} proposal{'s' if count != 1 else ''} wait" if count else "review done"
    row = conn.execute("SELECT result FROM tasks WHERE task_id=?", (task_id,)).fetchone()
    result: dict[str, Any] = json.loads(row[0]) if row is not None and row[0] else {}
    result[REVIEW_PENDING_KEY] = count
    result["message"] = message
    conn.execute(
        "UPDATE tasks SET result=?, message=?, updated_at_ms=? WHERE task_id=?",
        (json.dumps(result, ensure_ascii=False), message, now_ms(), task_id),
    )
    return count


class SqliteProposals:
    """Proposal methods of SqliteTaskStore (its group commit and read-your-writes reads)."""

    async def add_proposals(self: _Writes, proposals: Sequence[ProposalRecord]) -> None:
        if not proposals:
            return
        stamp = now_ms()
        rows = []
        for proposal in proposals:
            row = PROPOSALS.row(proposal)
            row["created_at_ms"] = row["created_at_ms"] or stamp
            row["updated_at_ms"] = row["updated_at_ms"] or stamp
            rows.append(row)
        await self._write([(_INSERT, rows)])

    async def proposals(
        self: _Writes,
        task_id: str,
        *,
        statuses: Collection[ProposalStatus] | None = None,
        ids: Collection[int] | None = None,
    ) -> list[ProposalRecord]:
        sql = "SELECT * FROM proposals WHERE task_id=?"
        params: list[Any] = [task_id]
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            params += [ProposalStatus(s).value for s in statuses]
        if ids is not None:
            wanted = list(ids)
            if not wanted:
                return []
            sql += f" AND proposal_id IN ({','.join('?' * len(wanted))})"
            params += wanted
        rows = await self._fetch(sql + " ORDER BY proposal_id", params)
        return [PROPOSALS.record(row) for row in rows]

    async def update_proposals(
        self: _Writes, task_id: str, proposals: Sequence[ProposalRecord]
    ) -> int:
        rows = [PROPOSALS.row(p) for p in proposals]

        def update(conn: sqlite3.Connection) -> list[int]:
            if rows:
                conn.executemany(_UPDATE, rows)
            return [_set_review_pending(conn, task_id)]

        work: Callable[[sqlite3.Connection], list[int]] = update
        (count,) = await self._write([work])
        return count
