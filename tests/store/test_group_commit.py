"""Group commit: one writer's bad write fails only that writer; queued writes land in order."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from tui_updater.core.journal import JournalEntry
from tui_updater.core.models import LogRecord, Priority, TaskRecord, TaskStatus, now_ms
from tui_updater.store.sqlite import SqliteTaskStore


def _task(task_id: str) -> TaskRecord:
    stamp = now_ms()
    return TaskRecord(
        task_id=task_id,
        type="SAMPLE",
        priority=Priority.NORMAL,
        status=TaskStatus.PENDING,
        data={},
        created_at_ms=stamp,
        updated_at_ms=stamp,
    )


@pytest.fixture
async def store(tmp_path: Path):
    store = SqliteTaskStore(tmp_path / "tasks.db", synchronous="NORMAL")
    await store.open()
    yield store
    await store.close()


async def test_one_bad_write_does_not_fail_the_other_writers_of_its_group_commit(store):
    # Built without validation so the unbindable value reaches SQLite, as a store bug would.
    bad = JournalEntry.model_construct(
        task_id="t", item_key="k", character_id="c", column="col", old_value=[1, 2], new_value="x"
    )
    outcomes: list[object] = await asyncio.gather(
        store.save(tasks=[_task("task_good")]), store.plan([bad]), return_exceptions=True
    )
    good, poisoned = outcomes
    assert isinstance(poisoned, Exception)  # the bad writer fails…
    assert good is None, f"…but the good one failed too: {good!r}"
    assert await store.get_task("task_good") is not None


async def test_delete_after_a_queued_save_leaves_the_task_deleted(store):
    saving = asyncio.ensure_future(store.save(tasks=[_task("task_x")]))  # queued, not committed
    await asyncio.sleep(0)
    await store.delete_task("task_x")
    await saving
    assert await store.get_task("task_x") is None


async def test_a_bad_statement_among_plain_writers_fails_alone_and_each_good_write_lands_once(
    store,
):
    # Plain writers commit together without savepoints; a failure replays them one by one.
    bad = _task("task_bad").evolve(message=[1, 2])  # unvalidated: SQLite cannot bind a list
    lines = [
        LogRecord(timestamp_ms=now_ms(), level="INFO", message=f"line {n}", task_id="task_a")
        for n in range(3)
    ]
    outcomes: list[object] = await asyncio.gather(
        store.save(tasks=[_task("task_a")], logs=lines),
        store.save(tasks=[bad]),
        store.save(tasks=[_task("task_b")]),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], sqlite3.Error)
    assert outcomes[0] is None and outcomes[2] is None, outcomes
    assert await store.get_task("task_a") is not None
    assert await store.get_task("task_b") is not None
    assert await store.get_task("task_bad") is None
    assert sorted(log.message for log in await store.task_logs("task_a")) == [
        "line 0",
        "line 1",
        "line 2",
    ]


async def test_plain_writers_of_one_group_commit_all_land(store):
    await asyncio.gather(*(store.save(tasks=[_task(f"task_{n}")]) for n in range(20)))
    assert len(await store.list_tasks()) == 20
