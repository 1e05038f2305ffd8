"""A run whose outcome cannot be stored still ends: FAILED with the reason, waiters released.

The store underneath is the real SqliteTaskStore; the wrapper only makes chosen writes raise the
way a full disk does, or feeds it a record that cannot be serialised.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from tests.engine.sample_types import Recorder, SampleParams, SampleTask
from tui_updater.config import EngineSettings
from tui_updater.core.events import EventType
from tui_updater.core.models import ItemRecord, ItemStatus, TaskStatus
from tui_updater.engine.clock import FakeClock
from tui_updater.engine.engine import Engine
from tui_updater.store.sqlite import SqliteTaskStore
from tui_updater.tasks.registry import TaskTypeRegistry

DISK_FULL = "database or disk is full"


class FailingStore:
    """The real store, except that saves matching ``refuse`` raise as a full disk does."""

    def __init__(self, inner: SqliteTaskStore) -> None:
        self._inner = inner
        self.refuse_statuses: set[TaskStatus] = set()
        self.refuse_reset = False
        self.refused = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def heal(self) -> None:
        """Space is free again."""
        self.refuse_statuses = set()
        self.refuse_reset = False

    async def save(self, **kwargs: Any) -> None:
        tasks = kwargs.get("tasks") or ()
        if any(t.status in self.refuse_statuses for t in tasks):
            self.refused += 1
            raise sqlite3.OperationalError(DISK_FULL)
        await self._inner.save(**kwargs)

    async def reset_items(self, *args: Any, **kwargs: Any) -> int:
        if self.refuse_reset:
            self.refused += 1
            raise sqlite3.OperationalError(DISK_FULL)
        return await self._inner.reset_items(*args, **kwargs)


class BytesResultTask(SampleTask):
    """The sample type whose result carries bytes, which JSON cannot hold."""

    name = "BYTES_RESULT"

    def summarize(self, params: SampleParams, items: Sequence[ItemRecord]) -> dict[str, Any]:
        return {"name": b"\x00\xff"}


@pytest.fixture
async def loop_errors() -> AsyncIterator[list[dict[str, Any]]]:
    """Whatever asyncio reports to the loop's exception handler (e.g. never-retrieved errors)."""
    errors: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    yield errors
    gc.collect()  # a task whose exception was never retrieved reports it when collected
    loop.set_exception_handler(previous)


def engine_on(store: Any, recorder: Recorder, **settings: Any) -> Engine:
    registry = TaskTypeRegistry()
    registry.register(SampleTask(recorder))
    registry.register(BytesResultTask(recorder))
    return Engine(store, registry, None, EngineSettings(**settings), clock=FakeClock())


async def engine_goes_on(engine: Engine) -> None:
    """Once the disk has room again, the next task runs as usual."""
    follow_up = await engine.submit("SAMPLE", {"count": 1})
    assert (await engine.wait(follow_up.task_id)).status is TaskStatus.COMPLETED
    await engine.wait_idle()


async def test_a_full_disk_while_storing_completion_fails_the_task(
    store: SqliteTaskStore, recorder: Recorder, loop_errors: list[dict[str, Any]]
) -> None:
    failing = FailingStore(store)
    failing.refuse_statuses = {TaskStatus.COMPLETED}
    engine = engine_on(failing, recorder)
    sub = engine.bus.subscribe()
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 3})
    final = await asyncio.wait_for(engine.wait(task.task_id), 10)
    assert final.status is TaskStatus.FAILED
    assert final.error is not None and DISK_FULL in final.error
    stored = await store.get_task(task.task_id)
    assert stored is not None and stored.status is TaskStatus.FAILED  # the fallback write landed
    assert stored.error == final.error
    kinds = [e.type for e in sub.drain() if e.task_id == task.task_id and e.type.terminal]
    assert kinds == [EventType.TASK_FAILED]
    assert await engine.get_task(task.task_id) == stored
    failing.heal()
    await engine_goes_on(engine)
    await engine.stop()
    gc.collect()
    assert loop_errors == []


async def test_a_disk_that_refuses_every_write_still_ends_the_task(
    store: SqliteTaskStore, recorder: Recorder, loop_errors: list[dict[str, Any]]
) -> None:
    failing = FailingStore(store)
    failing.refuse_statuses = {TaskStatus.COMPLETED, TaskStatus.FAILED}
    engine = engine_on(failing, recorder)
    sub = engine.bus.subscribe()
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 2})
    final = await asyncio.wait_for(engine.wait(task.task_id), 10)
    assert final.status is TaskStatus.FAILED and DISK_FULL in (final.error or "")
    assert failing.refused == 2  # the outcome, then the failure: neither could be stored
    assert engine.running_count == 0 and engine.pending_count == 0
    events = [e for e in sub.drain() if e.task_id == task.task_id]
    assert any("could not be stored either" in (e.message or "") for e in events)
    assert [e.type for e in events if e.type.terminal] == [EventType.TASK_FAILED]
    await engine.stop()
    gc.collect()
    assert loop_errors == []


async def test_a_record_that_cannot_be_serialised_fails_the_task_with_why(
    store: SqliteTaskStore, recorder: Recorder, loop_errors: list[dict[str, Any]]
) -> None:
    engine = engine_on(store, recorder)
    await engine.start()
    task = await engine.submit("BYTES_RESULT", {"count": 2})
    final = await asyncio.wait_for(engine.wait(task.task_id), 10)
    assert final.status is TaskStatus.FAILED
    assert final.error is not None and "bytes" in final.error and "serializable" in final.error
    stored = await store.get_task(task.task_id)
    assert stored is not None and stored.status is TaskStatus.FAILED and stored.result is None
    # Its items were never stored before: they are now, so a retry knows what the task covers.
    items = await store.list_items(task.task_id)
    assert [i.key for i in items] == ["k0", "k1"]
    assert {i.status for i in items} == {ItemStatus.PENDING}
    await engine_goes_on(engine)
    await engine.stop()
    gc.collect()
    assert loop_errors == []


async def test_a_full_disk_while_scheduling_an_automatic_retry_fails_the_task(
    store: SqliteTaskStore, recorder: Recorder, loop_errors: list[dict[str, Any]]
) -> None:
    failing = FailingStore(store)
    failing.refuse_reset = True
    engine = engine_on(failing, recorder, item_max_attempts=1, task_max_attempts=3)
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 2, "transient_failures": {"k0": 1}})
    final = await asyncio.wait_for(engine.wait(task.task_id), 10)
    assert final.status is TaskStatus.FAILED and DISK_FULL in (final.error or "")
    stored = await store.get_task(task.task_id)
    assert stored is not None and stored.status is TaskStatus.FAILED
    assert recorder.attempts[(task.task_id, "k0")] == 1  # no retry ran behind the failure
    failing.heal()
    await engine_goes_on(engine)
    await engine.stop()
    gc.collect()
    assert loop_errors == []


async def test_a_full_disk_while_storing_a_cancel_still_ends_the_task(
    store: SqliteTaskStore, recorder: Recorder, loop_errors: list[dict[str, Any]]
) -> None:
    failing = FailingStore(store)
    failing.refuse_statuses = {TaskStatus.CANCELLED}
    engine = engine_on(failing, recorder)
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 4, "concurrency": 1, "sleep_s": 30})
    while not recorder.in_flight:
        await asyncio.sleep(0.005)
    cancelled = await asyncio.wait_for(engine.cancel(task.task_id), 10)
    assert cancelled.status is TaskStatus.FAILED and DISK_FULL in (cancelled.error or "")
    assert (await asyncio.wait_for(engine.wait(task.task_id), 10)) == cancelled
    await engine.stop()
    gc.collect()
    assert loop_errors == []
