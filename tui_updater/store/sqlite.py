"""SqliteTaskStore: tasks.db on aiosqlite, WAL, with group commit (one transaction per flush).

Every write call queues its statements; one flush runs all queued statements in a single
transaction on the connection's thread (one await), so concurrent tasks share commits.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import sqlite3
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from tui_updater.core.changes import ChangeQuery, TaskChangePage
from tui_updater.core.journal import JournalEntry, JournalState
from tui_updater.core.models import (
    ItemRecord,
    ItemStatus,
    LogRecord,
    TaskRecord,
    TaskStatus,
    now_ms,
)
from tui_updater.core.service import SORT_ATTRIBUTES
from tui_updater.errors import ConfigError
from tui_updater.store.changes import changes_page
from tui_updater.store.claims import RELEASE_ITEM, RELEASE_TASK, SqliteClaims
from tui_updater.store.proposals import SqliteProposals
from tui_updater.store.rows import Rows
from tui_updater.store.schedules import ScheduleRows
from tui_updater.store.schema import migrate

T = TypeVar("T")
logger = logging.getLogger("tui_updater")
# (sql, rows for executemany), or a function run inside the transaction returning row ids
Op = (
    tuple[str, Sequence[Sequence[Any] | Mapping[str, Any]]]
    | tuple[str, Iterator[Sequence[Any] | Mapping[str, Any]]]  # rows made as executemany takes them
    | Callable[[sqlite3.Connection], list[int]]
)


TASKS = Rows("tasks", TaskRecord)
ITEMS = Rows("items", ItemRecord)
LOGS = Rows("logs", LogRecord)
JOURNAL = Rows("journal", JournalEntry, renames={"column": "column_name"})


def _stamp(task: TaskRecord) -> TaskRecord:
    """A task whose record never had its update time set gets the time it is written."""
    return task if task.updated_at_ms else task.evolve(updated_at_ms=now_ms())


# What an item's progress changes; its identity and label are written once, on insert.
_UPDATE_ITEM = ITEMS.update_placed(
    ("task_id", "seq"),
    ("status", "attempts", "error", "result", "updated_at_ms", "retryable", "first_seen"),
)
_ITEM_STAMP = ITEMS.placed_columns.index("updated_at_ms")
_ENTRY_ID = JOURNAL.placed_columns.index("entry_id")
_ENTRY_STATE = JOURNAL.placed_columns.index("state")
_ENTRY_CREATED = JOURNAL.placed_columns.index("created_at_ms")


def _item_values(item: ItemRecord) -> list[Any]:
    """An item's ``placed`` values; one whose update time was never set gets the time now."""
    values = ITEMS.placed(item)
    if not values[_ITEM_STAMP]:
        values[_ITEM_STAMP] = now_ms()
    return values


_FINISHED_ITEMS = frozenset(s.value for s in ItemStatus if s.finished)


def _replayable(ops: list[Op]) -> bool:
    """Statements that can run again after a rollback: rows in a list, not an iterator already
    consumed, and no function (which may keep what it did in Python)."""
    return all(not callable(op) and isinstance(op[1], Sequence) for op in ops)


def _runs(ids: Sequence[int]) -> list[tuple[int, int]]:
    """The ids as (first, last) runs of consecutive values."""
    runs: list[tuple[int, int]] = []
    for value in sorted(set(ids)):
        if runs and runs[-1][1] == value - 1:
            runs[-1] = (runs[-1][0], value)
        else:
            runs.append((value, value))
    return runs


def _log_failure(future: asyncio.Future[list[int]]) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.warning("a queued journal update was not written: %s", future.exception())


class SqliteTaskStore(SqliteClaims, SqliteProposals, ScheduleRows):
    """The engine's durable state in one SQLite file."""

    def __init__(self, path: Path, *, synchronous: str = "FULL"):
        self.path = path
        self._synchronous = synchronous
        self._conn: aiosqlite.Connection | None = None
        self._queued: list[tuple[list[Op], asyncio.Future[list[int]]]] = []
        self._flusher: asyncio.Task[None] | None = None

    # --- life cycle ----------------------------------------------------------------------------

    async def open(self) -> None:
        """Open and migrate tasks.db; on any failure close what was opened and say which file.

        An unclosed aiosqlite connection keeps its (non-daemon) thread alive, so a failed
        start-up would print its error and then never exit.
        """
        pending: aiosqlite.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            pending = aiosqlite.connect(self.path, isolation_level=None)
            self._conn = await pending
            await self._run(self._prepare)
        except BaseException as exc:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await self._conn.close()
                self._conn = None
            elif pending is not None and pending._thread.is_alive():
                # A failed connect has queued the thread's stop but not waited for it: wait
                # while the loop still runs, or the thread reports into a closed loop.
                await asyncio.to_thread(pending._thread.join)
            if isinstance(exc, (sqlite3.Error, OSError)):
                raise ConfigError(
                    f"task store {self.path} cannot be opened: {exc} (move the file aside to "
                    "start with an empty task history, or choose another --state-dir)"
                ) from exc
            raise

    def _prepare(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA busy_timeout=10000")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA wal_autocheckpoint=8000")  # fewer, larger checkpoints under bulk load
        migrate(conn)
        conn.row_factory = sqlite3.Row  # rows are read by column name, never by position
        # No task runs before the engine starts: a claim of a task not RUNNING is left over from
        # a run that ended without saving it (RUNNING ones are released when they are resumed).
        conn.execute(
            "DELETE FROM claims WHERE task_id NOT IN "
            "(SELECT task_id FROM tasks WHERE status='RUNNING')"
        )

    async def close(self) -> None:
        if self._conn is None:
            return
        while self._flusher is not None and not self._flusher.done():  # queued writes land first
            await asyncio.shield(self._flusher)
        await self._conn.close()
        self._conn = None

    # --- plumbing -------------------------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn`` on the connection's own thread: one await for any number of statements."""
        conn = self._conn
        if conn is None:
            raise RuntimeError("task store is not open")
        # aiosqlite's queue-a-function primitive; pinned to aiosqlite <0.23 in pyproject.
        return await conn._execute(fn, conn._conn)  # type: ignore[no-any-return]

    def _enqueue(self, ops: list[Op]) -> asyncio.Future[list[int]]:
        """Queue statements for the next group commit; the future resolves when it commits."""
        future: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self._queued.append((ops, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_loop())
        return future

    async def _write(self, ops: list[Op]) -> list[int]:
        """Queue statements for the next group commit and wait for it; return row ids."""
        if not ops:
            return []
        # Not shielded: the statements are queued whatever becomes of this future, and the flush
        # loop skips a future its cancelled writer left done; a shield would only add a second
        # future and two callbacks per write.
        return await self._enqueue(ops)

    async def _flush_loop(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                outcomes = await self._run(
                    functools.partial(self._apply, batches=[ops for ops, _ in batch])
                )
            except BaseException as exc:  # the transaction itself failed: every writer hears it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(
                            exc if isinstance(exc, Exception) else RuntimeError(str(exc))
                        )
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, Exception):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)

    @staticmethod
    def _run_ops(conn: sqlite3.Connection, ops: list[Op]) -> list[int]:
        ids: list[int] = []
        for op in ops:
            if callable(op):
                ids.extend(op(conn))
                continue
            sql, rows = op
            if isinstance(rows, Sequence) and len(rows) == 1:
                cursor = conn.execute(sql, rows[0])
                ids.append(cursor.lastrowid or 0)
            else:
                conn.executemany(sql, rows)
        return ids

    @classmethod
    def _apply(
        cls, conn: sqlite3.Connection, batches: list[list[Op]]
    ) -> list[list[int] | Exception]:
        """One transaction for every writer; each writer in a savepoint of its own, so one bad
        write fails only its writer and the others still commit."""
        if len(batches) > 1 and all(_replayable(ops) for ops in batches):
            # Optimistically without the savepoints (two statements per writer, most of a small
            # writer's cost): should a writer fail, all is rolled back and replayed below.
            conn.execute("BEGIN IMMEDIATE")
            try:
                done = [cls._run_ops(conn, ops) for ops in batches]
            except sqlite3.Error:
                conn.execute("ROLLBACK")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                return list(done)
        results: list[list[int] | Exception] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            if len(batches) == 1:
                results.append(cls._run_ops(conn, batches[0]))
            else:
                for ops in batches:
                    conn.execute("SAVEPOINT writer")
                    try:
                        results.append(cls._run_ops(conn, ops))
                    except sqlite3.Error as exc:
                        conn.execute("ROLLBACK TO writer")
                        results.append(exc)
                    conn.execute("RELEASE writer")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return results

    async def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """Read after every write queued so far has committed (read-your-writes)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)
        return await self._run(lambda conn: conn.execute(sql, params).fetchall())

    # --- tasks and items ------------------------------------------------------------------------

    async def save(
        self,
        *,
        tasks: Sequence[TaskRecord] = (),
        items: Sequence[ItemRecord] = (),
        logs: Sequence[LogRecord] = (),
        new_items: Sequence[ItemRecord] = (),
    ) -> None:
        ops: list[Op] = []
        if tasks:
            ops.append((TASKS.upsert_placed, [TASKS.placed(_stamp(t)) for t in tasks]))
        if new_items:
            # A first write inserts every item of the task (100,000 in a bulk run): their rows
            # are made one by one as the insert takes them, never all held at once; a few are
            # listed (a group commit replays only listed rows, see ``_apply``).
            rows = (_item_values(i) for i in new_items)
            if len(new_items) <= 64:
                ops.append((ITEMS.upsert_placed, list(rows)))
            else:
                ops.append((ITEMS.upsert_placed, rows))
        if items:
            ops.append((_UPDATE_ITEM, [_item_values(i) for i in items]))
        if logs:
            ops.append((LOGS.insert_placed, [LOGS.placed(log) for log in logs]))
        # A claim ends with its item, and every claim of a task that is not running (which
        # covers its items: no statement of their own then).
        idle = {t.task_id for t in tasks if t.status is not TaskStatus.RUNNING}
        ended = [
            (i.task_id, i.key)
            for i in (*items, *new_items)
            if i.status in _FINISHED_ITEMS and i.task_id not in idle
        ]
        if ended:
            ops.append((RELEASE_ITEM, ended))
        if idle:
            ops.append((RELEASE_TASK, [(task_id,) for task_id in idle]))
        await self._write(ops)

    async def get_task(self, task_id: str) -> TaskRecord | None:
        rows = await self._fetch("SELECT * FROM tasks WHERE task_id=?", (task_id,))
        return TASKS.record(rows[0]) if rows else None

    @staticmethod
    def _task_where(
        status: str | Sequence[str] | None,
        type_name: str | Sequence[str] | None,
        database: str | None = None,
    ) -> tuple[str, list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if database:
            where.append("database = ?")
            params.append(database)
        for column, value in (("status", status), ("type", type_name)):
            values = [value] if isinstance(value, str) else list(value or ())
            values = [v.upper() if column == "status" else v for v in values if v]
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")
                params += values
        return (" WHERE " + " AND ".join(where)) if where else "", params

    async def list_tasks(
        self,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        sort: tuple[str, bool] | None = None,
        database: str | None = None,
    ) -> list[TaskRecord]:
        where, params = self._task_where(status, type_name, database)
        # Ties fall back to age in the same direction: ascending is the exact reverse order.
        column, descending = (
            ("created_at_ms", True) if sort is None else (SORT_ATTRIBUTES[sort[0]], sort[1])
        )
        way = "DESC" if descending else "ASC"
        sql = (
            f"SELECT * FROM tasks{where} "
            f"ORDER BY {column} {way}, created_at_ms {way}, task_id {way} LIMIT ? OFFSET ?"
        )
        params += [-1 if limit is None else limit, offset]
        return [TASKS.record(r) for r in await self._fetch(sql, params)]

    async def count_tasks(
        self,
        *,
        status: str | Sequence[str] | None = None,
        type_name: str | Sequence[str] | None = None,
        database: str | None = None,
    ) -> int:
        where, params = self._task_where(status, type_name, database)
        rows = await self._fetch(f"SELECT COUNT(*) AS count FROM tasks{where}", params)
        return int(rows[0]["count"])

    async def unfinished_tasks(self) -> list[TaskRecord]:
        rows = await self._fetch(
            "SELECT * FROM tasks WHERE status IN ('PENDING','RUNNING') ORDER BY created_at_ms, task_id"
        )
        return [TASKS.record(r) for r in rows]

    async def count_by_status(self) -> dict[str, int]:
        rows = await self._fetch("SELECT status, COUNT(*) AS count FROM tasks GROUP BY status")
        return {row["status"]: row["count"] for row in rows}

    async def list_items(
        self,
        task_id: str,
        *,
        statuses: Sequence[ItemStatus] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ItemRecord]:
        sql = "SELECT * FROM items WHERE task_id=?"
        params: list[Any] = [task_id]
        if statuses:
            sql += f" AND status IN ({','.join('?' * len(statuses))})"
            params += [s.value for s in statuses]
        sql += " ORDER BY seq LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        return [ITEMS.record(r) for r in await self._fetch(sql, params)]

    async def reset_items(
        self, task_id: str, from_statuses: Sequence[ItemStatus], *, only_retryable: bool = False
    ) -> int:
        sql = (
            f"UPDATE items SET status='PENDING', error=NULL, retryable=0, updated_at_ms=? "
            f"WHERE task_id=? AND status IN ({','.join('?' * len(from_statuses))})"
        )
        if only_retryable:
            sql += " AND retryable=1"
        params = [now_ms(), task_id, *[s.value for s in from_statuses]]
        # Through the write queue, so it lands after every write queued before it.
        (count,) = await self._write([lambda conn: [conn.execute(sql, params).rowcount]])
        return count

    async def task_logs(self, task_id: str, *, limit: int = 500) -> list[LogRecord]:
        rows = await self._fetch(
            "SELECT * FROM logs WHERE task_id=? ORDER BY id DESC LIMIT ?", (task_id, limit)
        )
        return [LOGS.record(row) for row in reversed(rows)]

    async def logs(
        self,
        *,
        since_ms: int | None = None,
        levels: Sequence[str] = (),
        task_id: str | None = None,
        limit: int = 500,
    ) -> list[LogRecord]:
        where: list[str] = []
        params: list[Any] = []
        if since_ms is not None:
            where.append("timestamp_ms >= ?")
            params.append(since_ms)
        if levels:
            where.append(f"level IN ({','.join('?' * len(levels))})")
            params += list(levels)
        if task_id is not None:
            where.append("task_id = ?")
            params.append(task_id)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        rows = await self._fetch(
            f"SELECT * FROM logs{clause} ORDER BY id DESC LIMIT ?", [*params, limit]
        )
        return [LOGS.record(row) for row in reversed(rows)]

    async def delete_task(self, task_id: str) -> bool:
        def delete(conn: sqlite3.Connection) -> list[int]:
            deleted = conn.execute("DELETE FROM tasks WHERE task_id=?", (task_id,)).rowcount
            for table in ("items", "logs", "journal", "claims", "proposals"):
                conn.execute(f"DELETE FROM {table} WHERE task_id=?", (task_id,))
            return [deleted]

        (deleted,) = await self._write([delete])
        return deleted > 0

    async def prune(self, finished_before_ms: int) -> int:
        def prune(conn: sqlite3.Connection) -> list[int]:
            ids = [
                row["task_id"]
                for row in conn.execute(
                    "SELECT task_id FROM tasks WHERE status IN ('COMPLETED','FAILED','CANCELLED') "
                    "AND COALESCE(finished_at_ms, updated_at_ms) < ? "
                    "AND task_id NOT IN (SELECT task_id FROM proposals WHERE status='PENDING')",
                    (finished_before_ms,),
                )
            ]
            for table in ("tasks", "items", "logs", "journal", "claims", "proposals"):
                conn.executemany(f"DELETE FROM {table} WHERE task_id=?", [(i,) for i in ids])
            return [len(ids)]

        (pruned,) = await self._write([prune])
        return pruned

    # --- engine state ---------------------------------------------------------------------------

    async def get_state(self, name: str) -> str | None:
        rows = await self._fetch("SELECT value FROM engine_state WHERE name=?", (name,))
        return rows[0]["value"] if rows else None

    async def set_state(self, name: str, value: str) -> None:
        await self._write(
            [("INSERT OR REPLACE INTO engine_state (name, value) VALUES (?, ?)", [(name, value)])]
        )

    # --- journal --------------------------------------------------------------------------------

    async def plan(self, entries: Sequence[JournalEntry]) -> list[int]:
        created = now_ms()
        planned = JournalState.PLANNED.value

        def insert(conn: sqlite3.Connection) -> list[int]:
            # Ids are given explicitly (inside the write transaction) so one executemany does it.
            first = conn.execute(
                "SELECT COALESCE(MAX(entry_id), 0) + 1 AS next_id FROM journal"
            ).fetchone()["next_id"]
            rows = [JOURNAL.placed(entry) for entry in entries]
            for n, row in enumerate(rows):
                row[_ENTRY_ID] = first + n
                row[_ENTRY_STATE] = planned
                row[_ENTRY_CREATED] = created
            conn.executemany(JOURNAL.insert_placed, rows)
            return list(range(first, first + len(entries)))

        return await self._write([insert]) if entries else []

    async def mark(self, entry_ids: Sequence[int], state: JournalState) -> None:
        """Queued for the next group commit, not awaited: an unrecorded mark is recovered from the
        character row itself (a PLANNED entry is settled by comparing values), so it needs no
        transaction of its own."""
        if entry_ids:
            # A batch's entries were planned with consecutive ids: one statement per run of them.
            runs = [(state.value, first, last) for first, last in _runs(entry_ids)]
            future = self._enqueue(
                [("UPDATE journal SET state=? WHERE entry_id BETWEEN ? AND ?", runs)]
            )
            future.add_done_callback(_log_failure)

    async def character_entries(self, character_id: str, *, limit: int = 200) -> list[JournalEntry]:
        """The newest ``limit`` entries that touched one character, newest first."""
        sql = "SELECT * FROM journal WHERE character_id=? ORDER BY entry_id DESC LIMIT ?"
        return [JOURNAL.record(row) for row in await self._fetch(sql, [character_id, limit])]

    async def task_changes(self, task_id: str, query: ChangeQuery) -> TaskChangePage:
        while self._flusher is not None and not self._flusher.done():  # read-your-writes
            await asyncio.shield(self._flusher)
        return await self._run(lambda conn: changes_page(conn, task_id, query))

    async def entry(self, entry_id: int) -> JournalEntry | None:
        rows = await self._fetch("SELECT * FROM journal WHERE entry_id=?", [entry_id])
        return JOURNAL.record(rows[0]) if rows else None

    async def entries(
        self,
        task_id: str,
        *,
        states: Collection[JournalState] | None = None,
        item_keys: Collection[str] | None = None,
    ) -> list[JournalEntry]:
        sql = "SELECT * FROM journal WHERE task_id=?"
        params: list[Any] = [task_id]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params += [JournalState(s).value for s in states]
        if item_keys is not None:
            keys = list(item_keys)
            if not keys:
                return []
            sql += f" AND item_key IN ({','.join('?' * len(keys))})"
            params += keys
        sql += " ORDER BY entry_id"
        return [JOURNAL.record(row) for row in await self._fetch(sql, params)]
