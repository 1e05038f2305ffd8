"""Pages of one task's journal in tasks.db: its changes filtered by field, state and text.

One call runs on the connection's thread: a COUNT, one LIMIT/OFFSET page, the names of that
page's characters (from the task's items) and the task's counts by state and field, so a task
with 100,000 changes costs a few scans of its own rows (no index beyond the journal's own: every
write and every state mark would pay for one), never a load of them all.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from tui_updater.core.changes import ChangeQuery, TaskChange, TaskChangePage

_LIKE_ESCAPE = "\\"


def _like(text: str) -> str:
    escaped = text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _shown(value: Any) -> Any:
    """A value as JSON can carry it: a blob becomes a note of its size."""
    return f"<{len(value)} bytes>" if isinstance(value, bytes) else value


def _where(task_id: str, query: ChangeQuery) -> tuple[str, list[Any]]:
    conditions = ["task_id = ?"]
    params: list[Any] = [task_id]
    if query.field is not None:
        conditions.append("column_name = ?")
        params.append(query.field)
    if query.state is not None:
        conditions.append("state = ?")
        params.append(query.state)
    if query.search:
        like = f"LIKE ? ESCAPE '{_LIKE_ESCAPE}'"
        conditions.append(
            f"(character_id {like} OR CAST(old_value AS TEXT) {like}"
            f" OR CAST(new_value AS TEXT) {like}"
            f" OR item_key IN (SELECT key FROM items WHERE task_id = ? AND label {like}))"
        )
        pattern = _like(query.search)
        params += [pattern, pattern, pattern, task_id, pattern]
    return " AND ".join(conditions), params


def changes_page(conn: sqlite3.Connection, task_id: str, query: ChangeQuery) -> TaskChangePage:
    """The page of ``task_id``'s changes that ``query`` asks for, in the order they were planned."""
    where, params = _where(task_id, query)
    total = int(conn.execute(f"SELECT COUNT(*) FROM journal WHERE {where}", params).fetchone()[0])
    rows = conn.execute(
        "SELECT entry_id, character_id, item_key, column_name, old_value, new_value, state,"
        f" created_at_ms, file_path FROM journal WHERE {where}"
        " ORDER BY entry_id LIMIT ? OFFSET ?",
        [*params, query.limit, query.offset],
    ).fetchall()
    keys = sorted({str(row[2]) for row in rows})
    names: dict[str, str] = {}
    if keys:
        names = dict(
            conn.execute(
                f"SELECT key, label FROM items WHERE task_id = ? AND key IN ({','.join('?' * len(keys))})",
                [task_id, *keys],
            ).fetchall()
        )
    # One scan of the task's entries gives both summaries: counts by state, the fields changed.
    by_state: dict[str, int] = {}
    fields: set[str] = set()
    for state, column, count in conn.execute(
        "SELECT state, column_name, COUNT(*) FROM journal WHERE task_id = ?"
        " GROUP BY state, column_name",
        [task_id],
    ):
        by_state[str(state)] = by_state.get(str(state), 0) + int(count)
        fields.add(str(column))
    return TaskChangePage(
        tuple(
            TaskChange(
                int(row[0]),
                str(row[1]),
                names.get(str(row[2]), ""),
                str(row[3]),
                _shown(row[4]),
                _shown(row[5]),
                str(row[6]),
                int(row[7] or 0),
                row[8],
            )
            for row in rows
        ),
        total,
        query.offset,
        by_state,
        tuple(sorted(fields)),
    )
