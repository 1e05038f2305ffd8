"""Races between commands and a task's own progress: cancel, delete or a new priority arriving
while the task waits for its automatic retry, records its outcome, or writes a batch."""

from __future__ import annotations

import asyncio

import pytest

from tests.engine.sample_types import Recorder, SampleTask
from tui_updater.core.events import EventType
from tui_updater.core.models import Priority, TaskStatus
from tui_updater.errors import TaskNotFound


class GateClock:
    """Sleeps block until released: the task-level retry delay is held open on demand."""

    def __init__(self) -> None:
        self.now_s = 0.0
        self.gate = asyncio.Event()
        self.waiting = 0
        self.entered = asyncio.Event()

    def monotonic(self) -> float:
        return self.now_s

    async def sleep(self, delay_s: float) -> None:
        self.waiting += 1
        self.entered.set()
        await self.gate.wait()
        self.now_s += delay_s


async def _failing_then_waiting(store, recorder):
    from tests.engine.sample_types import sample_registry
    from tui_updater.config import EngineSettings
    from tui_updater.engine.engine import Engine

    clock = GateClock()
    engine = Engine(
        store,
        sample_registry(recorder),
        None,
        EngineSettings(item_max_attempts=1, task_max_attempts=3),
        clock=clock,
    )  # type: ignore[arg-type]
    await engine.start()
    # k0 fails transiently once; with item_max_attempts=1 the task fails retryably and waits
    # in _retry_later on the (gated) clock.
    task = await engine.submit("SAMPLE", {"count": 2, "transient_failures": {"k0": 1}})
    await asyncio.wait_for(clock.entered.wait(), 5)
    assert clock.waiting == 1 and engine.running_count == 0
    return engine, clock, task


async def test_cancel_while_waiting_for_automatic_retry_stays_cancelled(store, recorder: Recorder):
    engine, clock, task = await _failing_then_waiting(store, recorder)
    cancelled = await engine.cancel(task.task_id)
    assert cancelled.status is TaskStatus.CANCELLED
    clock.gate.set()  # the retry delay ends
    await engine.wait_idle()
    stored = await store.get_task(task.task_id)
    assert stored is not None
    assert stored.status is TaskStatus.CANCELLED, "a cancelled task came back to life"
    assert recorder.attempts[(task.task_id, "k0")] == 1, "k0 was obtained again after cancel"
    await engine.stop()


async def test_delete_while_waiting_for_automatic_retry_stays_deleted(store, recorder: Recorder):
    engine, clock, task = await _failing_then_waiting(store, recorder)
    await engine.delete(task.task_id)
    clock.gate.set()
    await engine.wait_idle()
    assert await store.get_task(task.task_id) is None, "a deleted task was re-inserted"
    with pytest.raises(TaskNotFound):
        await engine.get_task(task.task_id)
    await engine.stop()


async def test_a_task_waiting_for_retry_can_change_priority(store, recorder: Recorder):
    engine, clock, task = await _failing_then_waiting(store, recorder)
    changed = await engine.set_priority(task.task_id, "URGENT")
    assert changed.priority is Priority.URGENT and changed.status is TaskStatus.PENDING
    clock.gate.set()
    done = await engine.wait(task.task_id)
    assert done.status is TaskStatus.COMPLETED and done.priority is Priority.URGENT
    stored = await store.get_task(task.task_id)
    assert stored is not None and stored.priority is Priority.URGENT
    await engine.stop()


async def test_task_waiting_for_retry_reports_pending_not_running(store, recorder: Recorder):
    engine, clock, task = await _failing_then_waiting(store, recorder)
    # The engine shows it as pending (pending_count) but get_task says RUNNING from the store.
    assert engine.pending_count == 1
    current = await engine.get_task(task.task_id)
    assert current.status is TaskStatus.PENDING
    clock.gate.set()
    await engine.wait_idle()
    await engine.stop()


class GatedStore:
    """A real store whose reset_items / finishing save can be held open by the test."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.hold_reset = asyncio.Event()
        self.hold_reset.set()
        self.in_reset = asyncio.Event()
        self.hold_finish = asyncio.Event()
        self.hold_finish.set()
        self.in_finish = asyncio.Event()

    def __getattr__(self, name: str):
        return getattr(self._inner, name)

    async def reset_items(self, *args, **kwargs):
        self.in_reset.set()
        await self.hold_reset.wait()
        return await self._inner.reset_items(*args, **kwargs)

    async def save(self, **kwargs):
        tasks = kwargs.get("tasks") or ()
        if any(t.status is TaskStatus.COMPLETED for t in tasks):
            self.in_finish.set()
            await self.hold_finish.wait()
        return await self._inner.save(**kwargs)


def _engine(store, recorder, clock=None, **settings):
    from tests.engine.sample_types import sample_registry
    from tui_updater.config import EngineSettings
    from tui_updater.engine.clock import FakeClock
    from tui_updater.engine.engine import Engine

    return Engine(
        store,
        sample_registry(recorder),
        None,
        EngineSettings(**settings),
        clock=clock or FakeClock(),
    )  # type: ignore[arg-type]


async def test_cancel_while_the_outcome_is_being_recorded_still_ends_the_task(
    store, recorder: Recorder
):
    gated = GatedStore(store)
    engine = _engine(gated, recorder)
    sub = engine.bus.subscribe()
    await engine.start()
    gated.hold_finish.clear()
    task = await engine.submit("SAMPLE", {"count": 1})
    await asyncio.wait_for(gated.in_finish.wait(), 1)
    canceller = asyncio.create_task(engine.cancel(task.task_id))
    await asyncio.sleep(0.01)
    gated.hold_finish.set()
    await asyncio.wait_for(asyncio.gather(canceller, return_exceptions=True), 1)
    # The task finished one way or the other, and a terminal event said so: wait() returns.
    final = await asyncio.wait_for(engine.wait(task.task_id), 1)
    assert final.status.finished
    terminal = [e for e in sub.drain() if e.task_id == task.task_id and e.type.terminal]
    assert terminal, "no terminal event was published"
    await engine.stop()


async def test_cancel_while_a_retry_is_being_scheduled_does_not_strand_the_task(
    store, recorder: Recorder
):
    gated = GatedStore(store)
    engine = _engine(gated, recorder, item_max_attempts=1, task_max_attempts=3)
    await engine.start()
    gated.hold_reset.clear()
    task = await engine.submit("SAMPLE", {"count": 2, "transient_failures": {"k0": 1}})
    await asyncio.wait_for(gated.in_reset.wait(), 1)
    canceller = asyncio.create_task(engine.cancel(task.task_id))
    await asyncio.sleep(0.01)
    gated.hold_reset.set()
    await asyncio.wait_for(asyncio.gather(canceller, return_exceptions=True), 1)
    final = await asyncio.wait_for(engine.wait(task.task_id), 1)
    assert final.status is TaskStatus.CANCELLED
    await engine.wait_idle()
    stored = await store.get_task(task.task_id)
    assert stored is not None and stored.status is TaskStatus.CANCELLED
    await engine.stop()


async def test_second_cancel_during_the_first_does_not_lose_the_cancelled_event(
    store, recorder: Recorder
):
    gated = GatedStore(store)
    engine = _engine(gated, recorder)
    sub = engine.bus.subscribe()
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 4, "concurrency": 1, "sleep_s": 0.05})
    while not recorder.in_flight:
        await asyncio.sleep(0.005)
    first = asyncio.create_task(engine.cancel(task.task_id))
    await asyncio.sleep(0)  # the run is now handling the first cancellation
    await asyncio.sleep(0)
    second = asyncio.create_task(engine.cancel(task.task_id))
    await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 1)
    final = await asyncio.wait_for(engine.wait(task.task_id), 1)
    assert final.status is TaskStatus.CANCELLED
    kinds = [e.type for e in sub.drain() if e.task_id == task.task_id]
    assert kinds.count(EventType.TASK_CANCELLED) == 1
    await engine.stop()


async def test_delete_leaves_no_log_lines_of_the_task_behind(store, recorder: Recorder):
    engine = _engine(store, recorder)
    await engine.start()
    task = await engine.submit("SAMPLE", {"count": 2})
    await engine.wait(task.task_id)
    await engine.delete(task.task_id)  # its log lines are still buffered in the engine
    await engine.stop()  # flushes buffered logs
    assert await store.task_logs(task.task_id) == [], "orphan log rows of a deleted task"


class SlowApplyTask(SampleTask):
    """The sample type whose batch write waits until the test releases it."""

    name = "SLOW_APPLY"

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.release = asyncio.Event()
        self.applying = asyncio.Event()

    async def apply(self, ctx, params, batch):
        self.applying.set()
        await self.release.wait()
        return await super().apply(ctx, params, batch)


async def test_a_task_that_fails_while_a_batch_write_runs_is_stored_failed(
    store, recorder: Recorder
):
    from tui_updater.config import EngineSettings
    from tui_updater.engine.clock import FakeClock
    from tui_updater.engine.engine import Engine
    from tui_updater.tasks.registry import TaskTypeRegistry

    slow = SlowApplyTask(recorder)
    registry = TaskTypeRegistry()
    registry.register(slow)
    engine = Engine(store, registry, None, EngineSettings(), clock=FakeClock())  # type: ignore[arg-type]
    await engine.start()
    # k0 is obtained and its batch write starts (held open); k1 hits a bug in obtain meanwhile.
    task = await engine.submit(
        "SLOW_APPLY", {"count": 2, "batchSize": 1, "concurrency": 2, "crash": ["k1"]}
    )
    await asyncio.wait_for(slow.applying.wait(), 1)
    for _ in range(100):
        if (task.task_id, "k1") in recorder.attempts:
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.02)
    slow.release.set()
    final = await asyncio.wait_for(engine.wait(task.task_id), 1)
    assert final.status is TaskStatus.FAILED
    for _ in range(20):  # give a write that outlived the run time to land
        await asyncio.sleep(0.005)
    stored = await store.get_task(task.task_id)
    assert stored is not None and stored.status is TaskStatus.FAILED, (
        f"stored as {stored.status if stored else None} after the failure was recorded"
    )
    items = {i.key: i.status.value for i in await store.list_items(task.task_id)}
    assert items["k0"] == "DONE", f"k0 was written to the database but is stored as {items['k0']}"
    await engine.stop()


async def test_pause_lets_in_flight_items_finish_including_their_write(store, recorder: Recorder):
    engine = _engine(store, recorder)
    await engine.start()
    task = await engine.submit(
        "SAMPLE", {"count": 4, "batchSize": 3, "concurrency": 1, "sleep_s": 0.02}
    )
    while not recorder.in_flight:
        await asyncio.sleep(0.002)
    await engine.pause()  # k0 is in flight: it should finish, write included
    for _ in range(100):
        if recorder.applied:
            break
        await asyncio.sleep(0.005)
    assert (task.task_id, "k0") in recorder.applied, "k0 was obtained but not written"
    await engine.resume()
    await engine.wait(task.task_id)
    await engine.stop()
