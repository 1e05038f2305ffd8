"""SqliteTaskStore: round trips, group commit, journal value types, schema version."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tui_updater.core.journal import JournalEntry, JournalState
from tui_updater.core.models import (
    ItemRecord,
    ItemStatus,
    LogRecord,
    Priority,
    TaskRecord,
    TaskStatus,
    now_ms,
)
from tui_updater.errors import ConfigError
from tui_updater.store.schema import SCHEMA_VERSION
from tui_updater.store.sqlite import SqliteTaskStore


def make_task(task_id: str, **changes: object) -> TaskRecord:
    base = TaskRecord(
        task_id, "SAMPLE", Priority.HIGH, TaskStatus.PENDING, {"a": [1, "二"]}, now_ms()
    )
    return base.evolve(**changes)


async def test_task_and_items_round_trip(tmp_path: Path):
    store = SqliteTaskStore(tmp_path / "tasks.db")
    await store.open()
    task = make_task("task_1", result={"distribution": [{"type": "INTJ", "count": 2}]}, error=None)
    items = [ItemRecord("task_1", i, f"id{i}", f"名字{i}") for i in range(3)]
    await store.save(tasks=[task], new_items=items)
    assert await store.get_task("task_1") == task.evolve(
        updated_at_ms=(await store.get_task("task_1")).updated_at_ms
    )  # type: ignore[union-attr]
    changed = items[1].evolve(status=ItemStatus.OBTAINED, attempts=2, result={"x": 1})
    await store.save(items=[changed])
    loaded = await store.list_items("task_1")
    assert (
        loaded[1].status is ItemStatus.OBTAINED
        and loaded[1].result == {"x": 1}
        and loaded[1].attempts == 2
    )
    assert [i.key for i in await store.list_items("task_1", statuses=[ItemStatus.PENDING])] == [
        "id0",
        "id2",
    ]
    await store.close()


async def test_concurrent_writes_share_transactions(tmp_path: Path):
    store = SqliteTaskStore(tmp_path / "tasks.db")
    await store.open()
    commits = 0
    real_apply = store._apply

    def counting(conn: sqlite3.Connection, batches):  # type: ignore[no-untyped-def]
        nonlocal commits
        commits += 1
        return real_apply(conn, batches)

    store._apply = counting  # type: ignore[method-assign]
    await asyncio.gather(*(store.save(tasks=[make_task(f"task_{i}")]) for i in range(200)))
    assert len(await store.list_tasks()) == 200
    assert commits < 50  # grouped, not one transaction per call
    await store.close()


async def test_journal_keeps_value_types_and_states(tmp_path: Path):
    store = SqliteTaskStore(tmp_path / "tasks.db")
    await store.open()
    entries = [
        JournalEntry("t", "c1", "c1", "updated_at", 1700000000000, 1800000000000),
        JournalEntry("t", "c1", "c1", "mbtiType", None, "INTJ"),
        JournalEntry("t", "c2", "c2", "score", 1.5, "1.5"),
    ]
    ids = await store.plan(entries)
    assert len(ids) == 3 and ids == sorted(ids)
    await store.mark(ids[:2], JournalState.APPLIED)
    loaded = await store.entries("t")
    assert [(e.old_value, e.new_value) for e in loaded] == [
        (1700000000000, 1800000000000),
        (None, "INTJ"),
        (1.5, "1.5"),
    ]
    assert isinstance(loaded[0].old_value, int) and isinstance(loaded[2].new_value, str)
    assert [e.state for e in loaded] == [
        JournalState.APPLIED,
        JournalState.APPLIED,
        JournalState.PLANNED,
    ]
    assert [e.column for e in await store.entries("t", states=[JournalState.PLANNED])] == ["score"]
    assert [e.item_key for e in await store.entries("t", item_keys=["c2"])] == ["c2"]
    await store.close()


async def test_logs_newest_n_in_order(tmp_path: Path):
    store = SqliteTaskStore(tmp_path / "tasks.db")
    await store.open()
    await store.save(logs=[LogRecord(i, "INFO", f"line {i}", "t") for i in range(10)])
    assert [log.message for log in await store.task_logs("t", limit=3)] == [
        "line 7",
        "line 8",
        "line 9",
    ]
    await store.close()


async def test_newer_schema_is_refused(tmp_path: Path):
    path = tmp_path / "tasks.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    store = SqliteTaskStore(path)
    with pytest.raises(ConfigError, match="newer"):
        await store.open()
    await store.close()


async def test_marks_set_exactly_the_given_ids_in_and_between_runs(tmp_path: Path):
    store = SqliteTaskStore(tmp_path / "tasks.db")
    await store.open()
    try:
        ids = await store.plan(
            [JournalEntry("t", f"c{n}", f"c{n}", "mbtiType", None, "INTJ") for n in range(8)]
        )
        # Two runs and a single id, given out of order: the ids between them stay planned.
        await store.mark([ids[6], ids[1], ids[0], ids[2], ids[4]], JournalState.APPLIED)
        await store.mark([ids[5]], JournalState.CONFLICT)
        states = [e.state for e in await store.entries("t")]
        applied, planned, conflict = (
            JournalState.APPLIED,
            JournalState.PLANNED,
            JournalState.CONFLICT,
        )
        assert states == [applied, applied, applied, planned, applied, conflict, applied, planned]
    finally:
        await store.close()
