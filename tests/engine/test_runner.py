"""The one runner path: concurrency 1 is the sequential loop; more never stalls on a batch write."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Sequence
from typing import Any

import pytest

from tests.engine.sample_types import Recorder, SampleParams, SampleTask
from tui_updater.config import EngineSettings
from tui_updater.core.models import ItemRecord, TaskStatus
from tui_updater.engine.clock import FakeClock
from tui_updater.engine.engine import Engine
from tui_updater.store.sqlite import SqliteTaskStore
from tui_updater.tasks.base import ItemOutcome, ItemSpec, TaskContext
from tui_updater.tasks.registry import TaskTypeRegistry


class TracedTask(SampleTask):
    """The sample type that logs when each obtain and each batch write begins and ends."""

    name = "TRACED"

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.trace: list[str] = []
        self.hold_obtain: set[str] = set()  # keys whose obtain waits for release_obtains
        self.release_obtains = asyncio.Event()
        self.hold_apply = False
        self.release_apply = asyncio.Event()
        self.applying = False

    async def obtain(
        self, ctx: TaskContext, params: SampleParams, item: ItemRecord
    ) -> dict[str, Any]:
        self.trace.append(f"obtain {item.key}")
        if item.key in self.hold_obtain:
            self.recorder.in_flight += 1
            try:
                await self.release_obtains.wait()
            finally:
                self.recorder.in_flight -= 1
        await asyncio.sleep(0)  # a real call yields at least once
        result = await super().obtain(ctx, params, item)
        self.trace.append(f"obtained {item.key}")
        return result

    async def apply(
        self,
        ctx: TaskContext,
        params: SampleParams,
        batch: Sequence[tuple[ItemRecord, dict[str, Any]]],
    ) -> Sequence[ItemOutcome]:
        keys = " ".join(item.key for item, _ in batch)
        self.trace.append(f"apply {keys}")
        self.applying = True
        if self.hold_apply:
            await self.release_apply.wait()
        await asyncio.sleep(0)
        outcomes = await super().apply(ctx, params, batch)
        self.applying = False
        self.trace.append(f"applied {keys}")
        return outcomes


def traced_engine(store: SqliteTaskStore, traced: TracedTask) -> Engine:
    registry = TaskTypeRegistry()
    registry.register(traced)
    return Engine(store, registry, None, EngineSettings(), clock=FakeClock())


async def test_concurrency_one_obtains_and_applies_strictly_in_turn(
    store: SqliteTaskStore, recorder: Recorder
) -> None:
    traced = TracedTask(recorder)
    engine = traced_engine(store, traced)
    await engine.start()
    task = await engine.submit("TRACED", {"count": 5, "batchSize": 2, "concurrency": 1})
    assert (await engine.wait(task.task_id)).status is TaskStatus.COMPLETED
    assert traced.trace == [
        "obtain k0",
        "obtained k0",
        "obtain k1",
        "obtained k1",
        "apply k0 k1",
        "applied k0 k1",
        "obtain k2",
        "obtained k2",
        "obtain k3",
        "obtained k3",
        "apply k2 k3",
        "applied k2 k3",
        "obtain k4",
        "obtained k4",
        "apply k4",  # the final batch: stored with the finished task
        "applied k4",
    ]
    await engine.stop()


async def test_a_batch_write_does_not_lower_the_obtain_concurrency(
    store: SqliteTaskStore, recorder: Recorder
) -> None:
    traced = TracedTask(recorder)
    traced.hold_obtain = {"k1", "k2", "k3"}
    traced.hold_apply = True
    engine = traced_engine(store, traced)
    await engine.start()
    # k0 comes back at once and fills a batch; while it is written, k1 and k2 are obtained.
    task = await engine.submit("TRACED", {"count": 4, "batchSize": 1, "concurrency": 2})
    for _ in range(200):
        if traced.applying and recorder.in_flight == 2:
            break
        await asyncio.sleep(0.005)
    assert traced.applying and recorder.in_flight == 2, (
        f"{recorder.in_flight} obtain(s) in flight while a batch was written"
    )
    traced.release_apply.set()
    traced.release_obtains.set()
    done = await engine.wait(task.task_id)
    assert done.status is TaskStatus.COMPLETED and done.counts.done == 4
    assert recorder.max_in_flight <= 2
    await engine.stop()


class ContextKeeper(SampleTask):
    """The sample type that keeps a weak reference to each run's context."""

    name = "KEEPER"

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.contexts: list[weakref.ref[TaskContext]] = []

    async def select(self, ctx: TaskContext, params: SampleParams) -> Sequence[ItemSpec]:
        self.contexts.append(weakref.ref(ctx))
        return await super().select(ctx, params)


async def test_a_finished_run_is_freed_without_the_cyclic_collector(
    store: SqliteTaskStore, recorder: Recorder
) -> None:
    """A run and its context are freed when the task ends: a reference cycle between them would
    leave every finished task's objects to the cyclic collector (its passes cost the queue)."""
    keeper = ContextKeeper(recorder)
    registry = TaskTypeRegistry()
    registry.register(keeper)
    engine = Engine(store, registry, None, EngineSettings(), clock=FakeClock())
    await engine.start()
    gc.collect()
    gc.disable()
    try:
        task = await engine.submit("KEEPER", {"count": 2})
        assert (await engine.wait(task.task_id)).status is TaskStatus.COMPLETED
        await engine.wait_idle()
        for _ in range(3):  # the run's coroutine returns just after its waiters are released
            await asyncio.sleep(0)
        assert keeper.contexts and keeper.contexts[0]() is None
    finally:
        gc.enable()
        await engine.stop()


async def _held_in_write(engine: Engine, traced: TracedTask, params: dict[str, Any]) -> str:
    """Submit a task and return its id once its first batch write has begun and is held."""
    traced.hold_apply = True
    task = await engine.submit("TRACED", params)
    for _ in range(400):
        if traced.applying:
            return task.task_id
        await asyncio.sleep(0.005)
    raise AssertionError(f"no batch write began: {traced.trace}")


@pytest.mark.parametrize(
    ("params", "written"),
    [
        ({"count": 4, "batchSize": 2, "concurrency": 1}, ["k0", "k1"]),  # a batch mid-run
        ({"count": 2, "batchSize": 2, "concurrency": 1}, ["k0", "k1"]),  # the final batch
    ],
)
async def test_a_cancel_during_a_batch_write_lets_the_write_finish_and_be_recorded(
    store: SqliteTaskStore, recorder: Recorder, params: dict[str, Any], written: list[str]
) -> None:
    traced = TracedTask(recorder)
    engine = traced_engine(store, traced)
    await engine.start()
    task_id = await _held_in_write(engine, traced, params)
    cancel = asyncio.create_task(engine.cancel(task_id))
    await asyncio.sleep(0.02)
    assert not cancel.done()  # the write under way is not interrupted…
    traced.release_apply.set()
    cancelled = await asyncio.wait_for(cancel, 5)
    assert cancelled.status is TaskStatus.CANCELLED
    assert f"applied {' '.join(written)}" in traced.trace  # …it finished…
    assert "obtain k2" not in traced.trace  # …and nothing started after it
    done = [i.key for i in await store.list_items(task_id) if i.status.value == "DONE"]
    assert done == written  # its outcomes are stored with the cancelled task
    stored = await store.get_task(task_id)  # and no progress record stored after the final one
    assert stored is not None and stored.status is TaskStatus.CANCELLED
    await engine.stop()


async def test_a_stop_during_a_batch_write_stores_the_write_and_resumes_the_rest_later(
    store: SqliteTaskStore, recorder: Recorder
) -> None:
    traced = TracedTask(recorder)
    engine = traced_engine(store, traced)
    await engine.start()
    task_id = await _held_in_write(engine, traced, {"count": 4, "batchSize": 2, "concurrency": 1})
    stop = asyncio.create_task(engine.stop())
    await asyncio.sleep(0.02)
    assert not stop.done()
    traced.release_apply.set()
    await asyncio.wait_for(stop, 5)
    stored = await store.get_task(task_id)
    assert stored is not None and stored.status is TaskStatus.PENDING  # resumes on next start
    items = {i.key: i.status.value for i in await store.list_items(task_id)}
    assert items == {"k0": "DONE", "k1": "DONE", "k2": "PENDING", "k3": "PENDING"}


class HeldSaves(SqliteTaskStore):
    """tasks.db whose storing of written items waits for ``release`` (or fails, ``fail``)."""

    def __init__(self, path: Any) -> None:
        super().__init__(path, synchronous="NORMAL")
        self.release = asyncio.Event()
        self.fail = False
        self.held = 0

    async def save(self, *, items: Sequence[ItemRecord] = (), **rest: Any) -> None:
        written = (*items, *rest.get("new_items", ()))  # a first write inserts them as they are
        if any(i.status.value == "DONE" for i in written) and not self.release.is_set():
            if self.fail:
                self.release.set()  # once
                raise OSError("disk I/O error")
            self.held += 1
            await self.release.wait()
        await super().save(items=items, **rest)


async def test_the_next_batch_is_written_while_the_last_ones_outcomes_are_stored(
    tmp_path: Any, recorder: Recorder
) -> None:
    store = HeldSaves(tmp_path / "held.db")
    await store.open()
    traced = TracedTask(recorder)
    engine = traced_engine(store, traced)
    await engine.start()
    task = await engine.submit("TRACED", {"count": 6, "batchSize": 2, "concurrency": 1})
    for _ in range(400):
        if "applied k2 k3" in traced.trace:
            break
        await asyncio.sleep(0.005)
    assert "applied k2 k3" in traced.trace  # written while k0 k1 are still being stored
    assert store.held == 1  # and its own outcomes wait for those first: one at a time
    store.release.set()
    done = await asyncio.wait_for(engine.wait(task.task_id), 5)
    assert done.status is TaskStatus.COMPLETED
    assert {i.status.value for i in await store.list_items(task.task_id)} == {"DONE"}
    await engine.stop()
    await store.close()


async def test_outcomes_that_could_not_be_stored_fail_the_run(
    tmp_path: Any, recorder: Recorder
) -> None:
    store = HeldSaves(tmp_path / "held.db")
    store.fail = True
    await store.open()
    traced = TracedTask(recorder)
    engine = traced_engine(store, traced)
    await engine.start()
    task = await engine.submit("TRACED", {"count": 6, "batchSize": 2, "concurrency": 1})
    ended = await asyncio.wait_for(engine.wait(task.task_id), 5)
    assert ended.status is TaskStatus.FAILED and "disk I/O error" in (ended.error or "")
    await engine.stop()
    await store.close()
